#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# bench/ablate.sh - where tsh_main's time goes: builds of the committed tree with one part
# taken out or put back (bench/ablation.patch adds the switches), each measured with
# bench/cost.sh, interleaved ROUNDS times; prints the median ns per run of tsh_main and of
# tsh_recover for each. As root, after `make bench`. The builds land in .output/ablate/.
#
#   full          the committed program
#   inode-netns   -N compares the namespace's inode number, not its cookie
#   close-storage a socket reaching CLOSE while held moves to socket storage (the first design)
#   no-ktime      the clock read replaced by a constant
#   no-start      no start times at all (no cookie, no slot): a made-up duration
#   no-record     filters and the token only: no histogram, no clock, no start time
#   bare          one map lookup and two increments: no filter, no record, no token
#   empty         .output/bench/empty_loader: an empty program, the dispatch alone
#
# Env: ROUNDS (3) N (100000) KIND (sfin)
set -u
ROUNDS=${ROUNDS:-3}
N=${N:-100000}
KIND=${KIND:-sfin}
cd "$(dirname "$0")/.." || exit 1
[ "$(id -u)" = 0 ] || { echo "ablate: run as root" >&2; exit 1; }
OUT=.output/ablate
SRC=$OUT/src
rm -rf "$SRC"
mkdir -p "$SRC"
git archive HEAD | tar -x -C "$SRC" || exit 1
(cd "$SRC" && patch -s -p1 <bench/ablation.patch) || { echo "ablate: patch failed" >&2; exit 1; }

declare -A FLAGS=(
	[full]=""
	[inode-netns]="-DABL_INODE_NETNS"
	[close-storage]="-DABL_CLOSE_STORAGE"
	[no-ktime]="-DABL_NO_KTIME"
	[no-start]="-DABL_NO_START"
	[no-record]="-DABL_NO_RECORD"
	[bare]="-DABL_BARE"
)
VARIANTS="full inode-netns close-storage no-ktime no-start no-record bare empty"
for v in $VARIANTS; do
	[ "$v" = empty ] && continue
	make -s -C "$SRC" OUTPUT=.output/$v EXTRA_BPF_CFLAGS="${FLAGS[$v]}" \
		.output/$v/tcpstatehist >"$OUT/build-$v.log" 2>&1 ||
		{ echo "ablate: build $v failed: $OUT/build-$v.log" >&2; exit 1; }
done

: >"$OUT/rows"
for r in $(seq "$ROUNDS"); do
	for v in $VARIANTS; do
		tracer=$SRC/.output/$v/tcpstatehist
		[ "$v" = empty ] && tracer=empty
		bench/cost.sh "$tracer" "$N" "$KIND" | awk -v v="$v" -v r="$r" \
			'$1 != "total" {print v, r, $1, $3}' >>"$OUT/rows" ||
			{ echo "ablate: $v failed" >&2; exit 1; }
	done
done
python3 - "$OUT/rows" "$VARIANTS" "$ROUNDS" "$N" "$KIND" <<'EOF'
import statistics, sys
rows, variants, rounds, n, kind = sys.argv[1:]
ns = {}
for line in open(rows):
    v, r, prog, per = line.split()
    ns.setdefault((v, prog), []).append(float(per))
print("ablation: %s rounds, loadgen -n %s -t 2 -c %s, median ns per run (all rounds)" %
      (rounds, n, kind))
print("%-14s %10s %12s  %s" % ("variant", "tsh_main", "tsh_recover", "rounds (main)"))
for v in variants.split():
    main = ns.get((v, "tsh_main")) or ns.get((v, "tsh_bench_empty"), [])
    rec = ns.get((v, "tsh_recover"), [])
    print("%-14s %10.1f %12s  %s" % (v, statistics.median(main),
          "%.1f" % statistics.median(rec) if rec else "-",
          " ".join("%.1f" % x for x in main)))
EOF
