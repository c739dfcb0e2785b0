#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# bench/soak.sh - a long run of connection churn with the live view at a 1-second interval.
#
# As root, from the repository top (after `make` and `make .output/loadgen`):
#	bench/soak.sh                      # one hour
#	SOAK_SECONDS=60 bench/soak.sh      # a short check
#
# In a network namespace of its own it runs loadgen in rounds (-c rst and -c sfin alternating,
# SOAK_ROUND_N connections each, SOAK_PAUSE seconds apart: light, so it leaves CPU to
# others and to bench/run.sh) with
# `tcpstatehist -f json -N /run/netns/NS 1` attached the whole time. Every ~10 s it samples the
# tool's VmRSS and open file descriptors. At the end it compares, per transition pair, what the
# tool counted (sum of all its interval lines) with what loadgen said it emitted (sum of its -j
# output over all rounds), and reports missed and RSS/fd first, last and max.
#
# Output: bench/results/soak-YYYYMMDD-HHMM.txt (small, committed); raw files in
# .output/soak-YYYYMMDD-HHMM/ (the live view's JSON Lines, loadgen's JSON per round, samples).
set -u

SOAK_SECONDS=${SOAK_SECONDS:-3600}
SOAK_ROUND_N=${SOAK_ROUND_N:-5000}
SOAK_THREADS=${SOAK_THREADS:-1}
SOAK_PAUSE=${SOAK_PAUSE:-2}
SOAK_SAMPLE_S=${SOAK_SAMPLE_S:-10}
NS=${SOAK_NS:-tshsoak$$}

cd "$(dirname "$0")/.." || exit 1
TOOL=./tcpstatehist
LOADGEN=.output/loadgen
[ "$(id -u)" = 0 ] || { echo "soak: run as root" >&2; exit 1; }
[ -x $TOOL ] && [ -x $LOADGEN ] || { echo "soak: run make and make .output/loadgen first" >&2; exit 1; }

STAMP=$(date +%Y%m%d-%H%M)
RAW=.output/soak-$STAMP
RESULT=${SOAK_RESULT:-bench/results/soak-$STAMP.txt}
mkdir -p "$RAW" bench/results
LIVE=$RAW/live.jsonl
ROUNDS=$RAW/loadgen.jsonl
SAMPLES=$RAW/samples.tsv
: >"$ROUNDS"

TOOL_PID=
cleanup() {
	[ -n "$TOOL_PID" ] && kill -TERM "$TOOL_PID" 2>/dev/null && wait "$TOOL_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" || exit 1
ip netns exec "$NS" ip link set lo up || exit 1

$TOOL -f json -N /run/netns/"$NS" 1 >"$LIVE" 2>"$RAW/tool.stderr" &
TOOL_PID=$!
# attached when it holds its two BPF links
for _ in $(seq 100); do
	n=$(grep -l '^link_id:' /proc/$TOOL_PID/fdinfo/* 2>/dev/null | wc -l)
	[ "$n" -ge 2 ] && break
	sleep 0.05
done
kill -0 $TOOL_PID 2>/dev/null || { echo "soak: tcpstatehist did not start:" >&2; cat "$RAW/tool.stderr" >&2; exit 1; }
sleep 1.2

sample() {
	local rss fds
	rss=$(awk '/^VmRSS:/ {print $2}' /proc/$TOOL_PID/status 2>/dev/null)
	fds=$(ls /proc/$TOOL_PID/fd 2>/dev/null | wc -l)
	echo "$(( $(date +%s) - START ))	${rss:-NA}	$fds" >>"$SAMPLES"
}

START=$(date +%s)
END=$((START + SOAK_SECONDS))
printf 't_s\trss_kb\tfds\n' >"$SAMPLES"
sample
NEXT_SAMPLE=$((START + SOAK_SAMPLE_S))
round=0
failed=0
while [ "$(date +%s)" -lt "$END" ]; do
	if [ $((round % 2)) = 0 ]; then kind=rst; else kind=sfin; fi
	# bounded: -n connections, -d 20 s at most
	if ! ip netns exec "$NS" timeout 60 $LOADGEN -n "$SOAK_ROUND_N" -d 20 -t "$SOAK_THREADS" \
		-c $kind -j >>"$ROUNDS" 2>>"$RAW/loadgen.stderr"; then
		failed=$((failed + 1))
		echo "round $round ($kind) failed" >>"$RAW/loadgen.stderr"
		[ $failed -ge 5 ] && { echo "soak: 5 loadgen rounds failed, see $RAW" >&2; break; }
	fi
	round=$((round + 1))
	now=$(date +%s)
	if [ "$now" -ge "$NEXT_SAMPLE" ]; then
		sample
		NEXT_SAMPLE=$((now + SOAK_SAMPLE_S))
	fi
	kill -0 $TOOL_PID 2>/dev/null || { echo "soak: tcpstatehist died" >&2; break; }
	sleep "$SOAK_PAUSE"
done
# let the live view print the interval that holds the last round, then stop it
sleep 2.5
sample
ALIVE=yes
kill -0 $TOOL_PID 2>/dev/null || ALIVE=no
# the tool's CPU time (utime + stime) over its whole life, in seconds
CPU_S=$(awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' /proc/$TOOL_PID/stat 2>/dev/null)
kill -TERM $TOOL_PID 2>/dev/null
wait $TOOL_PID
TOOL_RC=$?
TOOL_PID=
ELAPSED=$(( $(date +%s) - START ))

python3 - "$LIVE" "$ROUNDS" "$SAMPLES" "$ELAPSED" "$round" "$failed" "$ALIVE" "$TOOL_RC" \
	"$SOAK_ROUND_N" "$SOAK_THREADS" "$SOAK_PAUSE" "$(uname -r)" "$(nproc)" "${CPU_S:-0}" \
	"$(git rev-parse --short HEAD 2>/dev/null)" >"$RESULT" <<'EOF'
import json, sys
(live, rounds, samples, elapsed, nrounds, failed, alive, rc, rn, th, pause, kern, ncpu, cpu,
 rev) = sys.argv[1:]
got, missed, lines, bad = {}, 0, 0, 0
for l in open(live):
    try:
        o = json.loads(l)
    except ValueError:
        bad += 1
        continue
    lines += 1
    missed += o["missed"]
    for t in o["transitions"]:
        k = (t["old_state"], t["new_state"])
        got[k] = got.get(k, 0) + t["count"]
exp, conns, retries, kinds = {}, 0, 0, {}
for l in open(rounds):
    o = json.loads(l)
    conns += o["connections"]
    retries += o["connect_retries"]
    kinds[o["close"]] = kinds.get(o["close"], 0) + 1
    for p in o["expected"]["by_pair"]:
        k = (p["from"], p["to"])
        exp[k] = exp.get(k, 0) + p["count"]
rows = [l.split("\t") for l in open(samples).read().split("\n")[1:] if l]
rss = [int(r[1]) for r in rows if r[1] != "NA"]
fds = [int(r[2]) for r in rows]
print("tcpstatehist soak: %s s of churn, live view -f json -N NS 1 (working tree at %s)"
      % (elapsed, rev))
print("kernel %s, %s CPUs; loadgen rounds: %s (%s), %s connections each, -t %s, %s s pause"
      % (kern, ncpu, nrounds, ", ".join("%s %d" % kv for kv in sorted(kinds.items())), rn, th, pause))
print("connections %d, connect retries %d, failed rounds %s" % (conns, retries, failed))
print("live view: %d JSON lines (%d unparsable), alive at the end: %s, exit status after SIGINT: %s"
      % (lines, bad, alive, rc))
print()
print("%-12s %-12s %12s %12s %10s" % ("OLD", "NEW", "expected", "counted", "diff"))
te = tg = 0
for k in sorted(set(exp) | set(got)):
    e, g = exp.get(k, 0), got.get(k, 0)
    te += e
    tg += g
    print("%-12s %-12s %12d %12d %10d" % (k[0], k[1], e, g, g - e))
print("%-25s %12d %12d %10d" % ("total", te, tg, tg - te))
print("missed (kernel-counted skips): %d; unaccounted: %d" % (missed, te - tg - missed))
print()
if rss:
    print("VmRSS kB: first %d, last %d, max %d, min %d (%d samples every ~10 s)"
          % (rss[0], rss[-1], max(rss), min(rss), len(rss)))
print("tool CPU (utime+stime): %s s, %.3f ms per interval" % (cpu, 1000.0 * float(cpu) / max(lines, 1)))
if fds:
    print("open fds: first %d, last %d, max %d, min %d" % (fds[0], fds[-1], max(fds), min(fds)))
EOF
cat "$RESULT"
echo "soak: results in $RESULT, raw files in $RAW"
