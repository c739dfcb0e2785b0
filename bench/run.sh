#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# bench/run.sh - overhead and exactness of tcpstatehist against no tracer, the classic
# tcpstates and an empty program, interleaved in one invocation (`make bench`, as root).
#
# The machine is assumed noisy: configurations run interleaved (A B C D A B C D ...) and only
# ratios within one run are reported.
#   A  no tracer
#   B  tcpstatehist live view: -f json -N /run/netns/NS 1, output to a file
#   C  classic tcpstates (libbpf-tools), output to /dev/null
#   D  an empty tp_btf program on sock:inet_sock_set_state (.output/bench/empty_loader)
#   E  B with --no-audit: the difference to B is the audit's cost (rate only: no BPF time)
#   T  tcpstatehist trace -N NS >/dev/null: a text record per transition (against A and C)
#   M  tcpstatehist trace --min-duration 1s -N NS >/dev/null (against B: the filtered trace)
# Each round: loadgen -n N -t 2 -c KIND in a network namespace made here.
#
# Phase 1 (rate): ROUNDS x (A B C D) per KIND, kernel.bpf_stats_enabled off: connections/s,
#   tracer CPU time, counts.
# Phase 2 (cost): STATS_ROUNDS x (B C D) with kernel.bpf_stats_enabled=1 (restored after):
#   ns per program run from bpftool's run_time_ns / run_cnt. Stats add overhead (two clock
#   reads per run), so no rate is taken from this phase.
# Phase 3: tcpstates with its output counted (lines vs expected); tcpstatehist start-to-
#   attached; the cost of one interval read (`snapshot` against an attached pin set).
# Phase 4 (scale, SCALE=0 skips): loadgen -H SCALE_N held at once, then closed, with
#   tcpstatehist and then with tcpstates: unknown / zero durations and map memory.
#
# Env: ROUNDS (3) STATS_ROUNDS (2) N (200000) KINDS ("sfin"; "sfin rst" for both) SCALE (1)
# SCALE_N (100000) SCALE_HOLD_MS (10000) SCALE_PER (9000) CONFIGS ("A B E P G C D T M": phase
# 1's configurations, in their order; phase 2 measures those of B C D P G T M among them; P and
# G are B with --by port and --by cgroup, T and M the trace)
# Output: a summary on stdout and in bench/results/bench-DATE.txt; raw rows in
# .output/bench-DATE/rows.jsonl.
set -u

ROUNDS=${ROUNDS:-3}
STATS_ROUNDS=${STATS_ROUNDS:-2}
N=${N:-200000}
KINDS=${KINDS:-sfin}
CONFIGS=${CONFIGS:-A B E P G C D T M}
SCALE=${SCALE:-1}
SCALE_N=${SCALE_N:-100000}
SCALE_HOLD_MS=${SCALE_HOLD_MS:-10000}
SCALE_PER=${SCALE_PER:-9000}
PORT=23000	# below the ephemeral range: tcpstates' lines are told apart by port

cd "$(dirname "$0")/.." || exit 1
TOOL=${TOOL:-./tcpstatehist}	# e.g. a build of a fixed commit (git archive)
LOADGEN=.output/loadgen
EMPTY=.output/bench/empty_loader
TCPSTATES=${TCPSTATES:-/usr/sbin/tcpstates}
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
for f in $TOOL $LOADGEN $EMPTY $TCPSTATES; do
	[ -x "$f" ] || { echo "bench: $f missing (make bench builds it)" >&2; exit 1; }
done

STAMP=$(date +%Y%m%d-%H%M)
RAW=.output/bench-$STAMP
RESULT=${BENCH_RESULT:-bench/results/bench-$STAMP.txt}
mkdir -p "$RAW" "$(dirname "$RESULT")"
ROWS=$RAW/rows.jsonl
: >"$ROWS"
NS=tshbench$$
PIN=/sys/fs/bpf/tshbench$$
HZ=$(getconf CLK_TCK)
STATS_OLD=$(sysctl -n kernel.bpf_stats_enabled)
TRACER=

cleanup() {
	[ -n "$TRACER" ] && kill -TERM "$TRACER" 2>/dev/null && wait "$TRACER" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$STATS_OLD"
	[ -d "$PIN" ] && $TOOL detach --pin-path "$PIN" >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" || exit 1
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535

now_ns() { date +%s%N; }
links_of() { grep -l '^link_id:' /proc/"$1"/fdinfo/* 2>/dev/null | wc -l; }
progs_of() { awk '/^prog_id:/ {print $2}' /proc/"$1"/fdinfo/* 2>/dev/null | sort -un; }
memlock_of() {	# bytes_memlock of the tracer's maps, summed
	# fdinfo of a map: map_type, memlock, map_id, in that order
	awk 'FNR == 1 {v = 0} /^memlock:/ {v = $2} /^map_id:/ {s += v} END {print s + 0}' \
		/proc/"$1"/fdinfo/* 2>/dev/null
}
# trace_lost_of PID: the records trace's ring had no room for so far (its trace_lost map)
trace_lost_of() {
	local id
	for id in $(awk '/^map_id:/ {print $2}' /proc/"$1"/fdinfo/* 2>/dev/null); do
		bpftool map show id "$id" -j 2>/dev/null | grep -q '"name":"trace_lost"' || continue
		bpftool map dump id "$id" -j | python3 -c '
import json, sys
def ints(v):
    if isinstance(v, int): return v
    if isinstance(v, dict): return sum(ints(x) for k, x in v.items() if k != "cpu")
    if isinstance(v, list): return sum(ints(x) for x in v)
    return 0
print(sum(ints(e.get("formatted", e).get("values", [])) for e in json.load(sys.stdin)))'
		return
	done
	echo 0
}
cpu_of() { awk -v hz="$HZ" '{print ($14 + $15) / hz}' /proc/"$1"/stat 2>/dev/null || echo 0; }
# "id name run_cnt run_time_ns recursion_misses" per program, all from one bpftool call
prog_stats() {
	bpftool prog show -j 2>/dev/null | python3 -c '
import json, sys
want = set(sys.argv[1:])
for p in json.load(sys.stdin):
    if str(p["id"]) in want:
        print(p["id"], p.get("name", "?"), p.get("run_cnt", 0), p.get("run_time_ns", 0),
              p.get("recursion_misses", 0))' "$@"
}

# start_tracer CFG OUTFILE ERRFILE: sets TRACER and ATTACH_MS (start to all links attached)
start_tracer() {
	local cfg=$1 out=$2 err=$3 want t0
	TRACER=
	ATTACH_MS=
	t0=$(now_ns)
	case $cfg in
	A) return 0 ;;
	B) $TOOL -f json -N /run/netns/"$NS" 1 >"$out" 2>"$err" & want=2 ;;
	E) $TOOL --no-audit -f json -N /run/netns/"$NS" 1 >"$out" 2>"$err" & want=2 ;;
	P) $TOOL --by port -f json -N /run/netns/"$NS" 1 >"$out" 2>"$err" & want=2 ;;
	G) $TOOL --by cgroup -f json -N /run/netns/"$NS" 1 >"$out" 2>"$err" & want=2 ;;
	C) $TCPSTATES >"$out" 2>"$err" & want=1 ;;
	D) $EMPTY >"$out" 2>"$err" & want=1 ;;
	T) $TOOL trace -N /run/netns/"$NS" >/dev/null 2>"$err" & want=2 ;;
	M) $TOOL trace --min-duration 1s -N /run/netns/"$NS" >/dev/null 2>"$err" & want=2 ;;
	esac
	TRACER=$!
	for _ in $(seq 2000); do
		[ "$(links_of $TRACER)" -ge $want ] && break
		kill -0 $TRACER 2>/dev/null || break
		sleep 0.002
	done
	ATTACH_MS=$(( ($(now_ns) - t0) / 1000000 ))
	if [ "$(links_of $TRACER)" -lt $want ]; then
		echo "bench: $cfg did not attach:" >&2
		cat "$err" >&2
		exit 1
	fi
	sleep 0.5
}

# one_round PHASE CFG ROUND KIND [count]: appends a row to $ROWS
one_round() {
	local phase=$1 cfg=$2 r=$3 kind=$4 count=${5:-}
	local out=$RAW/$phase-$cfg-$r-$kind.out lg=$RAW/$phase-$cfg-$r-$kind.lg
	local err=$RAW/$phase-$cfg-$r-$kind.err
	local cpu0=0 cpu1=0 cput=0 progs="" mem=0 st0="" st1="" lines="" lost=""
	[ "$cfg" = C ] && [ -z "$count" ] && out=/dev/null
	start_tracer "$cfg" "$out" "$err"
	if [ -n "$TRACER" ]; then
		cpu0=$(cpu_of $TRACER)
		progs=$(progs_of $TRACER | tr '\n' ' ')
		mem=$(memlock_of $TRACER)
		[ "$phase" = stats ] && st0=$(prog_stats $progs)
	fi
	ip netns exec "$NS" timeout 300 $LOADGEN -n "$N" -d 240 -t 2 -c "$kind" -p $PORT -j \
		>"$lg" 2>"$lg.err" || { echo "bench: loadgen failed:" >&2; cat "$lg.err" >&2; exit 1; }
	if [ -n "$TRACER" ]; then
		[ "$phase" = stats ] && st1=$(prog_stats $progs)
		sleep 1.5	# the live view prints the last interval; tcpstates drains its buffer
		cpu1=$(cpu_of $TRACER)
		cput=$(cpu_of $TRACER)
		case $cfg in T | M) lost=$(trace_lost_of $TRACER) ;; esac
		kill -TERM $TRACER
		wait $TRACER
		TRACER=
	fi
	if [ "$cfg" = C ] && [ -n "$count" ]; then
		lines=$(awk -v p=$PORT '$5 == p || $5 == p + 1 || $7 == p || $7 == p + 1 {n++}
			END {print n + 0}' "$out")
		rm -f "$out"
	fi
	python3 - "$phase" "$cfg" "$r" "$kind" "$lg" "$out" "$err" "$cpu0" "$cpu1" "$cput" "$mem" \
		"${ATTACH_MS:-}" "$st0" "$st1" "$lines" "$lost" >>"$ROWS" <<'EOF'
import json, sys
phase, cfg, r, kind, lg, out, err, cpu0, cpu1, cput, mem, attach, st0, st1, lines, lost = sys.argv[1:]
g = json.load(open(lg))
row = {"phase": phase, "cfg": cfg, "round": int(r), "kind": kind,
       "conns": g["connections"], "conn_per_s": g["conn_per_s"],
       "retries": g["connect_retries"], "expected": g["expected"]["total"],
       "cpu_s": float(cpu1) - float(cpu0), "cpu_total_s": float(cput), "memlock": int(mem),
       "attach_ms": int(attach) if attach else None}
if cfg in ("B", "E", "P", "G"):
    tot = missed = 0
    for l in open(out):
        o = json.loads(l)
        tot += o["total"]
        missed += o["missed"]
    row["counted"], row["missed"] = tot, missed
if cfg == "C":  # tcpstates reports lost perf-buffer events on stderr
    row["lost"] = sum(int(l.split()[1]) for l in open(err) if l.startswith("lost "))
if lines:
    row["lines"] = int(lines)
if lost:
    row["lost"] = int(lost)
def parse(s):
    d = {}
    for l in s.splitlines():
        i, name, cnt, t, miss = l.split()
        d[i] = (name, int(cnt), int(t), int(miss))
    return d
if st0 and st1:
    a, b = parse(st0), parse(st1)
    row["progs"] = {b[i][0]: {"runs": b[i][1] - a[i][1], "ns": b[i][2] - a[i][2],
                              "recursion_misses": b[i][3] - a[i][3]} for i in b if i in a}
print(json.dumps(row))
EOF
	tail -1 "$ROWS" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
extra = ""
if "counted" in r: extra += " counted %d/%d missed %d" % (r["counted"], r["expected"], r["missed"])
if "lost" in r: extra += " lost %d" % r["lost"]
if "lines" in r: extra += " lines %d/%d" % (r["lines"], r["expected"])
if "progs" in r: extra += " " + " ".join("%s %.1f ns" % (k, v["ns"] / max(v["runs"], 1)) for k, v in r["progs"].items())
print("  %-5s %s round %d %-4s %8.0f conn/s cpu %.2f s (total %.2f)%s" % (r["phase"], r["cfg"], r["round"], r["kind"], r["conn_per_s"], r["cpu_s"], r["cpu_total_s"], extra))' >&2
}

echo "bench: $(nproc) CPUs, kernel $(uname -r), N=$N, ROUNDS=$ROUNDS, KINDS=$KINDS; raw: $RAW" >&2
if [ "${ONLY_SCALE:-0}" != 1 ]; then
echo "phase 1: rate, interleaved, bpf stats off" >&2
for r in $(seq "$ROUNDS"); do
	for kind in $KINDS; do
		for cfg in $CONFIGS; do
			one_round rate $cfg "$r" "$kind"
		done
	done
done

echo "phase 2: ns per run, kernel.bpf_stats_enabled=1 (was $STATS_OLD)" >&2
sysctl -qw kernel.bpf_stats_enabled=1
for r in $(seq "$STATS_ROUNDS"); do
	for kind in $KINDS; do
		for cfg in $CONFIGS; do
			case $cfg in B | C | D | P | G | T | M) one_round stats $cfg "$r" "$kind" ;; esac
		done
	done
done
sysctl -qw kernel.bpf_stats_enabled="$STATS_OLD"

echo "phase 3: tcpstates' lines counted; attach time; interval read" >&2
case " $CONFIGS " in
*" C "*) for kind in $KINDS; do one_round count C 1 "$kind" count; done ;;
esac
# start to attached, 10 times, no load
for i in $(seq 10); do
	start_tracer B "$RAW/attach.out" "$RAW/attach.err"
	echo "$ATTACH_MS" >>"$RAW/attach_ms"
	kill -TERM $TRACER; wait $TRACER; TRACER=
done
# one interval read: `snapshot` (a whole process: exec, open the pins, read, render) against
# an attached pin set, 20 times, after some churn so the maps hold numbers
$TOOL attach -N /run/netns/"$NS" --pin-path "$PIN" >/dev/null || exit 1
ip netns exec "$NS" $LOADGEN -n 20000 -t 2 -c sfin -p $PORT >/dev/null
for i in $(seq 20); do
	t0=$(now_ns)
	$TOOL snapshot --pin-path "$PIN" -f json >/dev/null || exit 1
	echo $(( ($(now_ns) - t0) / 1000 )) >>"$RAW/snapshot_us"
done
perf stat -r 20 -x, -e task-clock -o "$RAW/snapshot_perf" $TOOL snapshot --pin-path "$PIN" \
	-f json >/dev/null
$TOOL status --pin-path "$PIN" >"$RAW/status.txt" 2>&1
$TOOL detach --pin-path "$PIN" >/dev/null
fi


[ -s "$ROWS" ] && python3 bench/summary.py "$ROWS" "$RAW" "$N" "$ROUNDS" "$STATS_ROUNDS" "$KINDS" \
	>"$RAW/summary.txt"
# Phase 4: SCALE_N connections held at once, for SCALE_HOLD_MS, then closed; once with no
# tracer (the baseline for memory), once with tcpstatehist, once with tcpstates writing to a
# file. A loadgen holds at most SCALE_PER connections (2 fds each: the open-files hard limit
# here is 20,000 and root lacks CAP_SYS_RESOURCE to raise it), so SCALE_N is split over
# several loadgen processes started together, each with its own listener port.
scale_mem() {	# Slab, Percpu and kmalloc slab totals, kB
	awk '/^Slab:/ {print "slab_kb", $2} /^Percpu:/ {print "percpu_kb", $2}' /proc/meminfo
	awk '/^kmalloc/ {s += $3 * $4} END {print "kmalloc_kb", int(s / 1024)}' /proc/slabinfo
}
any_alive() {
	local p
	for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done
	return 1
}
scale_run() {	# scale_run CFG
	local cfg=$1 lgpid best=0 inuse t_end
	local out=$RAW/scale-$cfg.out
	start_tracer "$cfg" "$out" "$RAW/scale-$cfg.err"
	scale_mem >"$RAW/scale-$cfg.mem0"
	local left=$SCALE_N i=0 n lgpids=""
	while [ "$left" -gt 0 ]; do
		n=$(( left < SCALE_PER ? left : SCALE_PER ))
		ip netns exec "$NS" timeout 300 $LOADGEN -n $n -H $n -w "$SCALE_HOLD_MS" -d 240 -t 1 \
			-c sfin -p $((PORT + i)) -j >"$RAW/scale-$cfg.lg.$i" 2>"$RAW/scale-$cfg.lg.err.$i" &
		lgpids="$lgpids $!"
		left=$((left - n))
		i=$((i + 1))
	done
	t_end=$(( $(date +%s) + 300 ))
	while any_alive $lgpids && [ "$(date +%s)" -lt $t_end ]; do
		inuse=$(ip netns exec "$NS" awk '/^TCP:/ {print $3}' /proc/net/sockstat)
		if [ "${inuse:-0}" -gt "$best" ]; then
			best=$inuse
			{ echo "inuse $best"; scale_mem; } >"$RAW/scale-$cfg.mem1"
			if [ "$cfg" = B ]; then
				for id in $(awk '/^map_id:/ {print $2}' /proc/$TRACER/fdinfo/* 2>/dev/null); do
					bpftool map show id "$id" -j
					echo
				done >"$RAW/scale-$cfg.maps"
			fi
		fi
		sleep 0.2
	done
	for lgpid in $lgpids; do
		wait $lgpid || { echo "bench: scale loadgen failed:" >&2; cat "$RAW"/scale-$cfg.lg.err.* >&2
				 exit 1; }
	done
	if [ -n "$TRACER" ]; then
		sleep 1.5
		kill -TERM $TRACER
		wait $TRACER
		TRACER=
	fi
	echo "  scale $cfg: peak TCP sockets in use $best" >&2
}
if [ "$SCALE" = 1 ]; then
	echo "phase 4: scale, $SCALE_N held at once" >&2
	# client ports above the listeners' (a client on a listener's port makes its bind fail)
	ip netns exec "$NS" sysctl -qw net.ipv4.ip_local_port_range="$((PORT + 1000)) 65535"
	scale_run A
	scale_run B
	scale_run C
	python3 bench/scale_report.py "$RAW" "$SCALE_N" "$PORT" "$SCALE_PER" >"$RAW/scale.txt"
	rm -f "$RAW/scale-C.out"
fi

[ -f "$RAW/scale.txt" ] && cat "$RAW/scale.txt" >>"$RAW/summary.txt"
# TOOL_REV names what TOOL was built from; else the working tree's HEAD, and whether the tree
# (bpf, cli, include) differs from it
REV=${TOOL_REV:-$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- bpf cli include \
	2>/dev/null || echo ", tree modified")}
{ echo "bench/run.sh: $(date -u +%F\ %H:%M) UTC, tool $TOOL ($REV), $(nproc) CPUs ($(awk -F": " "/^model name/ {print \$2; exit}" /proc/cpuinfo)), kernel $(uname -r)"; cat "$RAW/summary.txt"; } | tee "$RESULT"
