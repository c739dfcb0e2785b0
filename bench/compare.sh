#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# bench/compare.sh - the BPF time per transition of two tcpstatehist builds and of the empty
# program, measured with bench/cost.sh in interleaved rounds, so that both see the same machine.
# As root, after `make bench`.
#
#   bench/compare.sh OLD_BINARY NEW_BINARY [ROUNDS] [N] [KIND]
#
# To compare against an earlier commit, build it beside the tree first:
#   git archive REV | tar -x -C /tmp/old && make -C /tmp/old tcpstatehist
# Prints every round's "total" (ns per transition, all programs of the tracer) and the medians.
set -u
OLD=${1:?usage: bench/compare.sh OLD_BINARY NEW_BINARY [ROUNDS] [N] [KIND]}
NEW=${2:?usage: bench/compare.sh OLD_BINARY NEW_BINARY [ROUNDS] [N] [KIND]}
ROUNDS=${3:-5}
N=${4:-100000}
KIND=${5:-sfin}
cd "$(dirname "$0")/.." || exit 1
ROWS=$(mktemp)
trap 'rm -f "$ROWS"' EXIT

for r in $(seq "$ROUNDS"); do
	for v in old new empty; do
		case $v in
		old) tracer=$OLD ;;
		new) tracer=$NEW ;;
		empty) tracer=empty ;;
		esac
		bench/cost.sh "$tracer" "$N" "$KIND" | awk -v v="$v" '$1 == "total" {print v, $2}' \
			>>"$ROWS" || { echo "compare: $v failed" >&2; exit 1; }
	done
done
python3 - "$ROWS" "$ROUNDS" "$N" "$KIND" <<'PY'
import statistics, sys
rows, rounds, n, kind = sys.argv[1:]
ns = {}
for line in open(rows):
    v, total = line.split()
    ns.setdefault(v, []).append(float(total))
print("compare: %s rounds, loadgen -n %s -c %s, ns per transition (all programs)" % (rounds, n, kind))
for v in ("old", "new", "empty"):
    print("%-6s median %7.1f   rounds %s" % (v, statistics.median(ns[v]),
                                              " ".join("%.1f" % x for x in ns[v])))
PY
