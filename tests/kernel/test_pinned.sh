#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Daemonless mode: attach, snapshot (cumulative, --state-file, JSON,
# Prometheus through a real node_exporter), status, detach, and the errors.
# Traffic is N loopback connections in a test namespace, each closed by the
# client first; -N keeps every other socket on the machine out of the counts.
set -u
. "$(dirname "$0")/../lib.sh"

PIN=/sys/fs/bpf/tsh-test-$$
PIN2=/sys/fs/bpf/tsh-test2-$$
WORK=$(mktemp -d /tmp/tsh-pinned.XXXXXX)
on_exit "rm -rf '$WORK'"
on_exit "'$TSH' detach --pin-path '$PIN'"
on_exit "'$TSH' detach --pin-path '$PIN2'"
# new_netns in $(...) would register the namespace in a subshell: read a file.
new_netns >"$WORK/ns" || { not_ok "create a network namespace"; finish; exit; }
NS=$(cat "$WORK/ns")

# traffic N PORT: reset_connections in the test's namespace. RST, not
# FIN: kernel 6.18 sometimes runs no BPF program for a client's
# FIN_WAIT1->FIN_WAIT2 (docs/design.md), which the daemonless mode cannot
# see; the live view's tests cover FIN closes with the audit.
traffic() { reset_connections "$NS" "$1" "$2"; }

# quiet COMMAND...: COMMAND without its stdout (attach and detach say what they did).
quiet() { "$@" >/dev/null; }

# pairs: "OLD NEW count" lines of a JSON snapshot on stdin.
pairs() { $JSONQ pairs; }

# expected_pairs N LISTENERS: what traffic produces, as `pairs` prints it.
expected_pairs() {
	local n=$1 l=$2
	{
		echo "CLOSE SYN_SENT $n"
		echo "SYN_SENT ESTABLISHED $n"
		echo "LISTEN SYN_RECV $n"
		echo "SYN_RECV ESTABLISHED $n"
		echo "ESTABLISHED CLOSE $((2 * n))"
		echo "CLOSE LISTEN $l"
		echo "LISTEN CLOSE $l"
	} | sort
}

# settle: the last ACK of a loopback close is handled in softirq; wait until
# two snapshots agree (bounded) before asserting on exact counts.
settle() {
	local a b i
	for ((i = 0; i < 20; i++)); do
		a=$("$TSH" snapshot --pin-path "$PIN" -f json | $JSONQ total)
		sleep 0.05
		b=$("$TSH" snapshot --pin-path "$PIN" -f json | $JSONQ total)
		[ "$a" = "$b" ] && return 0
	done
	return 1
}

# --- attach, cumulative snapshot -------------------------------------------
expect_fail "snapshot with nothing attached" "nothing attached: no pins at $PIN" \
	"$TSH" snapshot --pin-path "$PIN"
out=$("$TSH" status --pin-path "$PIN")
expect_eq "status with nothing attached exits 1" "1" "$?"
check "status with nothing attached says so" grep -q "attached: *no" <<<"$out"

check "attach" quiet "$TSH" attach --pin-path "$PIN" -N "/run/netns/$NS"
check "pin dir is 0700" test "$(stat -c %a "$PIN")" = 700
check "nine pins" test "$(ls "$PIN" | wc -l)" = 9
MAIN_ID=$(bpftool prog show pinned "$PIN/main_prog" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
RECOVER_ID=$(bpftool prog show pinned "$PIN/recover_prog" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check "programs are attached through their links" \
	sh -c "bpftool link show -j | python3 -c 'import json,sys; ids={l[\"prog_id\"] for l in json.load(sys.stdin)}; sys.exit(0 if {$MAIN_ID,$RECOVER_ID} <= ids else 1)'"

traffic 50 8001
settle
"$TSH" snapshot --pin-path "$PIN" -f json >"$WORK/s1.json"
check "snapshot JSON is valid" $JSONQ validate <"$WORK/s1.json"
expect_eq "snapshot: exact counts since attach" "$(expected_pairs 50 1)" "$(pairs <"$WORK/s1.json")"
check "snapshot JSON: interval_s null and since set" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
sys.exit(0 if o["interval_s"] is None and o["since"] else 1)' "$WORK/s1.json"
check "snapshot text says since attach" sh -c "'$TSH' snapshot --pin-path '$PIN' | grep -q '^Since attach'"

# --- --state-file --------------------------------------------------------
S=$WORK/state
"$TSH" snapshot --pin-path "$PIN" -f json --state-file "$S" >"$WORK/f1.json"
expect_eq "first --state-file snapshot: everything since attach" \
	"$(expected_pairs 50 1)" "$(pairs <"$WORK/f1.json")"
check "state file is 0600" test "$(stat -c %a "$S")" = 600
check "lock file is 0600" test "$(stat -c %a "$S.lock")" = 600
traffic 30 8002
settle
"$TSH" snapshot --pin-path "$PIN" -f json --state-file "$S" >"$WORK/f2.json"
expect_eq "--state-file: exactly the second batch" "$(expected_pairs 30 1)" \
	"$(pairs <"$WORK/f2.json")"
check "--state-file JSON: interval_s set, since null" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
sys.exit(0 if o["interval_s"] > 0 and o["since"] is None else 1)' "$WORK/f2.json"
"$TSH" snapshot --pin-path "$PIN" -f json --state-file "$S" >"$WORK/f3.json"
expect_eq "--state-file with no traffic: zero" "0" "$($JSONQ total <"$WORK/f3.json")"

# Two cron runs overlapping while traffic flows: together, exactly the batch.
traffic 400 8003 &
tpid=$!
for r in a b; do
	(for i in 1 2 3 4 5 6; do
		"$TSH" snapshot --pin-path "$PIN" -f json --state-file "$S" >>"$WORK/overlap.json"
	done) &
done
wait
settle
"$TSH" snapshot --pin-path "$PIN" -f json --state-file "$S" >>"$WORK/overlap.json"
expect_eq "overlapping --state-file runs: 13 snapshots" "13" "$($JSONQ lines <"$WORK/overlap.json")"
expect_eq "overlapping --state-file runs: neither lose nor double count" \
	"$(expected_pairs 400 1)" "$(pairs <"$WORK/overlap.json")"

# Damaged state files are refused, and the state is not advanced.
cp "$S" "$WORK/good"
echo garbage >"$S"
expect_fail "garbage state file rejected" "not a tcpstatehist state file" \
	"$TSH" snapshot --pin-path "$PIN" --state-file "$S"
head -c 100 "$WORK/good" >"$S"
expect_fail "truncated state file rejected" "truncated" \
	"$TSH" snapshot --pin-path "$PIN" --state-file "$S"
ln -sf "$WORK/good" "$S"
expect_fail "symlinked state file rejected" "symlink" \
	"$TSH" snapshot --pin-path "$PIN" --state-file "$S"
rm -f "$S"
cp "$WORK/good" "$S"
expect_fail "--state-file with -f prometheus is a usage error" "does not apply to -f prometheus" \
	"$TSH" snapshot --pin-path "$PIN" -f prometheus --state-file "$S"

# A failed write (-o into a missing dir) leaves the state where it was.
expect_fail "-o into a missing directory" "-o $WORK/missing/out: " \
	"$TSH" snapshot --pin-path "$PIN" --state-file "$S" -o "$WORK/missing/out"
check "failed output did not advance the state" cmp -s "$S" "$WORK/good"
ln -s "$WORK/good" "$WORK/link.prom"
expect_fail "-o onto a symlink refused" "symlink" \
	"$TSH" snapshot --pin-path "$PIN" -o "$WORK/link.prom"

# --- Prometheus ------------------------------------------------------------
"$TSH" snapshot --pin-path "$PIN" -f prometheus >"$WORK/tsh.prom"
check "promtool check metrics" sh -c "promtool check metrics <'$WORK/tsh.prom'"
check "prometheus: transitions counter" \
	grep -qx 'tcpstatehist_transitions_total{old_state="CLOSE",new_state="SYN_SENT"} 480' \
	"$WORK/tsh.prom"
check "prometheus: histogram count is the known durations" \
	grep -qx 'tcpstatehist_state_duration_seconds_count{old_state="SYN_SENT",new_state="ESTABLISHED"} 480' \
	"$WORK/tsh.prom"
# missed counts skips of any socket's event (they happen before the filter).
check "prometheus: missed counter" grep -Eqx 'tcpstatehist_missed_transitions_total [0-9]+' \
	"$WORK/tsh.prom"
check "prometheus: attach time gauge" grep -Eqx 'tcpstatehist_attach_time_seconds [1-9][0-9]{9}' \
	"$WORK/tsh.prom"

# End to end: -o into node_exporter's textfile directory, scrape /metrics.
# The exporter listens in a namespace of its own, out of the -N filter's way.
TEXTDIR=$WORK/textfile
mkdir "$TEXTDIR"
check "snapshot -o into the textfile directory" \
	"$TSH" snapshot --pin-path "$PIN" -f prometheus -o "$TEXTDIR/tcpstatehist.prom"
check "-o leaves no temporary file" test "$(ls -A "$TEXTDIR")" = tcpstatehist.prom
check "node_exporter scraped" scrape_textfiles "$TEXTDIR" "$WORK/scrape"
check "node_exporter serves our transitions" \
	scraped "$WORK/scrape" \
		tcpstatehist_transitions_total 960 old_state=ESTABLISHED new_state=CLOSE
check "node_exporter serves our histogram" \
	scraped "$WORK/scrape" \
		tcpstatehist_state_duration_seconds_count 960 old_state=ESTABLISHED new_state=CLOSE
check "node_exporter serves +Inf bucket" \
	scraped "$WORK/scrape" \
		tcpstatehist_state_duration_seconds_bucket 960 old_state=ESTABLISHED new_state=CLOSE le=+Inf
check "node_exporter read the file without errors" \
	scraped "$WORK/scrape" \
		node_textfile_scrape_error 0

# --- status ----------------------------------------------------------------
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
"$TSH" status --pin-path "$PIN" >"$WORK/status.txt"
expect_eq "status exits 0 when attached" "0" "$?"
check "status text: attached, filters, cost" sh -c "
	grep -q '^attached: *yes, since' '$WORK/status.txt' &&
	grep -q '^filters: *-N /run/netns/$NS' '$WORK/status.txt' &&
	grep -q 'tsh_main' '$WORK/status.txt'"
check "status JSON" sh -c "'$TSH' status --pin-path '$PIN' -f json | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o[\"attached\"] is True and o[\"filters\"][\"netns\"] == \"/run/netns/$NS\"
assert o[\"transitions\"] == 6 * 480 + 2 * 3
assert [p[\"name\"] for p in o[\"stats\"][\"programs\"]] == [\"tsh_main\", \"tsh_recover\"]
assert o[\"stats\"][\"source\"] in (\"window\", \"cumulative\")
assert o[\"memlock_bytes\"] > 0
'"
check "status leaves kernel.bpf_stats_enabled as it was" \
	test "$(sysctl -n kernel.bpf_stats_enabled)" = "$STATS_WAS"

# --- attach twice, --replace, layout, half sets ----------------------------
expect_fail "attach twice" "already attached at $PIN since .* \(filters: -N /run/netns/$NS\)" \
	"$TSH" attach --pin-path "$PIN" -N "/run/netns/$NS"
check "attach --replace" quiet "$TSH" attach --pin-path "$PIN" -N "/run/netns/$NS" --replace
expect_eq "--replace restarts the counters" "0" \
	"$("$TSH" snapshot --pin-path "$PIN" -f json | $JSONQ total)"
check "--replace freed the old programs" sh -c "! bpftool prog show id $MAIN_ID >/dev/null 2>&1"
MAIN_ID=$(bpftool prog show pinned "$PIN/main_prog" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
RECOVER_ID=$(bpftool prog show pinned "$PIN/recover_prog" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# A state file from the previous attach at these pins is a reset, not an error.
traffic 20 8004
settle
"$TSH" snapshot --pin-path "$PIN" -f json --state-file "$S" >"$WORK/reset.json"
expect_eq "state of an earlier attach: report since attach" "$(expected_pairs 20 1)" \
	"$(pairs <"$WORK/reset.json")"
check "state of an earlier attach: since set" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
sys.exit(0 if o["interval_s"] is None and o["since"] else 1)' "$WORK/reset.json"

# Another pin path's state file is refused.
check "attach a second pin path" quiet "$TSH" attach --pin-path "$PIN2" -N "/run/netns/$NS"
expect_fail "state file of other pins refused" "belongs to the pins at $PIN, not $PIN2" \
	"$TSH" snapshot --pin-path "$PIN2" --state-file "$S"
check "detach the second pin path" quiet "$TSH" detach --pin-path "$PIN2"

# Pins of another layout: fake a meta map that says v99.
OURS=$("$TSH" --version | sed -n 's/.*pinned layout \([0-9]*\).*/\1/p')
SIZE=$(bpftool map show pinned "$PIN/meta" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes_value"])')
rm "$PIN/meta"
bpftool map create "$PIN/meta" type array key 4 value "$SIZE" entries 1 name tsh_meta
bpftool map update pinned "$PIN/meta" key 0 0 0 0 value 99 $(yes 0 | head -n $((SIZE - 1)))
expect_fail "pins of another layout refused by snapshot" \
	"pins at $PIN are layout v99, this binary reads v$OURS: run 'tcpstatehist detach --pin-path $PIN' then attach" \
	"$TSH" snapshot --pin-path "$PIN"
expect_fail "pins of another layout refused by status" "layout v99, this binary reads v$OURS" \
	"$TSH" status --pin-path "$PIN"
expect_fail "pins of another layout refused by attach" "layout v99, this binary reads v$OURS" \
	"$TSH" attach --pin-path "$PIN"
out=$("$TSH" detach --pin-path "$PIN")
expect_eq "detach of another layout's pins exits 0" "0" "$?"
check "detach says the set was not whole" grep -q "incomplete or foreign-layout" <<<"$out"
check "no program of the replaced set left" sh -c "! bpftool prog show id $MAIN_ID >/dev/null 2>&1 &&
	! bpftool prog show id $RECOVER_ID >/dev/null 2>&1"

# Half a set: snapshot explains, detach cleans it up.
check "attach after detach" quiet "$TSH" attach --pin-path "$PIN" -N "/run/netns/$NS"
MAIN_ID=$(bpftool prog show pinned "$PIN/main_prog" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
RECOVER_ID=$(bpftool prog show pinned "$PIN/recover_prog" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
rm "$PIN/counters"
expect_fail "incomplete pin set detected" "incomplete pin set at $PIN \\(missing counters\\)" \
	"$TSH" snapshot --pin-path "$PIN"
expect_fail "attach over an incomplete set refused" "incomplete pin set" \
	"$TSH" attach --pin-path "$PIN"

# --- detach ----------------------------------------------------------------
out=$("$TSH" detach --pin-path "$PIN")
expect_eq "detach of a half set exits 0" "0" "$?"
check "detach says the set was incomplete" grep -q "incomplete" <<<"$out"
check "pin dir is gone" test ! -e "$PIN"
check "no program of ours left" sh -c "! bpftool prog show id $MAIN_ID >/dev/null 2>&1 &&
	! bpftool prog show id $RECOVER_ID >/dev/null 2>&1"
expect_fail "detach with nothing attached" "nothing attached" "$TSH" detach --pin-path "$PIN"

# A clean attach and detach leaves nothing either.
check "attach again" quiet "$TSH" attach --pin-path "$PIN" -N "/run/netns/$NS"
MAIN_ID=$(bpftool prog show pinned "$PIN/main_prog" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check "detach" quiet "$TSH" detach --pin-path "$PIN"
check "detach: nothing of ours in bpftool prog, no pin dir" sh -c "
	! bpftool prog show id $MAIN_ID >/dev/null 2>&1 && test ! -e '$PIN'"

# --- the live view and the daemonless mode agree ---------------------------
# Over the same connections both give the same pairs, counts and unknowns, on
# every kernel (the kernel matrix runs this file on each).
PIN3=/sys/fs/bpf/tsh-test3-$$
on_exit "'$TSH' detach --pin-path '$PIN3'"
if quiet "$TSH" attach -N "/run/netns/$NS" --pin-path "$PIN3"; then
	"$TSH" -f json -N "/run/netns/$NS" >"$WORK/parity-live" 2>"$WORK/parity-live.err" &
	LIVE=$!
	if wait_attached "$LIVE"; then
		traffic 20 7301
		kill -TERM "$LIVE"
		wait "$LIVE"
		"$TSH" snapshot --pin-path "$PIN3" -f json >"$WORK/parity-pinned"
		expect_eq "live view: nothing missed over 20 connections" "0" \
			"$($JSONQ missed <"$WORK/parity-live")"
		expect_eq "live view and daemonless mode: same pairs, counts and unknowns" \
			"$($JSONQ table <"$WORK/parity-live")" "$($JSONQ table <"$WORK/parity-pinned")"
		expect_eq "a server child's SYN_RECV->ESTABLISHED is known" "20" \
			"$($JSONQ known SYN_RECV ESTABLISHED <"$WORK/parity-pinned")"
	else
		not_ok "live view beside an attached set" "$(cat "$WORK/parity-live.err")"
	fi
	quiet "$TSH" detach --pin-path "$PIN3"
else
	not_ok "attach for the parity test"
fi

# --- --pin-path refusals ---------------------------------------------------
ln -s /sys/fs/bpf "$PIN"
on_exit "rm -f '$PIN'"
expect_fail "--pin-path symlink refused" "is a symlink" "$TSH" attach --pin-path "$PIN"
rm -f "$PIN"
expect_fail "--pin-path not on bpffs refused" "is not on a BPF filesystem" \
	"$TSH" attach --pin-path "$WORK/notbpf"
check "refused --pin-path left no directory behind" test ! -e "$WORK/notbpf"
touch "$WORK/file"
expect_fail "--pin-path not a directory refused" "is not a directory" \
	"$TSH" attach --pin-path "$WORK/file"

finish
