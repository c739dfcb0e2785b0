#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Bad input and faults: every case exits non-zero with exactly one
# line on stderr that says what is wrong; output errors are detected; signals
# at any moment leave nothing attached.
#
# Decided and tested here (and in the man page's EXIT STATUS and SIGNALS):
# - usage errors exit 2, every other error 1;
# - a reader that goes away (| head -1) ends the tool quietly with status 0:
#   SIGPIPE is ignored and EPIPE from a write ends the run without a message;
# - SIGHUP is treated like SIGINT and SIGTERM: the partial interval is printed,
#   the programs detached, status 0.
source "$(dirname "$0")/../lib.sh"

TMP=$(mktemp -d)
on_exit "rm -rf $TMP"
PIN=/sys/fs/bpf/tsh-errors-$$
on_exit "'$TSH' detach --pin-path '$PIN'; rm -rf '$PIN' '$PIN-file' '$PIN-link'"
NS=$(new_netns) || { not_ok "create a network namespace"; finish; exit 1; }
NSPATH=/run/netns/$NS

# --- Options with a value -------------------------------------------------
for opt in -L -D --lport --rport; do
	expect_fail "$opt empty" "$opt.*empty port list" "$TSH" "$opt" "" 1 1
	expect_fail "$opt non-numeric" "invalid port 'http'" "$TSH" "$opt" http 1 1
	expect_fail "$opt trailing garbage" "invalid port '80x'" "$TSH" "$opt" 80x 1 1
	expect_fail "$opt negative" "invalid port '-80'" "$TSH" "$opt" -80 1 1
	expect_fail "$opt zero" "invalid port '0'" "$TSH" "$opt" 0 1 1
	expect_fail "$opt 65536" "invalid port '65536'" "$TSH" "$opt" 65536 1 1
	expect_fail "$opt overflow" "invalid port '99999999999999999999'" \
		"$TSH" "$opt" 99999999999999999999 1 1
	expect_fail "$opt reversed range" "reversed port range '9000-8000'" \
		"$TSH" "$opt" 9000-8000 1 1
	expect_fail "$opt empty element" "empty element in port list '80,,443'" \
		"$TSH" "$opt" 80,,443 1 1
	expect_fail "$opt trailing comma" "empty element" "$TSH" "$opt" 80, 1 1
	expect_fail "$opt half range" "invalid port" "$TSH" "$opt" 80- 1 1
	expect_fail "$opt with a sign" "invalid port '\+80'" "$TSH" "$opt" +80 1 1
	expect_fail "$opt with no value" "needs a value" "$TSH" "$opt"
done
expect_fail "-L twice" "-L/--lport given twice" "$TSH" -L 80 -L 443
expect_fail "-L and --lport" "given twice" "$TSH" -L 80 --lport=443
expect_fail "-D twice" "-D/--rport given twice" "$TSH" -D 80 -D 443
expect_fail "-4 -6" "-4 and -6 exclude each other" "$TSH" -4 -6
expect_fail "-6 -4 on attach" "-4 and -6 exclude each other" "$TSH" attach -6 -4
expect_fail "-N twice" "-N/--netns given twice" "$TSH" -N "$NSPATH" -N "$NSPATH"
expect_fail "-N empty" "-N/--netns: empty path" "$TSH" -N ""
expect_fail "-N with no value" "-N/--netns needs a value" "$TSH" -N
expect_fail "-f empty" "unknown format ''" "$TSH" -f ""
expect_fail "-f unknown" "unknown format 'xml'" "$TSH" -f xml
expect_fail "-f in capitals" "unknown format 'JSON'" "$TSH" -f JSON
expect_fail "-f twice" "-f/--format given twice" "$TSH" -f json -f text
expect_fail "status -f prometheus" "status prints text or json" "$TSH" status -f prometheus
expect_fail "--pin-path empty" "--pin-path: empty path" "$TSH" attach --pin-path ""
expect_fail "--pin-path twice" "--pin-path given twice" "$TSH" status --pin-path /a --pin-path /b
expect_fail "-o empty" "-o/--output: empty path" "$TSH" snapshot -o ""
expect_fail "-o twice" "-o/--output given twice" "$TSH" snapshot -o a -o b
expect_fail "--state-file empty" "--state-file: empty path" "$TSH" snapshot --state-file ""
expect_fail "--state-file with prometheus" "does not apply to -f prometheus" \
	"$TSH" snapshot --state-file "$TMP/s" -f prometheus
expect_fail "unknown short option" "unknown option '-x'" "$TSH" -x
expect_fail "unknown long option" "unknown option '--bogus'" "$TSH" --bogus
expect_fail "value to a flag" "option '--timestamp' takes no value" "$TSH" --timestamp=1
expect_fail "value to --replace" "option '--replace' takes no value" "$TSH" attach --replace=1
expect_fail "unknown subcommand" "invalid INTERVAL 'atach'" "$TSH" atach
expect_fail "argument to a subcommand" "unexpected argument 'now' for 'detach'" \
	"$TSH" detach now
expect_fail "option of another command" "-o/--output does not apply to 'live view'" \
	"$TSH" -o "$TMP/x" 1
expect_fail "filter on snapshot" "-L/--lport does not apply to 'snapshot'" \
	"$TSH" snapshot -L 80
expect_fail "a control byte stays on one line" "invalid INTERVAL '1\?2'" "$TSH" $'1\n2'

# --- INTERVAL and COUNT ---------------------------------------------------
for v in 0 0.0 abc 1e999 inf nan 0x10 "" " 1" 1s 99999999999999999999 1e-999; do
	expect_fail "INTERVAL '$v'" "invalid INTERVAL" "$TSH" "$v" 1
done
expect_fail "INTERVAL -1" "unknown option '-1'" "$TSH" -1 1
expect_fail "INTERVAL -1 after --" "invalid INTERVAL '-1'" "$TSH" -- -1 1
for v in 0 abc 1.5 "" 99999999999999999999 1000000001 1x; do
	expect_fail "COUNT '$v'" "invalid COUNT" "$TSH" 1 "$v"
done
expect_fail "COUNT -1" "unknown option '-1'" "$TSH" 1 -1
expect_fail "a third positional" "unexpected argument '3'" "$TSH" 1 2 3

# --- -N -------------------------------------------------------------------
expect_fail "-N missing path" "-N $TMP/none: No such file or directory" "$TSH" -N "$TMP/none" 0.1 1
expect_fail "-N /etc/passwd" "-N /etc/passwd: not a network namespace" "$TSH" -N /etc/passwd 0.1 1
expect_fail "-N a mount namespace" "-N /proc/self/ns/mnt: not a network namespace" \
	"$TSH" -N /proc/self/ns/mnt 0.1 1
expect_fail "-N a directory" "not a network namespace" "$TSH" -N /proc/self/ns 0.1 1
expect_fail "-N a path with a newline stays one line" "-N $TMP/a\?b: No such file" \
	"$TSH" -N "$TMP/a"$'\n'"b" 0.1 1
expect_fail "attach -N /etc/passwd" "not a network namespace" \
	"$TSH" attach -N /etc/passwd --pin-path "$PIN"
check "refused attach left no pin directory" test ! -e "$PIN"

# --- --pin-path -----------------------------------------------------------
mkdir -p "$TMP/notbpf"
bpftool map create "$PIN-file" type array key 4 value 4 entries 1 name tsh_err_file
ln -s /sys/fs/bpf "$PIN-link"
for cmd in attach snapshot status detach; do
	expect_fail "$cmd --pin-path not on bpffs" "is not on a BPF filesystem|nothing attached|no pins" \
		"$TSH" $cmd --pin-path "$TMP/notbpf"
	expect_fail "$cmd --pin-path a file on bpffs" "is not a directory" \
		"$TSH" $cmd --pin-path "$PIN-file"
	expect_fail "$cmd --pin-path a symlink" "is a symlink \(refused\)" \
		"$TSH" $cmd --pin-path "$PIN-link"
done
check "--pin-path refusals left the file pin" test -e "$PIN-file"
check "--pin-path refusals touched nothing under the symlink's target" \
	test ! -e /sys/fs/bpf/main_link

# --- snapshot -o ----------------------------------------------------------
if check "attach for the -o cases" sh -c "'$TSH' attach --pin-path '$PIN' -N '$NSPATH' >/dev/null"; then
	ip netns exec "$NS" python3 "$TOP/tests/traffic.py" -n 3 >/dev/null
	expect_fail "-o into a missing directory" "-o $TMP/missing/out.prom: .*No such file" \
		"$TSH" snapshot --pin-path "$PIN" -o "$TMP/missing/out.prom"
	echo previous >"$TMP/target"
	ln -s "$TMP/target" "$TMP/link.prom"
	expect_fail "-o onto a symlink" "is a symlink \(refused\)" \
		"$TSH" snapshot --pin-path "$PIN" -o "$TMP/link.prom"
	check "-o onto a symlink: its target untouched" grep -qx previous "$TMP/target"
	expect_fail "-o onto a directory" "is a directory" \
		"$TSH" snapshot --pin-path "$PIN" -o "$TMP/notbpf"

	# A read-only file system: the previous file stays, byte for byte.
	mkdir "$TMP/ro"
	if mount -t tmpfs -o size=1m,mode=0755 tsh-errors-ro "$TMP/ro"; then
		on_exit "umount '$TMP/ro'"
		"$TSH" snapshot --pin-path "$PIN" -f prometheus -o "$TMP/ro/tsh.prom"
		cp "$TMP/ro/tsh.prom" "$TMP/ro.before"
		mount -o remount,ro "$TMP/ro"
		ip netns exec "$NS" python3 "$TOP/tests/traffic.py" -n 2 >/dev/null
		expect_fail "-o on a read-only file system" "-o $TMP/ro/tsh.prom: .*Read-only" \
			"$TSH" snapshot --pin-path "$PIN" -f prometheus -o "$TMP/ro/tsh.prom"
		check "read-only: the previous file is intact" cmp -s "$TMP/ro.before" "$TMP/ro/tsh.prom"
		umount "$TMP/ro"
	else
		not_ok "mount a small tmpfs"
	fi

	# A full file system: the write fails, the previous file stays, no temp file left.
	mkdir "$TMP/full"
	if mount -t tmpfs -o size=256k,mode=0755 tsh-errors-full "$TMP/full"; then
		on_exit "umount '$TMP/full'"
		"$TSH" snapshot --pin-path "$PIN" -f prometheus -o "$TMP/full/tsh.prom"
		cp "$TMP/full/tsh.prom" "$TMP/full.before"
		dd if=/dev/zero of="$TMP/full/fill" bs=4k 2>/dev/null
		ip netns exec "$NS" python3 "$TOP/tests/traffic.py" -n 2 >/dev/null
		expect_fail "-o on a full file system" "-o $TMP/full/tsh.prom: cannot write: No space" \
			"$TSH" snapshot --pin-path "$PIN" -f prometheus -o "$TMP/full/tsh.prom"
		check "full: the previous file is intact" cmp -s "$TMP/full.before" "$TMP/full/tsh.prom"
		expect_eq "full: no temporary file left" "fill tsh.prom" \
			"$(ls -A "$TMP/full" | tr '\n' ' ' | sed 's/ $//')"
		rm -f "$TMP/full/fill"
		check "full: once there is room, -o works again" \
			"$TSH" snapshot --pin-path "$PIN" -f prometheus -o "$TMP/full/tsh.prom"
		umount "$TMP/full"
	else
		not_ok "mount a small tmpfs"
	fi

	# stdout closed: the next open() must not take its place (the state
	# file's lock file received the snapshot, and the run exited 0).
	expect_fail "snapshot --state-file, stdout closed" "cannot write the output: Bad file" \
		sh -c '"$0" snapshot --pin-path "$1" --state-file "$2" >&-' "$TSH" "$PIN" "$TMP/st"
	check "stdout closed: nothing written into the lock file" test ! -s "$TMP/st.lock"
	check "stdout closed: the state was not advanced" test ! -e "$TMP/st"
	expect_fail "status, stdout closed" "cannot write the output: Bad file" \
		sh -c '"$0" status --pin-path "$1" >&-' "$TSH" "$PIN"
	"$TSH" detach --pin-path "$PIN" >/dev/null
fi

# --- Privileges -----------------------------------------------------------
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
for cmd in "0.1 1" attach snapshot status; do
	# shellcheck disable=SC2086
	expect_fail "not root: $cmd" "missing CAP_BPF and CAP_PERFMON: run as root" \
		$NOBODY "$TSH" $cmd
done
expect_fail "not root: detach" "Permission denied|nothing attached" $NOBODY "$TSH" detach
expect_fail "root without CAP_BPF/CAP_PERFMON (capsh)" "missing CAP_BPF and CAP_PERFMON" \
	capsh --drop=cap_bpf,cap_perfmon,cap_sys_admin -- -c "'$TSH' 0.1 1"
expect_fail "root without CAP_BPF" "missing CAP_BPF:" \
	capsh --drop=cap_bpf,cap_sys_admin -- -c "'$TSH' 0.1 1"
expect_fail "root without CAP_PERFMON" "missing CAP_PERFMON:" \
	capsh --drop=cap_perfmon,cap_sys_admin -- -c "'$TSH' 0.1 1"
expect_fail "root without CAP_BPF/CAP_PERFMON (setpriv)" "missing CAP_BPF and CAP_PERFMON" \
	setpriv --inh-caps=-bpf,-perfmon,-sys_admin --bounding-set=-bpf,-perfmon,-sys_admin \
	"$TSH" attach --pin-path "$PIN"

# --- Output errors --------------------------------------------------------
# expect_fail's own redirections come first; these run through sh -c.
expect_fail "stdout is /dev/full" "cannot write the output: No space left on device" \
	sh -c '"$0" 0.1 1 >/dev/full' "$TSH"
expect_fail "stdout is /dev/full, json" "cannot write the output" \
	sh -c '"$0" -f json 0.1 1 >/dev/full' "$TSH"
expect_fail "stdout closed" "cannot write the output: Bad file descriptor" \
	sh -c '"$0" 0.1 1 >&-' "$TSH"
expect_fail "--help to /dev/full" "cannot write the output: No space left on device" sh -c '"$0" --help >/dev/full' "$TSH"

# SIGPIPE: the reader goes away; the tool ends quietly with status 0, well
# before its five intervals are over.
start=$(date +%s%N)
"$TSH" -f json 0.1 50 2>"$TMP/pipe.err" | head -1 >/dev/null
status=("${PIPESTATUS[@]}")
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "| head -1: tool status 0, head status 0" "0 0" "${status[*]}"
expect_eq "| head -1: no error on stderr" "" "$(grep -v '^tcpstatehist: warning: ' "$TMP/pipe.err")"
check "| head -1: ends at the next write, not after 50 intervals ($elapsed_ms ms)" \
	[ "$elapsed_ms" -lt 4000 ]

# --- Signals --------------------------------------------------------------
# Links on inet_sock_set_state nobody holds: not in BEFORE, not pinned, not in
# any process's fdinfo. The live view pins nothing and the kernel drops a
# link with the last fd, so such a link would be ours, leaked; other tests
# running at the same time own theirs through an fd or a pin.
orphan_links() {
	local before=$1
	python3 - "$before" <<-'EOF'
		import glob, json, re, subprocess, sys
		before = set(json.loads(sys.argv[1]))
		links = json.loads(subprocess.run(["bpftool", "link", "show", "-j", "-f"],
		                                  capture_output=True, text=True).stdout or "[]")
		held = set()
		for path in glob.glob("/proc/[0-9]*/fdinfo/*"):
		    try:
		        m = re.search(r"^link_id:\s*(\d+)", open(path).read(), re.M)
		    except OSError:
		        continue
		    if m:
		        held.add(int(m.group(1)))
		print(sum(1 for l in links if l.get("tp_name") == "inet_sock_set_state"
		          and l["id"] not in before and l["id"] not in held and not l.get("pinned")))
	EOF
}

# settled_orphan_links BEFORE: orphan_links once none are left, or after 5 s
# (the kernel drops a link when the last fd goes, a moment after exit).
settled_orphan_links() {
	local left i
	for ((i = 0; i < 50; i++)); do
		left=$(orphan_links "$1")
		[ "$left" = 0 ] && break
		sleep 0.1
	done
	echo "$left"
}

link_ids() {
	bpftool link show -j | python3 -c 'import json, sys
print(json.dumps([l["id"] for l in json.load(sys.stdin) if l.get("tp_name") == "inet_sock_set_state"]))'
}

# errors FILE: true when FILE has a line that is not a warning (a warning
# depends on what else runs on the machine, e.g. tcpstates).
errors() {
	grep -qv '^tcpstatehist: warning: ' "$1"
}

# SIGHUP: like SIGINT/SIGTERM.
BEFORE=$(link_ids)
"$TSH" -f json -N "$NSPATH" >"$TMP/hup.json" 2>"$TMP/hup.err" &
pid=$!
if check "SIGHUP: the live view attaches" wait_attached $pid; then
	ip netns exec "$NS" python3 "$TOP/tests/traffic.py" -n 4 >/dev/null
	kill -HUP $pid
	check "SIGHUP: exits" wait_exit $pid 5
	expect_eq "SIGHUP: status 0" 0 "$EXIT"
	expect_eq "SIGHUP: no error on stderr" "" "$(grep -v '^tcpstatehist: warning: ' "$TMP/hup.err")"
	check "SIGHUP: the partial summary printed" $JSONQ validate <"$TMP/hup.json"
	expect_eq "SIGHUP: the partial summary counts the traffic" 4 \
		"$($JSONQ count SYN_SENT ESTABLISHED <"$TMP/hup.json")"
	expect_eq "SIGHUP: no link left" 0 "$(orphan_links "$BEFORE")"
fi

# SIGINT and SIGTERM at random short delays after the tool started: during
# load, attach, a read, a write. Each run must end, with status 0 (the tool
# was waiting for the signal) or 128+signal (it came before the tool blocked
# it: nothing loaded yet), and leave no link behind.
#
# Two things of the shell's, not the tool's, are kept out: a non-interactive
# shell starts background jobs with SIGINT ignored (an ignored signal that
# comes before the tool blocks it is discarded by the kernel, as the parent
# asked; job control, set -m, leaves SIGINT alone), and a signal that comes
# between fork and exec meets the shell's own handlers. So each run waits
# for the exec, then for the delay (builtins only: a fork takes a millisecond).
# set -m cannot undo an ignore the shell itself inherited (tests/run.sh started
# in the background by a script): env --default-signal gives the tool SIGINT's
# default disposition, as a terminal would.
storm() {
	local round delay sig fmt pid want n bad=""
	set -m
	# read -t on a fifo nobody writes: a delay without forking a sleep(1).
	mkfifo "$TMP/tick"
	exec 9<>"$TMP/tick"
	for round in 1 2 3; do
		for delay in 0 0.001 0.002 0.005 0.01 0.02 0.03 0.05 0.08 0.12 0.2 0.3; do
			for sig in INT TERM; do
				fmt=$([ $((RANDOM % 2)) = 0 ] && echo json || echo text)
				# A 10 ms interval: reads and writes all the time.
				env --default-signal=INT "$TSH" -f $fmt 0.01 >"$TMP/sig.out" \
					2>"$TMP/sig.err" &
				pid=$!
				for ((n = 0; n < 100000; n++)); do
					[[ /proc/$pid/exe -ef $TSH ]] && break
				done
				[ "$delay" = 0 ] || read -r -t "$delay" -u 9 _
				kill -$sig $pid
				if ! wait_exit $pid 10; then
					bad+=" [$sig after ${delay}s: did not exit]"
					continue
				fi
				want=$([ $sig = INT ] && echo 130 || echo 143)
				if [ "$EXIT" != 0 ] && [ "$EXIT" != "$want" ]; then
					bad+=" [$sig after ${delay}s: status $EXIT: $(head -c 200 "$TMP/sig.err")]"
				elif [ "$EXIT" = 0 ] && errors "$TMP/sig.err"; then
					bad+=" [$sig after ${delay}s: stderr: $(head -c 200 "$TMP/sig.err")]"
				fi
				echo "$EXIT" >>"$TMP/storm.status"
			done
		done
	done
	echo "$bad"
}
BEFORE=$(link_ids)
bad=$(storm 2>/dev/null)
expect_eq "SIGINT/SIGTERM at random moments (status: count $(sort -n "$TMP/storm.status" |
	uniq -c | awk '{printf " %s:%s", $2, $1}')): every run ended cleanly" "" "$bad"
expect_eq "SIGINT/SIGTERM at random moments: no inet_sock_set_state link left" 0 \
	"$(settled_orphan_links "$BEFORE")"

# The same with output into a pipe that is being read: signal during a write.
BEFORE=$(link_ids)
bad=""
mkfifo "$TMP/pipe"
for delay in 0.05 0.1 0.15 0.2 0.25; do
	cat "$TMP/pipe" >/dev/null &
	reader=$!
	"$TSH" -f json 0.001 >"$TMP/pipe" 2>"$TMP/sig.err" &
	pid=$!
	sleep "$delay"
	kill -TERM $pid
	wait_exit $pid 10 || bad+=" [did not exit]"
	[ "$EXIT" = 0 ] || [ "$EXIT" = 143 ] || bad+=" [status $EXIT]"
	# A reader slower to open the pipe than the signal (under emulation) would
	# wait for a writer forever.
	kill $reader 2>/dev/null
	wait $reader
	errors "$TMP/sig.err" && bad+=" [$(head -c 200 "$TMP/sig.err")]"
done
expect_eq "SIGTERM while writing into a pipe: ends cleanly, no message" "" "$bad"
expect_eq "SIGTERM while writing into a pipe: no link left" 0 "$(settled_orphan_links "$BEFORE")"

finish
