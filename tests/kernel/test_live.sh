#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The live view against the real kernel: real programs, real TCP connections in
# namespaces made here, exact counts per transition pair. Where the kernel may
# skip events (missed > 0), a check accepts counted <= truth <= counted + missed.
source "$(dirname "$0")/../lib.sh"

live_test_setup

for family in 4 6; do
	flag=$([ $family = 6 ] && echo -6)
	if start_live "$TMP/fin$family" -N "$NSPATH"; then
		$TRAFFIC $flag -n 25
		stop_live
		check "FIN close over IPv$family: exit 0 after SIGTERM" [ $? -eq 0 ]
		check "FIN close over IPv$family: valid JSON" $JSONQ validate <"$TMP/fin$family"
		mapfile -t truth < <(fin_truth 25)
		expect_accounts "FIN close over IPv$family: exact counts per pair" \
			"$TMP/fin$family" "${truth[@]}"
		expect_eq "FIN close over IPv$family: first transitions are unknown" "25 25 1" \
			"$($JSONQ unknown CLOSE SYN_SENT <"$TMP/fin$family") $($JSONQ unknown LISTEN SYN_RECV <"$TMP/fin$family") $($JSONQ unknown CLOSE LISTEN <"$TMP/fin$family")"
		expect_eq "FIN close over IPv$family: later transitions have durations" "25 25 25 1" \
			"$($JSONQ known SYN_SENT ESTABLISHED <"$TMP/fin$family") $($JSONQ known SYN_RECV ESTABLISHED <"$TMP/fin$family") $($JSONQ known LAST_ACK CLOSE <"$TMP/fin$family") $($JSONQ known LISTEN CLOSE <"$TMP/fin$family")"
	fi
	if start_live "$TMP/rst$family" -N "$NSPATH"; then
		$TRAFFIC $flag -n 15 -c rst
		stop_live
		expect_accounts "RST close over IPv$family: exact counts per pair" "$TMP/rst$family" \
			"CLOSE SYN_SENT 15" "SYN_SENT ESTABLISHED 15" "LISTEN SYN_RECV 15" \
			"SYN_RECV ESTABLISHED 15" "ESTABLISHED CLOSE 30" "CLOSE LISTEN 1" \
			"LISTEN CLOSE 1"
	fi
done

# traffic.py closes a client with shutdown() first, then close() in FIN_WAIT2:
# that close() reports FIN_WAIT2 -> FIN_WAIT2, and the hand-over to the
# timewait socket FIN_WAIT2 -> CLOSE, counted as FIN_WAIT2 -> TIME_WAIT.

# The server closes first, the client only shut down its side: with the
# server's FIN, the client's FIN_WAIT2 ends in TIME_WAIT (the hand-over);
# with the server's RST, in CLOSE (a real close, not a hand-over).
if start_live "$TMP/half" -N "$NSPATH"; then
	$TRAFFIC -n 7 -c half-fin
	$TRAFFIC -n 10 -c half-rst
	stop_live
	expect_accounts "half-closed clients: FIN_WAIT2 -> TIME_WAIT 7, FIN_WAIT2 -> CLOSE 10" \
		"$TMP/half" "CLOSE SYN_SENT 17" "SYN_SENT ESTABLISHED 17" "LISTEN SYN_RECV 17" \
		"SYN_RECV ESTABLISHED 17" "ESTABLISHED FIN_WAIT1 17" "FIN_WAIT1 FIN_WAIT2 17" \
		"FIN_WAIT2 TIME_WAIT 7" "FIN_WAIT2 CLOSE 10" "ESTABLISHED CLOSE_WAIT 17" \
		"CLOSE_WAIT LAST_ACK 7" "LAST_ACK CLOSE 7" "CLOSE_WAIT CLOSE 10" "CLOSE LISTEN 2" \
		"LISTEN CLOSE 2"
fi

# A connection held open 0.3 s: (262144, 524288] us for both ends' ESTABLISHED.
if start_live "$TMP/hold" -N "$NSPATH"; then
	$TRAFFIC -n 2 --hold 0.3
	stop_live
	expect_eq "held 0.3 s: client ESTABLISHED->FIN_WAIT1 in the 524288 us bucket" 2 \
		"$($JSONQ bucket ESTABLISHED FIN_WAIT1 524288 <"$TMP/hold")"
	expect_eq "held 0.3 s: server ESTABLISHED->CLOSE_WAIT in the 524288 us bucket" 2 \
		"$($JSONQ bucket ESTABLISHED CLOSE_WAIT 524288 <"$TMP/hold")"
fi

# A socket that reaches CLOSE while its program still holds it (a refused
# connect) and connects again 0.3 s later: its time in CLOSE is known, in the
# (262144, 524288] us bucket. It keeps its start slot across CLOSE.
if start_live "$TMP/retry" -N "$NSPATH"; then
	ip netns exec "$NS" python3 - <<'PY'
import socket, struct, time
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(4)
port = srv.getsockname()[1]
closed = socket.socket()
closed.bind(("127.0.0.1", 0))
refused_port = closed.getsockname()[1]  # bound, not listening: connect is refused
for _ in range(3):
    c = socket.socket()
    try:
        c.connect(("127.0.0.1", refused_port))
    except ConnectionRefusedError:
        pass
    time.sleep(0.3)
    c.connect(("127.0.0.1", port))
    a, _ = srv.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    a.close()
srv.close()
closed.close()
PY
	stop_live
	expect_accounts "connect again after a refused connect: exact counts" "$TMP/retry" \
		"CLOSE SYN_SENT 6" "SYN_SENT CLOSE 3" "SYN_SENT ESTABLISHED 3" \
		"LISTEN SYN_RECV 3" "SYN_RECV ESTABLISHED 3" "ESTABLISHED CLOSE 6" \
		"CLOSE LISTEN 1" "LISTEN CLOSE 1"
	expect_eq "connect again: the time in CLOSE is known (524288 us bucket)" "3 3" \
		"$($JSONQ unknown CLOSE SYN_SENT <"$TMP/retry") $($JSONQ bucket CLOSE SYN_SENT 524288 <"$TMP/retry")"
fi

# A socket that existed before the tool attached: its first transition seen
# by the tool has no start time, and counts as unknown, never as 0 us.
mkfifo "$TMP/ready" "$TMP/go"
$TRAFFIC -n 0 --open-before "$TMP/ready" <"$TMP/go" &
TRAFFIC_PID=$!
exec 7>"$TMP/go"
read -r _ <"$TMP/ready"
if start_live "$TMP/before" -N "$NSPATH"; then
	echo go >&7
	exec 7>&-
	wait $TRAFFIC_PID
	stop_live
	expect_eq "opened before attach: ESTABLISHED->FIN_WAIT1 count, unknown" "1 1" \
		"$($JSONQ count ESTABLISHED FIN_WAIT1 <"$TMP/before") $($JSONQ unknown ESTABLISHED FIN_WAIT1 <"$TMP/before")"
	expect_eq "opened before attach: ESTABLISHED->CLOSE_WAIT unknown" 1 \
		"$($JSONQ unknown ESTABLISHED CLOSE_WAIT <"$TMP/before")"
	expect_count "opened before attach: FIN_WAIT1->FIN_WAIT2 known" 1 \
		"$($JSONQ known FIN_WAIT1 FIN_WAIT2 <"$TMP/before")" "$($JSONQ missed <"$TMP/before")"
	expect_eq "opened before attach: listener LISTEN->CLOSE unknown" 1 \
		"$($JSONQ unknown LISTEN CLOSE <"$TMP/before")"
fi
exec 7>&- 2>/dev/null
kill $TRAFFIC_PID 2>/dev/null

# Filters. Server port 5001, client bound to port 6001, RST close. A port
# filter looks at the socket's ports at each transition: every transition has
# both, except a client's CLOSE->SYN_SENT, which has no local port unless the
# client bound one, and a server child's birth (LISTEN->SYN_RECV), which has no
# remote port yet (see docs/tcpstatehist.8).
filter_run() {
	local name=$1 out=$TMP/filter-$1
	shift
	start_live "$out" -N "$NSPATH" "$@" || return 1
	$TRAFFIC -n 3 -c rst -p 5001 -b 6001
	$TRAFFIC -6 -n 2 -c rst -p 5002
	stop_live
}
if filter_run lport -L 5001; then
	expect_accounts "-L 5001 keeps the server's sockets, listener included" \
		"$TMP/filter-lport" "LISTEN SYN_RECV 3" "SYN_RECV ESTABLISHED 3" \
		"ESTABLISHED CLOSE 3" "CLOSE LISTEN 1" "LISTEN CLOSE 1"
fi
if filter_run rport -D 5001; then
	expect_accounts "-D 5001 keeps the client's sockets from their first transition" \
		"$TMP/filter-rport" "CLOSE SYN_SENT 3" "SYN_SENT ESTABLISHED 3" "ESTABLISHED CLOSE 3"
fi
if filter_run lport-client -L 6001; then
	expect_accounts "-L 6001 keeps a bound client from CLOSE->SYN_SENT on" \
		"$TMP/filter-lport-client" "CLOSE SYN_SENT 3" "SYN_SENT ESTABLISHED 3" \
		"ESTABLISHED CLOSE 3"
fi
if filter_run rport-server -D 6001-6002,7000; then
	expect_accounts "-D 6001-6002 keeps a server child after its birth (no remote port yet)" \
		"$TMP/filter-rport-server" "SYN_RECV ESTABLISHED 3" "ESTABLISHED CLOSE 3"
fi
if filter_run unbound-client -L 1-5000,5002-65535; then
	expect_accounts "-L without the server port: a client's CLOSE->SYN_SENT has no port" \
		"$TMP/filter-unbound-client" "CLOSE SYN_SENT 3" "SYN_SENT ESTABLISHED 5" \
		"LISTEN SYN_RECV 2" "SYN_RECV ESTABLISHED 2" "ESTABLISHED CLOSE 7" \
		"CLOSE LISTEN 1" "LISTEN CLOSE 1"
fi
if filter_run v6 -6; then
	expect_accounts "-6 keeps IPv6 sockets only" "$TMP/filter-v6" "CLOSE SYN_SENT 2" \
		"SYN_SENT ESTABLISHED 2" "LISTEN SYN_RECV 2" "SYN_RECV ESTABLISHED 2" \
		"ESTABLISHED CLOSE 4" "CLOSE LISTEN 1" "LISTEN CLOSE 1"
fi
if filter_run v4 -4; then
	expect_accounts "-4 keeps IPv4 sockets only" "$TMP/filter-v4" "CLOSE SYN_SENT 3" \
		"SYN_SENT ESTABLISHED 3" "LISTEN SYN_RECV 3" "SYN_RECV ESTABLISHED 3" \
		"ESTABLISHED CLOSE 6" "CLOSE LISTEN 1" "LISTEN CLOSE 1"
fi

# -N: traffic in a second namespace is not counted.
NS2=$(new_netns)
if start_live "$TMP/netns" -N "$NSPATH"; then
	ip netns exec "$NS2" python3 "$TOP/tests/traffic.py" -n 7 -c rst
	$TRAFFIC -n 2 -c rst
	stop_live
	expect_accounts "-N counts its namespace only" "$TMP/netns" "CLOSE SYN_SENT 2" \
		"SYN_SENT ESTABLISHED 2" "LISTEN SYN_RECV 2" "SYN_RECV ESTABLISHED 2" \
		"ESTABLISHED CLOSE 4" "CLOSE LISTEN 1" "LISTEN CLOSE 1"
fi

# rodata_field PID NAME: a filter constant of the programs PID loaded, from bpftool.
rodata_field() {
	local id
	for id in $(awk '/^map_id:/ {print $2}' /proc/"$1"/fdinfo/* 2>/dev/null | sort -u); do
		bpftool map dump id "$id" -j 2>/dev/null | python3 -c '
import json, sys
for entry in json.load(sys.stdin):
    for field in entry.get("formatted", {}).get("value", {}).get(".rodata", []):
        if sys.argv[1] in field:
            print(field[sys.argv[1]])' "$2"
	done
}

# -N NAME: the bare name of an `ip netns` namespace works as its path does.
if start_live "$TMP/netns-name" -N "$NS"; then
	$TRAFFIC -n 2 -c rst
	stop_live
	expect_accounts "-N NAME counts that namespace only" "$TMP/netns-name" \
		"CLOSE SYN_SENT 2" "SYN_SENT ESTABLISHED 2" "LISTEN SYN_RECV 2" \
		"SYN_RECV ESTABLISHED 2" "ESTABLISHED CLOSE 4" "CLOSE LISTEN 1" "LISTEN CLOSE 1"
fi
expect_fail "-N NAME of no namespace" "/run/netns/tsh-no-such-ns" \
	"$TSH" -N tsh-no-such-ns 1 1

# -N compares the namespace's cookie where the tool could enter the namespace to
# learn it, and its inode where it could not (no CAP_SYS_ADMIN): both exact.
if start_live "$TMP/netns-cookie" -N "$NSPATH"; then
	COOKIE=$(rodata_field "$LIVE_PID" filter_netns_cookie)
	$TRAFFIC -n 2 -c rst
	stop_live
	check "-N as root filters by the namespace's cookie ($COOKIE)" test "${COOKIE:-0}" -gt 0
	expect_accounts "-N by cookie counts its namespace only" "$TMP/netns-cookie" \
		"CLOSE SYN_SENT 2" "SYN_SENT ESTABLISHED 2" "LISTEN SYN_RECV 2" \
		"SYN_RECV ESTABLISHED 2" "ESTABLISHED CLOSE 4" "CLOSE LISTEN 1" "LISTEN CLOSE 1"
fi
capsh --drop=cap_sys_admin -- -c "exec '$TSH' -f json -N '$NSPATH'" >"$TMP/netns-inode" \
	2>"$TMP/netns-inode.err" &
LIVE_PID=$!
if wait_attached "$LIVE_PID"; then
	COOKIE=$(rodata_field "$LIVE_PID" filter_netns_cookie)
	ip netns exec "$NS2" python3 "$TOP/tests/traffic.py" -n 3 -c rst
	$TRAFFIC -n 2 -c rst
	stop_live
	expect_eq "-N without CAP_SYS_ADMIN falls back to the inode" 0 "$COOKIE"
	expect_accounts "-N by inode counts its namespace only" "$TMP/netns-inode" \
		"CLOSE SYN_SENT 2" "SYN_SENT ESTABLISHED 2" "LISTEN SYN_RECV 2" \
		"SYN_RECV ESTABLISHED 2" "ESTABLISHED CLOSE 4" "CLOSE LISTEN 1" "LISTEN CLOSE 1"
else
	not_ok "live view attaches without CAP_SYS_ADMIN" "$(cat "$TMP/netns-inode.err")"
	kill "$LIVE_PID" 2>/dev/null
fi
# Debian's perf_event_paranoid=3 refuses perf events without CAP_SYS_ADMIN: then
# the one line on stderr is the audit's warning (see below). Whether this kernel
# refuses is asked of the kernel itself, with the audit's event (a count of the
# tracepoint on CPU 0): exit 0 refused, 1 allowed, 2 cannot tell.
perf_refused_without_admin() {
	local id=/sys/kernel/tracing/events/sock/inet_sock_set_state/id
	# tracefs where the tool would mount it, as root (the tool does the same).
	[ -e "$id" ] || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	[ -r "$id" ] || return 2
	capsh --drop=cap_sys_admin -- -c "exec python3 - $(cat "$id")" <<'EOF'
import ctypes, errno, struct, sys
attr = ctypes.create_string_buffer(struct.pack("IIQ", 2, 128, int(sys.argv[1])) + bytes(112), 128)
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.syscall(298, attr, -1, 0, -1, 0)  # perf_event_open (x86_64), the tracepoint on CPU 0
if fd >= 0:
    sys.exit(1)
sys.exit(0 if ctypes.get_errno() in (errno.EACCES, errno.EPERM) else 2)
EOF
}
perf_refused_without_admin
case $? in
0) check "without CAP_SYS_ADMIN, perf refused (paranoid $(cat /proc/sys/kernel/perf_event_paranoid)): the audit's one-line warning" sh -c "
	test \$(wc -l <'$TMP/netns-inode.err') -eq 1 &&
	grep -q '^tcpstatehist: warning: audit: .*missed omits' '$TMP/netns-inode.err'" ;;
1) check "without CAP_SYS_ADMIN, perf allowed: nothing on stderr" \
	test ! -s "$TMP/netns-inode.err" ;;
*) not_ok "could not ask the kernel whether it refuses perf events without CAP_SYS_ADMIN" ;;
esac

# Where the kernel refuses perf events to the tool, the live view warns once
# and counts without the audit. The refusal is injected with strace, so this
# runs on every kernel, not only on Debian's.
strace -qq -f -o /dev/null -e trace=perf_event_open -e inject=perf_event_open:error=EACCES \
	"$TSH" -f json -N "$NSPATH" 0.3 >"$TMP/noperf" 2>"$TMP/noperf.err" &
NOPERF_PID=$!
if wait_file "$TMP/noperf" 10; then
	$TRAFFIC -n 3 -c rst
	kill -TERM "$(pgrep -P $NOPERF_PID -x tcpstatehist)"
	wait $NOPERF_PID
	expect_eq "perf refused: the live view still exits 0" 0 $?
	expect_eq "perf refused: one line on stderr" 1 "$(wc -l <"$TMP/noperf.err")"
	check "perf refused: the line is the audit's warning" grep -q \
		"^tcpstatehist: warning: audit: the kernel refused to count the tracepoint (Permission denied; .*): missed omits events the kernel gave to no program$" \
		"$TMP/noperf.err"
	expect_accounts "perf refused: counts exact without the audit" "$TMP/noperf" \
		"CLOSE SYN_SENT 3" "SYN_SENT ESTABLISHED 3" "LISTEN SYN_RECV 3" \
		"SYN_RECV ESTABLISHED 3" "ESTABLISHED CLOSE 6" "CLOSE LISTEN 1" "LISTEN CLOSE 1"
else
	kill $NOPERF_PID 2>/dev/null
	not_ok "perf refused: the live view runs" "$(cat "$TMP/noperf.err")"
fi

# A classic tracepoint program beside the live view (libbpf-tools' tcpstates)
# hides events from the audit's perf counters: the live view says so once, even
# over a handful of connections, far too few for the counts to show it.
tcpstates_attached() { bpftool perf list -j 2>/dev/null | grep -q inet_sock_set_state; }
if tcpstates_attached; then
	not_ok "no classic program on the tracepoint before the tcpstates test"
else
	tcpstates >/dev/null 2>&1 &
	TCPSTATES_PID=$!
	on_exit "kill $TCPSTATES_PID"
	for ((i = 0; i < 100; i++)); do
		tcpstates_attached && break
		sleep 0.1
	done
	if start_live "$TMP/tcpstates" -N "$NSPATH" 0.2; then
		$TRAFFIC -n 5 -c rst
		sleep 0.5
		stop_live
		expect_eq "tcpstates beside the live view: one warning" 1 \
			"$(grep -c "warning: another program hides sock:inet_sock_set_state from perf (tcpstates?)" "$TMP/tcpstates.err")"
		expect_accounts "tcpstates beside the live view: counts still exact" "$TMP/tcpstates" \
			"CLOSE SYN_SENT 5" "SYN_SENT ESTABLISHED 5" "LISTEN SYN_RECV 5" \
			"SYN_RECV ESTABLISHED 5" "ESTABLISHED CLOSE 10" "CLOSE LISTEN 1" "LISTEN CLOSE 1"
	fi
	kill $TCPSTATES_PID
	wait $TCPSTATES_PID 2>/dev/null
fi
# tcpstates started while the live view runs: found at a later interval, once.
if start_live "$TMP/tcpstates-late" -N "$NSPATH" 0.2; then
	wait_file "$TMP/tcpstates-late" 10
	check "tcpstates started later: no warning before it" test ! -s "$TMP/tcpstates-late.err"
	tcpstates >/dev/null 2>&1 &
	TCPSTATES_PID=$!
	on_exit "kill $TCPSTATES_PID"
	for ((i = 0; i < 100; i++)); do
		tcpstates_attached && break
		sleep 0.1
	done
	$TRAFFIC -n 3 -c rst
	sleep 0.5
	stop_live
	expect_eq "tcpstates started later: one warning" 1 \
		"$(grep -c "warning: another program hides sock:inet_sock_set_state from perf (tcpstates?)" "$TMP/tcpstates-late.err")"
	kill $TCPSTATES_PID
	wait $TCPSTATES_PID 2>/dev/null
fi
if start_live "$TMP/no-tcpstates" -N "$NSPATH" 0.2; then
	$TRAFFIC -n 2 -c rst
	sleep 0.3
	stop_live
	check "without tcpstates: no warning" test ! -s "$TMP/no-tcpstates.err"
fi

# Several thousand connections over many short intervals, and a second
# instance over the whole run: both add up to the truth on their own.
if start_live "$TMP/many" -N "$NSPATH" 0.05; then
	MANY_PID=$LIVE_PID
	if start_live "$TMP/whole" -N "$NSPATH"; then
		$TRAFFIC -n 2000 &
		T1=$!
		$TRAFFIC -n 1500 -c rst -p 5003 &
		T2=$!
		wait $T1 $T2
		stop_live
		LIVE_PID=$MANY_PID
		stop_live
		mapfile -t truth < <(fin_truth 2000 2)
		truth=("${truth[@]/CLOSE SYN_SENT 2000/CLOSE SYN_SENT 3500}")
		truth=("${truth[@]/SYN_SENT ESTABLISHED 2000/SYN_SENT ESTABLISHED 3500}")
		truth=("${truth[@]/LISTEN SYN_RECV 2000/LISTEN SYN_RECV 3500}")
		truth=("${truth[@]/SYN_RECV ESTABLISHED 2000/SYN_RECV ESTABLISHED 3500}")
		truth+=("ESTABLISHED CLOSE 3000")
		check "many intervals: more than 20 summaries" \
			[ "$($JSONQ lines <"$TMP/many")" -gt 20 ]
		expect_accounts "many intervals: the summaries add up to the truth" \
			"$TMP/many" "${truth[@]}"
		expect_accounts "a second instance at the same time: exact too" \
			"$TMP/whole" "${truth[@]}"
	fi
fi

# INTERVAL COUNT: exactly COUNT summaries, then exit 0 on its own.
timeout 10 "$TSH" -f json -N "$NSPATH" 0.2 3 >"$TMP/count" 2>&1
check "INTERVAL 0.2 COUNT 3: exits 0 on its own" [ $? -eq 0 ]
expect_eq "INTERVAL 0.2 COUNT 3: three summaries" 3 "$($JSONQ lines <"$TMP/count")"

# SIGTERM: the partial interval is printed, and nothing stays attached.
if start_live "$TMP/term" -N "$NSPATH" 60; then
	$TRAFFIC -n 4 -c rst
	kill -TERM "$LIVE_PID"
	wait "$LIVE_PID"
	check "SIGTERM: exit 0" [ $? -eq 0 ]
	expect_eq "SIGTERM: the partial interval is printed" 4 \
		"$($JSONQ count CLOSE SYN_SENT <"$TMP/term")"
	check "SIGTERM: no link left" [ "$(bpf_links "$LIVE_PID")" = 0 ]
fi

# The text format: the summary table and a histogram per pair.
"$TSH" -N "$NSPATH" -T 3 1 >"$TMP/text" 2>&1 &
TEXT_PID=$!
wait_attached $TEXT_PID && $TRAFFIC -n 3
wait $TEXT_PID
check "text: a timestamp line" grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2}$' "$TMP/text"
check "text: the summary table header" \
	grep -q '^OLD_STATE *NEW_STATE *COUNT *UNKNOWN *MEAN *P50 *P90 *P99 *MAX$' "$TMP/text"
check "text: a histogram per pair" \
	grep -q '^SYN_SENT -> ESTABLISHED: 3 transitions, 0 unknown$' "$TMP/text"
check "text: missed line, machine-wide under -N" \
	grep -q '^missed: [0-9]* (every socket on the machine, before the filters)$' "$TMP/text"

finish
