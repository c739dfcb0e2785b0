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
NETNS_LIST=()
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

# new_netns: prints the name of a fresh namespace with loopback up.
new_netns() {
	local ns="tshtest-$$-${#NETNS_LIST[@]}"
	ip netns add "$ns" && ip netns exec "$ns" ip link set lo up || return 1
	NETNS_LIST+=("$ns")
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

# wait_attached PID: the live view prints nothing until the first interval, so
# wait until its programs show up in bpftool (bounded).
wait_attached() {
	local i
	for ((i = 0; i < 100; i++)); do
		bpftool prog show -j 2>/dev/null | python3 -c '
import json, sys
pid = int(sys.argv[1])
progs = json.load(sys.stdin)
sys.exit(0 if sum(1 for p in progs if p.get("name") in ("tsh_main", "tsh_recover")
                  and any(x.get("pid") == pid for x in p.get("pids", []))) >= 2 else 1)
' "$1" && return 0
		sleep 0.1
	done
	return 1
}

on_exit() { CLEANUP_CMDS+=("$1"); }

cleanup() {
	local c ns
	for c in "${CLEANUP_CMDS[@]}"; do eval "$c" >/dev/null 2>&1; done
	for ns in "${NETNS_LIST[@]}"; do ip netns del "$ns" 2>/dev/null; done
}
trap cleanup EXIT

finish() {
	echo "$PASSED $FAILED" >>"${TSH_RESULTS:-/dev/null}"
	[ "$FAILED" -eq 0 ]
}
