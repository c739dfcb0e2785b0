#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Breakdowns (--by): real connections in a namespace made here, counted per
# key, exactly. Every check also holds the keys to the machine-wide total:
# the per-key counts always add up to it. Where the kernel skipped events
# (missed > 0), a count may fall short of its truth by no more than missed.
source "$(dirname "$0")/../lib.sh"

live_test_setup
TRACEQ="python3 $TOP/tests/traceq.py"

# live OUT ARGS...: the live view of the test's namespace (start_live, lib.sh).
live() {
	local out=$1
	shift
	start_live "$out" -N "$NSPATH" "$@"
}

# key_pairs FILE FIELD VALUE: "OLD NEW count" per pair of one key, sorted.
key_pairs() {
	jq -r --arg f "$2" --arg v "$3" '.transitions[] | select(.[$f] == $v) |
		"\(.old_state) \(.new_state) \(.count)"' "$1" | sort
}
missed() { jq -r '.missed' "$1"; }
# expect_key NAME FILE FIELD VALUE N [SERVERS]: the key holds exactly
# fin_truth N SERVERS, or falls short of it by no more than missed.
expect_key() {
	local got want short
	got=$(key_pairs "$2" "$3" "$4")
	want=$(fin_truth "$5" "${6:-1}" | sort)
	if [ "$got" = "$want" ]; then
		ok "$1"
		return
	fi
	short=$(($(fin_truth "$5" "${6:-1}" | awk '{s += $3} END {print s}') -
		$(key_pairs "$2" "$3" "$4" | awk '{s += $3} END {print s + 0}')))
	if [ "$(missed "$2")" -gt 0 ] && [ $short -gt 0 ] && [ $short -le "$(missed "$2")" ]; then
		ok "$1 (short by $short, missed $(missed "$2"))"
	else
		not_ok "$1" "want $(echo $want), got $(echo $got)"
	fi
}
# expect_sum NAME FILE: the keys' counts add up to the machine-wide total.
expect_sum() {
	expect_eq "$1" "$(jq '.total' "$2")" "$(jq '[.transitions[].count] | add // 0' "$2")"
}

# Two servers: 300 connections held 10 ms on one port, 700 at once on another.
if live "$TMP/ports.json" -f json --by port; then
	$TRAFFIC -n 300 -p 7001 --hold 0.01
	$TRAFFIC -n 700 -p 7002
	stop_live
	check "--by port: valid JSON" $JSONQ validate <"$TMP/ports.json"
	expect_eq "--by port: by is port" port "$(jq -r .by "$TMP/ports.json")"
	expect_key "--by port: port 7001 holds its 300 connections, both ends" \
		"$TMP/ports.json" port 7001 300
	expect_key "--by port: port 7002 holds its 700 connections, both ends" \
		"$TMP/ports.json" port 7002 700
	expect_eq "--by port: no other key" "7001 7002" \
		"$(jq -r '[.transitions[].port] | unique | join(" ")' "$TMP/ports.json")"
	expect_sum "--by port: the keys sum to the total" "$TMP/ports.json"
	# The hold is a sleep: at least 10 ms, so above the (4096, 8192] us bucket.
	expect_count "--by port: 7001's held connections in buckets above 8192 us" 300 \
		"$(jq '[.transitions[] | select(.port == "7001" and .old_state == "ESTABLISHED"
			and .new_state == "FIN_WAIT1") | .buckets[] | select(.le_us == null or
			.le_us > 8192) | .count] | add // 0' "$TMP/ports.json")" "$(missed "$TMP/ports.json")"
fi

# lport and rport as they are: the listener's 2 and 5 per accepted socket under
# the local port; 6 per client under the remote port (the accepted sockets' birth has no
# remote port yet), so 102 and 120 for 20 connections.
for key in "lport 7003 102" "rport 7004 120"; do
	read -r by port want <<<"$key"
	if live "$TMP/$by.json" -f json --by "$by"; then
		$TRAFFIC -n 20 -p "$port"
		stop_live
		expect_count "--by $by: $want transitions under $port" "$want" \
			"$(jq --arg b "$by" --arg p "$port" \
				'[.transitions[] | select(.[$b] == $p) | .count] | add' "$TMP/$by.json")" \
			"$(missed "$TMP/$by.json")"
		expect_sum "--by $by: the keys sum to the total" "$TMP/$by.json"
	fi
done

# --max-keys 3 with 8 ports: 3 keys of their own, the other 5 under other.
if live "$TMP/max.json" -f json --by port --max-keys 3; then
	for p in 7011 7012 7013 7014 7015 7016 7017 7018; do
		$TRAFFIC -n 5 -p $p
	done
	stop_live
	expect_eq "--max-keys 3: three ports and other" "3 1" \
		"$(jq -r '[.transitions[].port] | unique | [(map(select(. != "other")) | length),
			(map(select(. == "other")) | length)] | join(" ")' "$TMP/max.json")"
	expect_key "--max-keys 3: other holds the 25 connections of 5 servers" "$TMP/max.json" \
		port other 25 5
	expect_sum "--max-keys 3: the keys sum to the total" "$TMP/max.json"
	expect_eq "--max-keys 3: 8 servers' transitions in all" $((8 * 57)) \
		"$(jq '.total + .missed' "$TMP/max.json")"
fi

# netns: the namespace's inode, and its `ip netns` name in text.
if live "$TMP/netns.json" -f json --by netns; then
	$TRAFFIC -n 10 -p 7005
	stop_live
	inode=$(stat -L -c %i "$NSPATH")
	expect_eq "--by netns: one key, the namespace's inode" "$inode" \
		"$(jq -r '[.transitions[].netns] | unique | join(" ")' "$TMP/netns.json")"
	expect_eq "--by netns: its name" "$NS" \
		"$(jq -r '[.transitions[].netns_name] | unique | join(" ")' "$TMP/netns.json")"
fi

# Prometheus: a label named as the key; promtool accepts it; text shows a table per key.
if live "$TMP/prom.txt" -f prometheus --by port; then
	$TRAFFIC -n 3 -p 7006
	stop_live
	expect_count "--by port, prometheus: 7006's transitions" 35 \
		"$(awk '/^tcpstatehist_transitions_total\{port="7006",/ {s += $2} END {print s}' \
			"$TMP/prom.txt")" \
		"$(awk '/^tcpstatehist_missed_transitions_total / {s += $2} END {print s}' \
			"$TMP/prom.txt")"
	if command -v promtool >/dev/null; then
		check "--by port, prometheus: promtool check metrics" \
			promtool check metrics <"$TMP/prom.txt"
	fi
fi
if live "$TMP/text.txt" -f text --by port; then
	$TRAFFIC -n 3 -p 7007
	stop_live
	expect_count "--by port, text: a table for port 7007" 35 \
		"$(sed -n 's/^port 7007: \([0-9]*\) transitions$/\1/p' "$TMP/text.txt")" \
		"$(awk '/^missed: / {s += $2} END {print s}' "$TMP/text.txt")"
fi

# trace --by port: each record with its key, both ends of a connection under the server's port.
"$TSH" trace -N "$NSPATH" --by port -f json >"$TMP/trby.json" 2>"$TMP/trby.err" &
LIVE_PID=$!
if check "trace --by port attaches" wait_attached $LIVE_PID; then
	$TRAFFIC -n 3 -p 7040
	stop_live
	expect_count "trace --by port: 7040's 3 connections, both ends, under 7040" 35 \
		"$(jq -s '[.[] | select(.port == "7040")] | length' "$TMP/trby.json")" \
		"$($TRACEQ missed <"$TMP/trby.json")"
	expect_eq "trace --by port: every record has its key" "" \
		"$(jq -r 'select(.old_state and (has("port") | not)) | .cookie' "$TMP/trby.json")"
fi

# cgroups: each server and its clients in a cgroup of their own; one removed before
# the summary shows as its id.
CGROOT=$(findmnt -n -t cgroup2 -o TARGET | head -1)
if [ -z "$CGROOT" ]; then
	echo "skip - no cgroup2 mount: no --by cgroup checks"
else
	A=/tsh-by-$$-a
	B=/tsh-by-$$-b
	mkdir "$CGROOT$A" "$CGROOT$B"
	on_exit "rmdir '$CGROOT$A/sub' '$CGROOT$A' '$CGROOT$B'"
	in_cgroup() {
		local cg=$1
		shift
		sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$CGROOT$cg" "$@"
	}
	B_ID=$(stat -c %i "$CGROOT$B")
	if live "$TMP/cg.json" -f json --by cgroup; then
		in_cgroup "$A" $TRAFFIC -n 40 -p 7008
		in_cgroup "$B" $TRAFFIC -n 60 -p 7009
		rmdir "$CGROOT$B"
		stop_live
		expect_key "--by cgroup: $A holds its 40 connections" "$TMP/cg.json" cgroup "$A" 40
		expect_key "--by cgroup: removed $B shows as its id, 60 connections" \
			"$TMP/cg.json" cgroup "$B_ID" 60
		expect_sum "--by cgroup: the keys sum to the total" "$TMP/cg.json"
	fi
	# --cgroup keeps the sockets of a cgroup and its descendants: those of A/sub, not B's.
	mkdir "$CGROOT$B" "$CGROOT$A/sub"
	if live "$TMP/cgf.json" -f json --cgroup "$CGROOT$A" --by cgroup; then
		in_cgroup "$A/sub" $TRAFFIC -n 5 -p 7010
		in_cgroup "$B" $TRAFFIC -n 5 -p 7011
		stop_live
		expect_key "--cgroup A: A/sub's 5 connections" "$TMP/cgf.json" cgroup "$A/sub" 5
		expect_eq "--cgroup A: nothing else" "$A/sub" \
			"$(jq -r '[.transitions[].cgroup] | unique | join(" ")' "$TMP/cgf.json")"
	fi
	# trace --cgroup --by cgroup: the records of A/sub's sockets, named so; none of B's.
	"$TSH" trace -N "$NSPATH" --cgroup "$CGROOT$A" --by cgroup -f json >"$TMP/cgt.json" \
		2>"$TMP/cgt.err" &
	LIVE_PID=$!
	if check "trace --cgroup A attaches" wait_attached $LIVE_PID; then
		in_cgroup "$A/sub" $TRAFFIC -n 3 -p 7032
		in_cgroup "$B" $TRAFFIC -n 3 -p 7033
		stop_live
		expect_count "trace --cgroup A: A/sub's 3 connections, a record per transition" 35 \
			"$($TRACEQ pairs 7032 <"$TMP/cgt.json" | awk '{s += $3} END {print s + 0}')" \
			"$($TRACEQ missed <"$TMP/cgt.json")"
		expect_count "trace --by cgroup: each of them under $A/sub" 35 \
			"$(jq -s --arg c "$A/sub" '[.[] | select(.cgroup == $c)] | length' \
				"$TMP/cgt.json")" "$($TRACEQ missed <"$TMP/cgt.json")"
		expect_eq "trace --cgroup A: none of B's" "" "$($TRACEQ pairs 7033 <"$TMP/cgt.json")"
	fi
	# attach --cgroup: the same filter, fixed at attach, shown by status, used by snapshot.
	PINC=/sys/fs/bpf/tsh-by-$$-cg
	on_exit "'$TSH' detach --pin-path '$PINC' >/dev/null 2>&1"
	if check "attach --cgroup A --by cgroup" "$TSH" attach -N "$NSPATH" --cgroup "$CGROOT$A" \
		--by cgroup --pin-path "$PINC"; then
		in_cgroup "$A/sub" $TRAFFIC -n 4 -p 7030
		in_cgroup "$B" $TRAFFIC -n 4 -p 7031
		"$TSH" snapshot --pin-path "$PINC" -f json >"$TMP/cga.json"
		expect_key "attach --cgroup A: snapshot holds A/sub's 4 connections" "$TMP/cga.json" \
			cgroup "$A/sub" 4
		expect_eq "attach --cgroup A: nothing else" "$A/sub" \
			"$(jq -r '[.transitions[].cgroup] | unique | join(" ")' "$TMP/cga.json")"
		check "status: the cgroup filter" grep -qx \
			"filters:      -N $NSPATH --cgroup $CGROOT$A" <("$TSH" status --pin-path "$PINC")
		expect_eq "status JSON: filters.cgroup" "$CGROOT$A" \
			"$("$TSH" status --pin-path "$PINC" -f json | jq -r .filters.cgroup)"
		check "attach --cgroup: detach" "$TSH" detach --pin-path "$PINC"
	fi
	rmdir "$CGROOT$A/sub" "$CGROOT$B" "$CGROOT$A" 2>/dev/null
	check "--by cgroup: the test's cgroups are removed" \
		test ! -e "$CGROOT$A" -a ! -e "$CGROOT$B"
fi

# Daemonless: the key is fixed at attach, shown by status, used by every snapshot;
# --state-file deltas per key.
PIN=/sys/fs/bpf/tsh-by-$$
on_exit "'$TSH' detach --pin-path '$PIN'"
check "attach --by port --max-keys 2" "$TSH" attach -N "$NSPATH" --by port --max-keys 2 \
	--pin-path "$PIN"
check "status: the breakdown" grep -qx \
	'breakdown:    by port, at most 2 keys (later keys count as other)' \
	<("$TSH" status --pin-path "$PIN")
expect_eq "status JSON: by and max_keys" "port 2" \
	"$("$TSH" status --pin-path "$PIN" -f json | jq -r '"\(.by) \(.max_keys)"')"
snap() { "$TSH" snapshot --pin-path "$PIN" -f json --state-file "$TMP/state" >"$1"; }
$TRAFFIC -n 30 -p 7021
snap "$TMP/s1.json"
expect_key "snapshot --state-file: port 7021's 30 connections" "$TMP/s1.json" port 7021 30
$TRAFFIC -n 20 -p 7021
$TRAFFIC -n 10 -p 7022
$TRAFFIC -n 5 -p 7023
snap "$TMP/s2.json"
check "snapshot --state-file: valid JSON" $JSONQ validate <"$TMP/s2.json"
expect_key "snapshot --state-file: the delta of port 7021, 20 connections" "$TMP/s2.json" \
	port 7021 20
expect_key "snapshot --state-file: port 7022, new, 10 connections" "$TMP/s2.json" port 7022 10
expect_key "snapshot --state-file: 7023 beyond --max-keys 2, under other" "$TMP/s2.json" \
	port other 5
expect_sum "snapshot --state-file: the keys sum to the total" "$TMP/s2.json"
snap "$TMP/s3.json"
expect_eq "snapshot --state-file: nothing new, nothing counted" 0 "$(jq .total "$TMP/s3.json")"
"$TSH" snapshot --pin-path "$PIN" -f prometheus >"$TMP/pinned.prom"
expect_eq "snapshot prometheus: port 7021's transitions since attach" $((50 * 11 + 2 * 2)) \
	"$(awk '/^tcpstatehist_transitions_total\{port="7021",/ {s += $2} END {print s}' \
		"$TMP/pinned.prom")"
if command -v promtool >/dev/null; then
	check "snapshot prometheus --by: promtool check metrics" \
		promtool check metrics <"$TMP/pinned.prom"
fi
mkdir "$TMP/textfile"
"$TSH" snapshot --pin-path "$PIN" -f prometheus -o "$TMP/textfile/tsh.prom"
if scrape_textfiles "$TMP/textfile" "$TMP/scrape"; then
	check "node_exporter serves port 7021's LAST_ACK -> CLOSE" \
		scraped "$TMP/scrape" tcpstatehist_transitions_total 50 port=7021 \
		old_state=LAST_ACK new_state=CLOSE
	check "node_exporter serves other's histogram" \
		scraped "$TMP/scrape" tcpstatehist_state_duration_seconds_count 5 port=other \
		old_state=LAST_ACK new_state=CLOSE
	check "node_exporter read the file without errors" \
		scraped "$TMP/scrape" node_textfile_scrape_error 0
else
	not_ok "node_exporter scrapes the textfile directory" "$(cat "$TMP/scrape.log")"
fi
check "detach" "$TSH" detach --pin-path "$PIN"

# Bad input: one line, exit 2, nothing loaded.
expect_exit2() {
	local name=$1
	shift
	"$@" >/dev/null 2>"$TMP/bad.err"
	expect_eq "$name: exit 2, one line" "2 1" "$? $(wc -l <"$TMP/bad.err")"
}
expect_exit2 "--by unknown key" "$TSH" --by socket 1 1
expect_exit2 "--max-keys 0" "$TSH" --by port --max-keys 0 1 1
expect_exit2 "--max-keys huge" "$TSH" --by port --max-keys 1000000 1 1
expect_exit2 "--max-keys without --by" "$TSH" --max-keys 5 1 1
expect_exit2 "--by on snapshot" "$TSH" snapshot --by port
expect_exit2 "trace --max-keys" "$TSH" trace --by port --max-keys 3
expect_fail "attach --cgroup on a directory that is not a cgroup" "not a cgroup v2 directory" \
	"$TSH" attach --cgroup "$TMP" --pin-path "$PIN"
check "attach --cgroup on a directory that is not a cgroup: nothing attached" test ! -e "$PIN"
expect_exit2 "--cgroup on status" "$TSH" status --cgroup / --pin-path "$PIN"
expect_fail "--cgroup on a directory that is not a cgroup" "not a cgroup v2 directory" \
	"$TSH" --cgroup "$TMP" 1 1
expect_fail "--cgroup on a missing path" "No such file" "$TSH" --cgroup "$TMP/none" 1 1
expect_exit2 "attach --max-keys 0" "$TSH" attach --by port --max-keys 0 --pin-path "$PIN"
check "attach --max-keys 0: nothing attached" test ! -e "$PIN"
finish
