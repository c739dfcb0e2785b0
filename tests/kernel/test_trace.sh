#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# trace against the real kernel: real programs, real TCP connections in a
# namespace made here. Every record is checked, per socket cookie: order,
# 4-tuple, states and which durations are known; the in-kernel filters print
# exactly what they keep; a full ring counts exactly what it drops; and the
# classic tcpstates, run over the same churn, agrees record for record.
source "$(dirname "$0")/../lib.sh"

NS=$(new_netns) || { not_ok "create a network namespace"; finish; exit 1; }
NSPATH=/run/netns/$NS
TMP=$(mktemp -d)
on_exit "rm -rf $TMP"
on_exit 'kill -TERM $TRACE_PID; wait $TRACE_PID'
on_exit 'kill -INT $CLASSIC_PID; wait $CLASSIC_PID'
TRAFFIC="ip netns exec $NS python3 $TOP/tests/traffic.py"
TRACEQ="python3 $TOP/tests/traceq.py"

# start_trace OUT ARGS...: trace in the background, output to OUT.
start_trace() {
	local out=$1
	shift
	"$TSH" trace -N "$NSPATH" "$@" >"$out" 2>"$out.err" &
	TRACE_PID=$!
	if ! wait_attached "$TRACE_PID"; then
		kill "$TRACE_PID" 2>/dev/null
		wait "$TRACE_PID"
		not_ok "trace attaches ($*)" "$(cat "$out.err")"
		return 1
	fi
}

# stop_trace [SIGNAL]: ends trace (SIGTERM by default); its exit status in $EXIT.
stop_trace() {
	kill "-${1:-TERM}" "$TRACE_PID"
	wait_exit "$TRACE_PID" 10
}

# Known connections, FIN close, each held 0.3 s: every record in its place.
for family in 4 6; do
	flag=$([ $family = 6 ] && echo -6)
	port=$((5100 + family))
	if start_trace "$TMP/conn$family" -f json; then
		$TRAFFIC $flag -p $port -n 3 --hold 0.3
		stop_trace
		expect_eq "IPv$family: exit 0 after SIGTERM, nothing on stderr" "0 " \
			"$EXIT $(cat "$TMP/conn$family.err")"
		check "IPv$family: valid JSON Lines, end record last" \
			$TRACEQ validate <"$TMP/conn$family"
		why=$($TRACEQ connections $port 3 <"$TMP/conn$family" 2>&1)
		expect_eq "IPv$family: per cookie, records in order with their 4-tuple and states" \
			"" "$why"
		why=$($TRACEQ held $port 3 300000 <"$TMP/conn$family" 2>&1)
		expect_eq "IPv$family: held 0.3 s: both ends' ESTABLISHED >= 300 ms" "" "$why"
		expect_eq "IPv$family: lost and missed" "0 0" \
			"$($TRACEQ lost <"$TMP/conn$family") $($TRACEQ missed <"$TMP/conn$family")"
	fi
done

# Text: the classic columns, the counts at the end (SIGINT ends it too).
if start_trace "$TMP/text" -T; then
	$TRAFFIC -p 5110 -n 2
	stop_trace HUP
	expect_eq "text: exit 0 after SIGHUP" 0 "$EXIT"
	expect_eq "text: header" "TIME COOKIE PID COMM LADDR LPORT RADDR RPORT OLDSTATE -> NEWSTATE MS" \
		"$(head -1 "$TMP/text" | tr -s ' ')"
	expect_eq "text: 24 records and the counts" "24 records: 24 lost: 0 missed: 0" \
		"$(tail -n +2 "$TMP/text" | grep -c ' -> ') $(tail -3 "$TMP/text" | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "text: unknown durations as '-'" 5 \
		"$(grep -cE ' (CLOSE +-> SYN_SENT|CLOSE +-> LISTEN|LISTEN +-> SYN_RECV) +-$' "$TMP/text")"
fi

# --min-duration 200ms over 50 short connections and 5 held 0.3 s: exactly
# the held ones' ESTABLISHED records, and the listener of the held ones
# (it lives 1.5 s); of the short ones, at most their listener's LISTEN->CLOSE
# (it lives as long as the 50 take), and nothing with an unknown duration.
if start_trace "$TMP/slow" -f json --min-duration 200ms; then
	$TRAFFIC -p 5120 -n 50
	$TRAFFIC -p 5121 -n 5 --hold 0.3
	stop_trace
	expect_eq "--min-duration 200ms: nothing of the 50 short connections" "" \
		"$($TRACEQ pairs 5120 <"$TMP/slow" | grep -v '^LISTEN CLOSE 1$')"
	expect_eq "--min-duration 200ms: nothing shorter, nothing unknown" "0 0" \
		"$($TRACEQ short 5120 200000 <"$TMP/slow") $($TRACEQ short 5121 200000 <"$TMP/slow")"
	why=$($TRACEQ held 5121 5 200000 <"$TMP/slow" 2>&1)
	expect_eq "--min-duration 200ms: the 5 held connections, both ends" "" "$why"
	expect_eq "--min-duration 200ms: only those and the listener" \
		"ESTABLISHED CLOSE_WAIT 5|ESTABLISHED FIN_WAIT1 5|LISTEN CLOSE 1" \
		"$($TRACEQ pairs 5121 <"$TMP/slow" | paste -sd '|')"
fi

# --from / --to: only the transitions out of / into the named states.
if start_trace "$TMP/states" -f json --from established --to FIN_WAIT1,CLOSE_WAIT; then
	$TRAFFIC -p 5130 -n 10
	stop_trace
	expect_eq "--from ESTABLISHED --to FIN_WAIT1,CLOSE_WAIT: exactly those" \
		"ESTABLISHED CLOSE_WAIT 10|ESTABLISHED FIN_WAIT1 10" \
		"$($TRACEQ pairs <"$TMP/states" | paste -sd '|')"
fi

# A socket that existed before trace started: its first records show an
# unknown duration (null), never 0.
mkfifo "$TMP/ready" "$TMP/go"
$TRAFFIC -p 5140 -n 0 --open-before "$TMP/ready" <"$TMP/go" &
TRAFFIC_PID=$!
exec 7>"$TMP/go"
read -r _ <"$TMP/ready"
if start_trace "$TMP/before" -f json; then
	echo go >&7
	exec 7>&-
	wait $TRAFFIC_PID
	stop_trace
	expect_eq "opened before trace: ESTABLISHED->FIN_WAIT1 and ->CLOSE_WAIT unknown" "1 1" \
		"$($TRACEQ unknown 5140 ESTABLISHED FIN_WAIT1 <"$TMP/before") $($TRACEQ unknown 5140 ESTABLISHED CLOSE_WAIT <"$TMP/before")"
	expect_eq "opened before trace: FIN_WAIT1->FIN_WAIT2 known" 0 \
		"$($TRACEQ unknown 5140 FIN_WAIT1 FIN_WAIT2 <"$TMP/before")"
fi
exec 7>&- 2>/dev/null
kill $TRAFFIC_PID 2>/dev/null

# A ring of one page, its reader stopped while 50 connections (552
# transitions) go by: what does not fit is counted lost, exactly.
if start_trace "$TMP/tiny" -f json --ring-size 4; then
	kill -STOP "$TRACE_PID"
	$TRAFFIC -p 5150 -n 50
	kill -CONT "$TRACE_PID"
	stop_trace
	records=$($TRACEQ count <"$TMP/tiny")
	lost=$($TRACEQ lost <"$TMP/tiny")
	missed=$($TRACEQ missed <"$TMP/tiny")
	check "tiny ring: some records lost ($lost)" [ "${lost:-0}" -gt 0 ]
	if [ "${missed:-1}" = 0 ]; then
		expect_eq "tiny ring: printed + lost = 552 exactly" 552 $((records + lost))
	else
		check "tiny ring: printed + lost <= 552 <= printed + lost + missed ($missed)" \
			[ $((records + lost)) -le 552 ] && [ $((records + lost + missed)) -ge 552 ]
	fi
fi

# A reader that goes away: trace ends quietly, exit 0.
mkfifo "$TMP/pipe"
"$TSH" trace -N "$NSPATH" >"$TMP/pipe" 2>"$TMP/pipe.err" &
PIPE_PID=$!
head -c 1 <"$TMP/pipe" >/dev/null
if wait_attached $PIPE_PID; then
	$TRAFFIC -p 5160 -n 2
	wait_exit $PIPE_PID 10
	expect_eq "closed pipe: exit 0, nothing on stderr" "0 " "$EXIT $(cat "$TMP/pipe.err")"
else
	not_ok "closed pipe: trace attaches" "$(cat "$TMP/pipe.err")"
fi

# Parity with the classic tool over the same churn: the same records (pairs
# and 4-tuples) and durations within 1 ms where both measure the same span.
CLASSIC=/usr/sbin/tcpstates
if [ -x $CLASSIC ]; then
	stdbuf -oL $CLASSIC -w >"$TMP/classic" 2>"$TMP/classic.err" &
	CLASSIC_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q SKADDR "$TMP/classic" && break
		sleep 0.1
	done
	if start_trace "$TMP/parity" -f json; then
		# A first connection that is not compared: each tool's first events
		# (first perf and ring buffer writes) run slow paths.
		$TRAFFIC -p 5171 -n 1
		$TRAFFIC -6 -p 5171 -n 1
		$TRAFFIC -p 5170 -n 20
		$TRAFFIC -6 -p 5170 -n 10 -c rst
		sleep 0.2
		stop_trace
		kill -INT $CLASSIC_PID
		wait_exit $CLASSIC_PID 10
		if why=$($TRACEQ parity "$TMP/classic" 5170 <"$TMP/parity" 2>&1); then
			ok "parity with tcpstates: same records, durations within 1 ms${TSH_EMULATED:+ (10 ms under emulation)} ($why)"
		else
			not_ok "parity with tcpstates" "$why"
		fi
	fi
else
	not_ok "parity with tcpstates" "$CLASSIC is missing (apt-get install libbpf-tools)"
fi

finish
