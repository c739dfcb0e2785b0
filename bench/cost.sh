#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# bench/cost.sh - BPF time per transition of one tracer, from the kernel's BPF statistics,
# under loadgen churn in a network namespace made here (as root).
#
#   bench/cost.sh TRACER [N] [KIND]
#
# TRACER is a tcpstatehist binary (run as `TRACER --no-audit -f json -N NS 100 $TSH_ARGS`,
# e.g. TSH_ARGS="--by port") or the word "empty" (.output/bench/empty_loader). Prints one line per program of the tracer:
#   NAME RUNS NS_PER_RUN RECURSION_MISSES
# and "total NS" (the sum over the programs: every transition runs each of them once).
# kernel.bpf_stats_enabled is set for the loadgen run only and restored, also on error.
set -u
TRACER=${1:?usage: bench/cost.sh TRACER [N] [KIND]}
N=${2:-100000}
KIND=${3:-sfin}
cd "$(dirname "$0")/.." || exit 1
LOADGEN=.output/loadgen
EMPTY=.output/bench/empty_loader
[ "$(id -u)" = 0 ] || { echo "cost: run as root" >&2; exit 1; }
[ -x "$LOADGEN" ] || { echo "cost: $LOADGEN missing (make bench builds it)" >&2; exit 1; }

NS=tshcost$$
STATS_OLD=$(sysctl -n kernel.bpf_stats_enabled)
PID=
OUT=$(mktemp)
cleanup() {
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$STATS_OLD"
	ip netns del "$NS" 2>/dev/null
	rm -f "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" || exit 1
ip netns exec "$NS" ip link set lo up
if [ "$TRACER" = empty ]; then
	"$EMPTY" >"$OUT" 2>&1 &
else
	# shellcheck disable=SC2086 # TSH_ARGS is words
	"$TRACER" --no-audit -f json -N /run/netns/"$NS" 100 ${TSH_ARGS:-} >"$OUT" 2>&1 &
fi
PID=$!
for _ in $(seq 500); do
	grep -q '^link_id:' /proc/"$PID"/fdinfo/* 2>/dev/null && break
	kill -0 "$PID" 2>/dev/null || { cat "$OUT" >&2; exit 1; }
	sleep 0.01
done
sleep 0.3
IDS=$(awk '/^prog_id:/ {print $2}' /proc/"$PID"/fdinfo/* 2>/dev/null | sort -un)
stats() {
	bpftool prog show -j | python3 -c '
import json, sys
want = set(sys.argv[1:])
for p in json.load(sys.stdin):
    if str(p["id"]) in want:
        print(p["id"], p.get("name", "?"), p.get("run_cnt", 0), p.get("run_time_ns", 0),
              p.get("recursion_misses", 0))' $IDS
}
sysctl -qw kernel.bpf_stats_enabled=1
S0=$(stats)
ip netns exec "$NS" "$LOADGEN" -n "$N" -t 2 -c "$KIND" -d 120 >/dev/null || exit 1
S1=$(stats)
sysctl -qw kernel.bpf_stats_enabled="$STATS_OLD"
python3 - "$S0" "$S1" <<'EOF'
import sys
before = {l.split()[0]: l.split() for l in sys.argv[1].splitlines()}
total = 0.0
for line in sys.argv[2].splitlines():
    i, name, runs, ns, misses = line.split()
    if i not in before:
        continue
    b = before[i]
    runs, ns, misses = int(runs) - int(b[2]), int(ns) - int(b[3]), int(misses) - int(b[4])
    per = ns / max(runs, 1)
    total += per
    print("%s %d %.1f %d" % (name, runs, per, misses))
print("total %.1f" % total)
EOF
