# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared by the kernel and CLI tests (sourced). Each test script calls
# `check NAME COMMAND...` or `expect_eq NAME WANT GOT`; `finish` reports the
# counts to the runner. Network traffic stays in namespaces made here.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TSH="$TOP/tcpstatehist"
LOADGEN="$TOP/.output/loadgen"
JSONQ="python3 $TOP/tests/jsonq.py"
PASSED=0
FAILED=0
CLEANUP_CMDS=()

ok() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
not_ok() { FAILED=$((FAILED + 1)); echo "FAIL - $1${2:+: $2}"; }

# check NAME COMMAND...: passes when COMMAND exits 0.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}

# expect_eq NAME WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "want '$2', got '$3'"; fi
}

# expect_count NAME WANT GOT MISSED: GOT is WANT, or falls short of it by no more
# than MISSED (the events the kernel ran no program for, counted by the audit).
expect_count() {
	local short=$(($2 - ${3:-0}))
	if [ "$2" = "$3" ]; then
		ok "$1"
	elif [ "$short" -gt 0 ] && [ "$short" -le "${4:-0}" ]; then
		ok "$1 (short by $short, missed $4)"
	else
		not_ok "$1" "want '$2', got '$3' (missed ${4:-0})"
	fi
}

# expect_fail NAME PATTERN COMMAND...: non-zero exit, one-line stderr matching PATTERN.
expect_fail() {
	local name=$1 pattern=$2 err rc
	shift 2
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -eq 0 ]; then
		not_ok "$name" "exit 0, want non-zero"
	elif [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then
		not_ok "$name" "want one line on stderr, got: $err"
	elif ! printf '%s' "$err" | grep -Eq -- "$pattern"; then
		not_ok "$name" "stderr '$err' does not match '$pattern'"
	else
		ok "$name"
	fi
}

# expect_accounts NAME FILE "OLD NEW COUNT"...: the JSON summaries in FILE
# add up to exactly these pairs, or fall short by no more than missed.
expect_accounts() {
	local name=$1 file=$2 why
	shift 2
	if why=$($JSONQ accounts "$@" <"$file" 2>&1); then
		ok "$name ($why)"
	else
		not_ok "$name" "$why"
	fi
}

# new_netns: prints the name of a fresh namespace with loopback up. The name
# is derived from the namespaces that exist, so it works inside $(...) too;
# cleanup removes every namespace this script created.
new_netns() {
	local i ns
	for ((i = 0; ; i++)); do
		ns="tshtest-$$-$i"
		[ -e "/run/netns/$ns" ] || break
	done
	ip netns add "$ns" && ip netns exec "$ns" ip link set lo up || return 1
	echo "$ns"
}

# wait_file FILE SECONDS: wait until FILE is non-empty.
wait_file() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# bpf_links PID: how many BPF links the process holds (from its fdinfo).
bpf_links() {
	grep -l '^link_type:' /proc/"$1"/fdinfo/* 2>/dev/null | wc -l
}

# wait_attached PID [N]: the live view prints nothing until the first
# interval, so wait until it holds its N (default 2) links, or has died.
wait_attached() {
	local i
	for ((i = 0; i < 200; i++)); do
		kill -0 "$1" 2>/dev/null || return 1
		[ "$(bpf_links "$1")" -ge "${2:-2}" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_exit PID SECONDS: true when PID (a child) has exited within SECONDS;
# its status in $EXIT. A PID still running then is killed, and EXIT is
# "killed" (the test says it hung).
wait_exit() {
	local i
	for ((i = 0; i < $2 * 50; i++)); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1"
			EXIT=$?
			return 0
		fi
		sleep 0.02
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	EXIT=killed
	return 1
}

# start_live OUT ARGS...: the live view in the background, its output to OUT: JSON
# unless ARGS choose a format with -f. The caller stops it with stop_live.
start_live() {
	local out=$1 format=(-f json)
	shift
	case " $* " in *" -f "*) format=() ;; esac
	"$TSH" "${format[@]}" "$@" >"$out" 2>"$out.err" &
	LIVE_PID=$!
	if ! wait_attached "$LIVE_PID"; then
		kill "$LIVE_PID" 2>/dev/null
		wait "$LIVE_PID"
		not_ok "live view attaches ($*)" "$(cat "$out.err")"
		return 1
	fi
}

# live_test_setup: what a test of the live view starts with: a namespace (NS,
# NSPATH), a scratch directory (TMP), TRAFFIC to run tests/traffic.py in the
# namespace, and the live view (LIVE_PID) stopped on exit. Exits the test when
# no namespace can be made.
live_test_setup() {
	NS=$(new_netns) || { not_ok "create a network namespace"; finish; exit 1; }
	NSPATH=/run/netns/$NS
	TMP=$(mktemp -d)
	on_exit "rm -rf $TMP"
	on_exit 'kill -TERM $LIVE_PID; wait $LIVE_PID'
	TRAFFIC="ip netns exec $NS python3 $TOP/tests/traffic.py"
}

# fin_truth N [RUNS]: "OLD NEW COUNT" of N FIN-closed connections made by
# tests/traffic.py, both ends, and of its listener over RUNS runs (1).
fin_truth() {
	local n=$1 runs=${2:-1}
	printf '%s\n' "CLOSE SYN_SENT $n" "SYN_SENT ESTABLISHED $n" "ESTABLISHED FIN_WAIT1 $n" \
		"FIN_WAIT1 FIN_WAIT2 $n" "FIN_WAIT2 FIN_WAIT2 $n" "FIN_WAIT2 TIME_WAIT $n" \
		"LISTEN SYN_RECV $n" \
		"SYN_RECV ESTABLISHED $n" "ESTABLISHED CLOSE_WAIT $n" "CLOSE_WAIT LAST_ACK $n" \
		"LAST_ACK CLOSE $n" "CLOSE LISTEN $runs" "LISTEN CLOSE $runs"
}

# stop_live: SIGTERM prints the partial interval; the exit status must be 0. (SIGINT
# would be ignored: a background job of a non-interactive shell starts with
# SIGINT ignored, and the tool keeps an ignored SIGINT ignored.)
stop_live() {
	kill -TERM "$LIVE_PID"
	wait "$LIVE_PID"
}

# reset_connections NS N PORT: N loopback connections to a listener on PORT
# in namespace NS; each client closes with a RST, the server reads it and
# closes. Per connection, 3 transitions on each side; the listener adds
# CLOSE->LISTEN and LISTEN->CLOSE.
reset_connections() {
	ip netns exec "$1" python3 -c '
import socket, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(128)
for _ in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    s, _ = srv.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
    c.close()
    try:
        s.recv(1)
    except ConnectionResetError:
        pass
    s.close()
srv.close()
' "$2" "$3"
}

# scrape_textfiles DIR OUT: a real node_exporter, in a namespace of its own,
# reads the textfile directory DIR; its /metrics goes to OUT, its log to
# OUT.log. The exporter is stopped before it returns; false when it served
# nothing.
scrape_textfiles() {
	local ns exporter i rc=1
	new_netns >"$2.ns" || return 1
	ns=$(cat "$2.ns")
	ip netns exec "$ns" prometheus-node-exporter --collector.textfile.directory "$1" \
		--web.listen-address 127.0.0.1:9100 --collector.disable-defaults \
		--collector.textfile >"$2.log" 2>&1 &
	exporter=$!
	for ((i = 0; i < 50; i++)); do
		if ip netns exec "$ns" curl -sf http://127.0.0.1:9100/metrics >"$2"; then
			rc=0
			break
		fi
		sleep 0.1
	done
	kill "$exporter" 2>/dev/null
	wait "$exporter" 2>/dev/null
	return $rc
}

# scraped FILE NAME VALUE [LABEL=VALUE...]: FILE (an exposition-format
# scrape) has the series NAME with exactly these labels (values unescaped)
# and this value.
scraped() {
	python3 - "$@" <<'PY'
import re, sys
path, name, want = sys.argv[1], sys.argv[2], sys.argv[3]
labels = dict(a.split("=", 1) for a in sys.argv[4:])
unescape = lambda v: re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), v)
for line in open(path):
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line.strip())
    if not m or m.group(1) != name:
        continue
    got = {k: unescape(v) for k, v in
           re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or "")}
    if got == labels and float(m.group(3)) == float(want):
        sys.exit(0)
sys.exit(1)
PY
}

on_exit() { CLEANUP_CMDS+=("$1"); }

cleanup() {
	local c ns
	for c in "${CLEANUP_CMDS[@]}"; do eval "$c" >/dev/null 2>&1; done
	for ns in /run/netns/tshtest-$$-*; do
		[ -e "$ns" ] && ip netns del "${ns##*/}" 2>/dev/null
	done
}
trap cleanup EXIT

finish() {
	echo "$PASSED $FAILED" >>"${TSH_RESULTS:-/dev/null}"
	[ "$FAILED" -eq 0 ]
}
