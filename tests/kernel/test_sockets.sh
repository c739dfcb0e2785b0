#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# sockets: the census of TCP sockets in a test namespace, with ages from an
# attached set. tests/sockets_holder.py holds the sockets: some made before
# the attach (age unknown), 20 servers in CLOSE_WAIT and their 20 orphaned
# clients in FIN_WAIT2 (timewait sockets), one SYN_SENT, 3 request sockets
# (SYN_RECV) and their clients, then 5 fresh CLOSE_WAIT. Counts are exact; an age is checked against a wait measured
# around it, as a lower bound only.
set -u
. "$(dirname "$0")/../lib.sh"

PIN=/sys/fs/bpf/tsh-sockets-$$
WORK=$(mktemp -d /tmp/tsh-sockets.XXXXXX)
on_exit "rm -rf '$WORK'"
on_exit "'$TSH' detach --pin-path '$PIN'"
on_exit "touch '$WORK/stop'"
new_netns >"$WORK/ns" || { not_ok "create a network namespace"; finish; exit; }
NS=$(cat "$WORK/ns")
NSPATH=/run/netns/$NS
# A SYN to 10.99.0.1 leaves on a veth whose peer has no address and drops it:
# no answer, no reset (a permanent neighbour entry spares the ARP).
# Without veth (a kernel built without it) the SYN_SENT checks are skipped.
SYN_SENT=1
ip netns exec "$NS" sh -c 'ip link add v0 type veth peer name v1 2>/dev/null &&
	ip addr add 10.99.0.2/24 dev v0 && ip link set v0 up && ip link set v1 up &&
	ip neigh add 10.99.0.1 lladdr 02:00:00:00:00:01 dev v0 nud permanent' ||
	{ SYN_SENT=0; echo "skip - no veth in this kernel: no SYN_SENT socket"; }

census() { "$TSH" sockets -N "$NSPATH" --pin-path "$PIN" "$@"; }
# state_count FILE STATE [FIELD]: a state's count (or unknown) in a census's JSON.
state_count() {
	jq -r --arg s "$2" --arg f "${3:-count}" \
		'[.states[] | select(.state == $s) | .[$f]] | add // 0' "$1"
}
now_ms() { date +%s%3N; }

# The holder in a cgroup of its own, when the unified hierarchy is mounted.
CGROOT=$(findmnt -n -t cgroup2 -o TARGET | head -1)
CGROUP=/tsh-sockets-$$
[ -n "$CGROOT" ] && mkdir "$CGROOT$CGROUP" || CGROUP=
sh -c '[ -z "$1" ] || echo $$ >"$1/cgroup.procs" || exit 1
	exec ip netns exec "$2" python3 "$3" "$4" "$5"' holder "${CGROUP:+$CGROOT$CGROUP}" "$NS" \
	"$TOP/tests/sockets_holder.py" "$WORK" "$SYN_SENT" &
HOLDER=$!
on_exit "kill $HOLDER 2>/dev/null; wait $HOLDER"
[ -z "$CGROUP" ] || on_exit "rmdir '$CGROOT$CGROUP'"
wait_file "$WORK/before" 10 || { not_ok "holder started"; finish; exit; }
check "attach" "$TSH" attach -N "$NSPATH" --pin-path "$PIN" >/dev/null
touch "$WORK/attached"
wait_file "$WORK/old" 10 || { not_ok "holder: old sockets"; finish; exit; }
old_at=$(now_ms)
sleep 3
touch "$WORK/go"
wait_file "$WORK/fresh" 10 || { not_ok "holder: fresh sockets"; finish; exit; }
waited_ms=$(($(now_ms) - old_at))

census -f json --top 100 >"$WORK/all.json" 2>"$WORK/all.err"
check "census exits 0 with nothing on stderr" test ! -s "$WORK/all.err"
expect_eq "CLOSE_WAIT: 25" 25 "$(state_count "$WORK/all.json" CLOSE_WAIT)"
expect_eq "CLOSE_WAIT: every age known" 0 "$(state_count "$WORK/all.json" CLOSE_WAIT unknown)"
expect_eq "FIN_WAIT2: 25 orphaned clients" 25 "$(state_count "$WORK/all.json" FIN_WAIT2)"
expect_eq "SYN_SENT: $SYN_SENT" "$SYN_SENT" "$(state_count "$WORK/all.json" SYN_SENT)"
expect_eq "SYN_SENT: its age known" 0 "$(state_count "$WORK/all.json" SYN_SENT unknown)"
expect_eq "ESTABLISHED: 2 before the attach (ages unknown), 3 after" "5 2" \
	"$(state_count "$WORK/all.json" ESTABLISHED) $(state_count "$WORK/all.json" ESTABLISHED unknown)"
expect_eq "LISTEN before the attach: 3, ages unknown" "3 3" \
	"$(state_count "$WORK/all.json" LISTEN) $(state_count "$WORK/all.json" LISTEN unknown)"
expect_eq "the 20 old CLOSE_WAIT are at least the time waited" 20 "$(jq --argjson w "$waited_ms" \
	'[.oldest[] | select(.state == "CLOSE_WAIT" and .age_ns >= $w * 1000000)] | length' \
	"$WORK/all.json")"
# An orphan whose FIN's ACK is queued behind close()'s own hold of the socket
# stays a full socket in FIN_WAIT2 until its keepalive timer (seen once on
# 6.1-rt, where softirqs are threads): the census shows it as a full socket.
FULL_FW2=$(jq '[.oldest[] | select(.state == "FIN_WAIT2" and .kind == "full")] | length' \
	"$WORK/all.json")
expect_eq "FIN_WAIT2: as many timewait sockets as ss shows" \
	"$(ip netns exec "$NS" ss -tanoH state fin-wait-2 | grep -c 'timer:(timewait')" \
	"$(jq '[.oldest[] | select(.state == "FIN_WAIT2" and .kind == "timewait")] | length' \
		"$WORK/all.json")"
expect_eq "the 20 old FIN_WAIT2 are timewait sockets aged by their timer ($FULL_FW2 full)" 20 \
	"$(jq --argjson w "$waited_ms" '[.oldest[] | select(.state == "FIN_WAIT2" and
	((.kind == "timewait" and .age_source == "timer") or .kind == "full") and
	.age_ns >= ($w - 10) * 1000000)] | length' "$WORK/all.json")"
expect_eq "SYN_RECV: the 3 request sockets, aged from their SYN-ACK" 3 \
	"$(jq --argjson w "$waited_ms" '[.oldest[] | select(.state == "SYN_RECV" and
	.kind == "request" and .age_source == "synack" and .age_ns >= $w * 1000000)] | length' \
	"$WORK/all.json")"
expect_eq "SYN_RECV: 3 in all" 3 "$(state_count "$WORK/all.json" SYN_RECV)"
if [ -n "$CGROUP" ]; then
	expect_eq "full sockets: the holder's cgroup ($CGROUP)" 25 "$(jq --arg c "$CGROUP" \
		'[.oldest[] | select(.state == "CLOSE_WAIT" and .cgroup == $c)] | length' \
		"$WORK/all.json")"
fi
if [ "$SYN_SENT" = 1 ]; then
	expect_eq "SYN_SENT's age is known from the attached set, at least the time waited" \
		"start" "$(jq -r --argjson w "$waited_ms" '[.oldest[] | select(.state == "SYN_SENT"
		and .age_ns >= $w * 1000000) | .age_source] | join(",")' "$WORK/all.json")"
fi

# The kernel sends only the candidates for the oldest list (those older than
# the youngest of the N oldest it has seen): a short list is the head of a long
# one. -L 8000: the servers, all aged from one clock (start times, SYN-ACKs), so
# that the order does not change between the two walks.
census -f json --top 100 -L 8000 >"$WORK/top100.json"
census -f json --top 5 -L 8000 >"$WORK/top5.json"
expect_eq "--top 5: the first 5 of --top 100 (of $(jq '.oldest | length' "$WORK/top100.json"))" \
	"$(jq -c '[.oldest[:5][] | .cookie]' "$WORK/top100.json")" \
	"$(jq -c '[.oldest[] | .cookie]' "$WORK/top5.json")"
counts='[.states[] | [.state, .count, .unknown]]'
expect_eq "--top 5: the same counts as --top 100" "$(jq -c "$counts" "$WORK/top100.json")" \
	"$(jq -c "$counts" "$WORK/top5.json")"

# The per-state counts are ss's, in the same namespace.
ip netns exec "$NS" ss -tanH | awk '{print $1}' | sort | uniq -c |
	awk '{print $2, $1}' >"$WORK/ss.txt"
jq -r '.states[] | "\(.state) \(.count)"' "$WORK/all.json" |
	sed -e 's/^ESTABLISHED/ESTAB/' -e 's/^SYN_SENT/SYN-SENT/' -e 's/^SYN_RECV/SYN-RECV/' \
		-e 's/^FIN_WAIT1/FIN-WAIT-1/' -e 's/^FIN_WAIT2/FIN-WAIT-2/' \
		-e 's/^TIME_WAIT/TIME-WAIT/' -e 's/^CLOSE_WAIT/CLOSE-WAIT/' \
		-e 's/^LAST_ACK/LAST-ACK/' -e 's/^CLOSE /UNCONN /' | sort >"$WORK/census.txt"
check "per-state counts equal ss -tan" diff "$WORK/ss.txt" "$WORK/census.txt"

# --cgroup: the holder's full sockets (only full sockets have a cgroup), none
# in a cgroup of its own that holds nothing.
if [ -n "$CGROUP" ]; then
	census -f json --cgroup "$CGROOT$CGROUP" >"$WORK/cg.json"
	expect_eq "--cgroup: the holder's full sockets, no timewait or request socket" \
		"$((33 + SYN_SENT + FULL_FW2)) $FULL_FW2 0 25" "$(jq -r '"\(.sockets)
\([.states[] | select(.state == "FIN_WAIT2" or .state == "SYN_RECV") | .count] | add // 0)
\([.oldest[] | select(.kind != "full")] | length)
\([.states[] | select(.state == "CLOSE_WAIT") | .count] | add)"' "$WORK/cg.json" | tr '\n' ' ' |
			sed 's/ $//')"
	mkdir "$CGROOT$CGROUP-empty"
	on_exit "rmdir '$CGROOT$CGROUP-empty'"
	expect_eq "--cgroup of an empty cgroup: no socket" 0 \
		"$(census -f json --cgroup "$CGROOT$CGROUP-empty" | jq .sockets)"
	# A set attached with --cgroup: snapshot --sockets counts the sockets it watches.
	PINC=$PIN-cg
	on_exit "'$TSH' detach --pin-path '$PINC' >/dev/null 2>&1"
	"$TSH" attach -N "$NSPATH" --cgroup "$CGROOT$CGROUP" --pin-path "$PINC" >/dev/null
	"$TSH" snapshot --pin-path "$PINC" -f prometheus --sockets >"$WORK/cg.prom"
	check "snapshot --sockets of a set attached with --cgroup: the holder's CLOSE_WAIT" \
		grep -qx 'tcpstatehist_sockets{state="CLOSE_WAIT"} 25' "$WORK/cg.prom"
	check "snapshot --sockets of a set attached with --cgroup: no timewait socket" \
		grep -qx "tcpstatehist_sockets{state=\"FIN_WAIT2\"} $FULL_FW2" "$WORK/cg.prom"
	"$TSH" detach --pin-path "$PINC" >/dev/null
fi

# The leak finder: the 20 CLOSE_WAIT servers, none of the fresh 5. The old ones
# are at least as old as the time since old_at, measured before the census; the
# fresh ones closed 3 s later, so they are younger unless the census itself
# takes 3 s.
older_ms=$(($(now_ms) - old_at))
census -f json --top 100 -L 8000 --older-than "${older_ms}ms" >"$WORK/older.json"
expect_eq "--older-than ${older_ms}ms -L 8000: exactly the 20 old CLOSE_WAIT" "20 20 20" \
	"$(jq -r '"\(.sockets) \([.states[] | select(.state == "CLOSE_WAIT") | .count] | add)
\(.oldest | length)"' "$WORK/older.json" | tr '\n' ' ' | sed 's/ $//')"

# Orphaned FIN_WAIT2: the timewait sockets' ages grow between two runs (a
# timer's age counts in jiffies: the wait is many of them).
age1=$(census -f json -4 --top 100 | jq '[.oldest[] | select(.state == "FIN_WAIT2") | .age_ns] | max')
sleep 0.2
age2=$(census -f json -4 --top 100 | jq '[.oldest[] | select(.state == "FIN_WAIT2") | .age_ns] | max')
check "FIN_WAIT2 ages grow ($age1 -> $age2)" test "$age2" -gt "$age1"

# Text and Prometheus.
census >"$WORK/text.txt"
check "text: the state table" grep -Eq '^CLOSE_WAIT +25 +0 ' "$WORK/text.txt"
check "text: the oldest list" grep -q '^Oldest 10 of known age:' "$WORK/text.txt"
census -f prometheus -o "$WORK/census.prom"
check "prometheus: gauge" grep -qx 'tcpstatehist_sockets{state="CLOSE_WAIT"} 25' "$WORK/census.prom"
check "prometheus: age histogram" grep -qx \
	'tcpstatehist_socket_state_age_seconds_count{state="CLOSE_WAIT"} 25' "$WORK/census.prom"
check "promtool check metrics" sh -c "promtool check metrics <'$WORK/census.prom'"

# snapshot --sockets: the set's counters and the census of the sockets it
# watches (its namespace), in one exposition for node_exporter.
check "snapshot --sockets -o" "$TSH" snapshot --pin-path "$PIN" -f prometheus --sockets \
	-o "$WORK/snap.prom"
check "snapshot --sockets: the census's gauges" sh -c "
	grep -qx 'tcpstatehist_sockets{state=\"CLOSE_WAIT\"} 25' '$WORK/snap.prom' &&
	grep -qx 'tcpstatehist_sockets{state=\"FIN_WAIT2\"} 25' '$WORK/snap.prom' &&
	grep -qx 'tcpstatehist_socket_state_age_seconds_count{state=\"CLOSE_WAIT\"} 25' \
		'$WORK/snap.prom'"
check "snapshot --sockets: the counters too" \
	grep -Eq '^tcpstatehist_transitions_total\{old_state="ESTABLISHED",new_state="CLOSE_WAIT"\} 2[05]$' \
	"$WORK/snap.prom"
check "snapshot --sockets: promtool check metrics" \
	sh -c "promtool check metrics <'$WORK/snap.prom'"
expect_fail "snapshot --sockets without -f prometheus" "--sockets needs -f prometheus" \
	"$TSH" snapshot --pin-path "$PIN" --sockets -f json
check "  ... exits 2" sh -c "'$TSH' snapshot --pin-path '$PIN' --sockets 2>/dev/null; test \$? -eq 2"

# The census of an attached set runs the iterator the set pinned at attach: no
# program loaded (no kernel BTF to read, no verifier run), one walk at a time.
strace -f -e trace=bpf -o "$WORK/census.strace" "$TSH" sockets -N "$NSPATH" --pin-path "$PIN" \
	-f json >"$WORK/pinned.json"
expect_eq "the set's census loads no program" 0 "$(grep -c BPF_PROG_LOAD "$WORK/census.strace")"
check "  ... it links the set's iterator" grep -q BPF_LINK_CREATE "$WORK/census.strace"
expect_eq "  ... and counts: CLOSE_WAIT" 25 "$(state_count "$WORK/pinned.json" CLOSE_WAIT)"
# The walk's settings and totals live in the pinned iterator: a census waits
# while another holds the set's lock...
flock -x "$PIN" -c "touch '$WORK/held'; sleep 3" &
holder=$!
for ((i = 0; i < 100; i++)); do [ -e "$WORK/held" ] && break; sleep 0.05; done
expect_eq "a census waits for the set's lock" 124 \
	"$(timeout 1 "$TSH" sockets -N "$NSPATH" --pin-path "$PIN" >/dev/null 2>&1; echo $?)"
wait "$holder"
# ...so that censuses at once with other settings each count their own.
pids=
for i in 1 2 3 4 5 6; do
	census -f json -4 >"$WORK/par$i.json" &
	pids="$pids $!"
	census -f json -4 --older-than 1h >"$WORK/old$i.json" &
	pids="$pids $!"
done
wait $pids
expect_eq "6 censuses at once: the same counts" 1 \
	"$(for i in 1 2 3 4 5 6; do jq -c "[.sockets, $counts]" "$WORK/par$i.json"; done | sort -u | wc -l)"
expect_eq "  ... all of them" 25 "$(jq '[.states[] | select(.state == "CLOSE_WAIT")][0].count' "$WORK/par6.json")"
expect_eq "6 with --older-than 1h at the same time: none" "0 0 0 0 0 0" \
	"$(for i in 1 2 3 4 5 6; do jq .sockets "$WORK/old$i.json"; done | xargs)"

# Bad input: one line on stderr, no output, exit 2 (usage) or 1 (environment).
expect_fail "a pin path with nothing attached" "nothing attached" \
	"$TSH" sockets --pin-path /sys/fs/bpf/tsh-nothing-$$
check "  ... exits 1" sh -c "'$TSH' sockets --pin-path /sys/fs/bpf/tsh-nothing-$$ 2>/dev/null; test \$? -eq 1"
check "  ... prints nothing" sh -c "test -z \"\$('$TSH' sockets --pin-path /sys/fs/bpf/tsh-nothing-$$ 2>/dev/null)\""
expect_fail "a bad duration" "invalid duration '5x'" "$TSH" sockets --older-than 5x
check "  ... exits 2" sh -c "'$TSH' sockets --older-than 5x 2>/dev/null; test \$? -eq 2"
expect_fail "--top 0" "--top: invalid count '0'" "$TSH" sockets --top 0
check "  ... exits 2" sh -c "'$TSH' sockets --top 0 2>/dev/null; test \$? -eq 2"

# A set of another layout: a meta map that says v99 (as test_pinned.sh fakes it).
FOREIGN=/sys/fs/bpf/tsh-sockets-foreign-$$
on_exit "'$TSH' detach --pin-path '$FOREIGN'"
if "$TSH" attach -N "$NSPATH" --pin-path "$FOREIGN" >/dev/null; then
	size=$(bpftool map show pinned "$FOREIGN/meta" -j | jq .bytes_value)
	rm "$FOREIGN/meta"
	bpftool map create "$FOREIGN/meta" type array key 4 value "$size" entries 1 name tsh_meta
	bpftool map update pinned "$FOREIGN/meta" key 0 0 0 0 value 99 $(yes 0 | head -n $((size - 1)))
	expect_fail "a set of another layout" "layout v99, this binary reads v" \
		"$TSH" sockets -N "$NSPATH" --pin-path "$FOREIGN"
	check "  ... exits 1, prints nothing" sh -c "test -z \"\$('$TSH' sockets -N '$NSPATH' \
		--pin-path '$FOREIGN' 2>/dev/null; test \$? -eq 1 || echo wrong)\""
else
	not_ok "attach a second set"
fi

# A set attached by a build with another number of start slots hashes sockets
# elsewhere: its own iterator, pinned with it, reads them, whichever build asks.
SMALL=$TOP/.output/small/tcpstatehist
OTHER=/sys/fs/bpf/tsh-sockets-small-$$
on_exit "'$TSH' detach --pin-path '$OTHER'"
if "$SMALL" attach -N "$NSPATH" --pin-path "$OTHER" >/dev/null; then
	"$TSH" sockets -N "$NSPATH" --pin-path "$OTHER" -f json >"$WORK/small.json"
	"$SMALL" sockets -N "$NSPATH" --pin-path "$OTHER" -f json >"$WORK/small-own.json"
	check "a set with 16 start slots: read by this build, with ages" \
		jq -e '.start_times' "$WORK/small.json"
	expect_eq "  ... the same counts as the build that attached it" \
		"$(jq -c "$counts" "$WORK/small-own.json")" "$(jq -c "$counts" "$WORK/small.json")"
else
	not_ok "attach with the small-slots build"
fi

# Nothing attached at the default path: counts, ages unknown, and why.
if [ ! -e /sys/fs/bpf/tcpstatehist ]; then
	"$TSH" sockets -N "$NSPATH" -f json >"$WORK/none.json" 2>"$WORK/none.err"
	expect_eq "nothing attached: CLOSE_WAIT counted, ages unknown" "25 25" \
		"$(state_count "$WORK/none.json" CLOSE_WAIT) $(state_count "$WORK/none.json" CLOSE_WAIT unknown)"
	check "nothing attached: JSON says why" jq -e >/dev/null \
		'.start_times == false and (.no_start_times | test("nothing attached"))' "$WORK/none.json"
	"$TSH" sockets -N "$NSPATH" >/dev/null 2>"$WORK/none.err"
	check "nothing attached: text says why on stderr, one line" sh -c \
		"test \$(wc -l <'$WORK/none.err') -eq 1 && grep -q 'ages of full sockets unknown' '$WORK/none.err'"
fi
finish
