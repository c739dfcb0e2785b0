#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Runs the ASan/UBSan build (make sanitize builds it into DIR): the unit tests,
# short live views, the daemonless commands and error cases. Error cases exit
# non-zero by design, so a sanitizer report is detected by its log file or on
# stderr, not by the exit status. Needs root for everything past the unit tests.
set -u
cd "$(dirname "$0")/.."
DIR=${1:-.output/san}
TSH=$DIR/tcpstatehist
LOGS=$(mktemp -d)
PIN=/sys/fs/bpf/tsh-sanitize-$$
trap '"$TSH" detach --pin-path "$PIN" >/dev/null 2>&1; rm -rf "$LOGS"' EXIT

export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:log_path=$LOGS/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$LOGS/ubsan"
failed=0

# run WANT_STATUS ARGS...: WANT_STATUS is 0, or "fail" for any non-zero status.
run() {
	local want=$1 rc
	shift
	"$@" >"$LOGS/out" 2>"$LOGS/err"
	rc=$?
	# UBSan inside the ASan runtime reports on stderr, whatever its log_path.
	if grep -Eq 'runtime error:|Sanitizer' "$LOGS/err"; then
		cat "$LOGS/err"
		echo "FAIL - $*: sanitizer report"
		failed=$((failed + 1))
	elif { [ "$want" = 0 ] && [ $rc -ne 0 ]; } || { [ "$want" = fail ] && [ $rc -eq 0 ]; }; then
		echo "FAIL - $* exited $rc, want $want: $(head -3 "$LOGS/err")"
		failed=$((failed + 1))
	else
		echo "ok - $*"
	fi
}

run 0 "$DIR/unit_tests"
if [ "$(id -u)" = 0 ]; then
	run 0 "$TSH" 0.2 2
	run 0 "$TSH" -f json -T -m 0.2 2
	run 0 "$TSH" -f prometheus -4 -L 80,443,8000-8100 -D 1-1024 0.2 1
	run 0 "$TSH" -N /proc/self/ns/net 0.2 1
	run 0 "$TSH" attach --pin-path "$PIN" -6
	run 0 "$TSH" snapshot --pin-path "$PIN"
	run 0 "$TSH" snapshot --pin-path "$PIN" -f json --state-file "$LOGS/state"
	run 0 "$TSH" snapshot --pin-path "$PIN" -f json --state-file "$LOGS/state"
	run 0 "$TSH" snapshot --pin-path "$PIN" -f prometheus -o "$LOGS/out.prom"
	run 0 "$TSH" status --pin-path "$PIN" -f json
	run 0 "$TSH" sockets --pin-path "$PIN" --top 1000
	run 0 "$TSH" sockets --pin-path "$PIN" -6 -f json --older-than 1us
	run 0 "$TSH" sockets --pin-path "$PIN" -N /proc/self/ns/net -f prometheus -o "$LOGS/sockets.prom"
	run fail "$TSH" attach --pin-path "$PIN"
	run 0 "$TSH" detach --pin-path "$PIN"
	run fail "$TSH" snapshot --pin-path "$PIN"
	run fail "$TSH" status --pin-path "$PIN"
	run fail "$TSH" -N /etc/passwd 0.2 1
	run fail "$TSH" -N /nonexistent 0.2 1
	run fail "$TSH" snapshot --pin-path /tmp
	run fail "$TSH" sockets --pin-path "$PIN"
	run fail sh -c '"$0" 0.1 1 >/dev/full' "$TSH"
	run fail sh -c '"$0" 0.1 1 >&-' "$TSH"
	chmod 1777 "$LOGS" # the unprivileged run writes its reports there too
	run fail setpriv --reuid=65534 --regid=65534 --clear-groups "$TSH" 0.1 1
fi
for args in "-L 80,,443" "-L 9000-8000" "-D 65536" "-4 -6" "0" "1e999 1" "1 0" "--bogus" \
	"snapshot extra" "attach --replace=1" "-f xml" "1 99999999999999999999"; do
	# shellcheck disable=SC2086
	run fail "$TSH" $args
done
run 0 "$TSH" --help
run 0 "$TSH" --version

if ls "$LOGS"/asan* "$LOGS"/ubsan* >/dev/null 2>&1; then
	cat "$LOGS"/asan* "$LOGS"/ubsan* 2>/dev/null
	echo "sanitize: sanitizer reports above"
	exit 1
fi
[ "$failed" -eq 0 ] || { echo "sanitize: $failed runs failed"; exit 1; }
echo "sanitize: no sanitizer report"
