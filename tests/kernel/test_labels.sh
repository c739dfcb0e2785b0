#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# --label: two sets attached side by side, one per "service" (a local port),
# each with its labels; their snapshots in one textfile directory, scraped by
# a real node_exporter without a collision and with exact counts per label;
# status and JSON show the labels; the live view takes them too; bad labels
# are refused before anything is attached.
set -u
. "$(dirname "$0")/../lib.sh"

PINA=/sys/fs/bpf/tsh-labels-a-$$
PINB=/sys/fs/bpf/tsh-labels-b-$$
WORK=$(mktemp -d /tmp/tsh-labels.XXXXXX)
on_exit "rm -rf '$WORK'"
on_exit "'$TSH' detach --pin-path '$PINA'"
on_exit "'$TSH' detach --pin-path '$PINB'"
new_netns >"$WORK/ns" || { not_ok "create a network namespace"; finish; exit; }
NS=$(cat "$WORK/ns")

# connections N PORT: reset_connections in the test's namespace, one
# SYN_RECV -> ESTABLISHED per connection on the server's port.
connections() { reset_connections "$NS" "$1" "$2"; }

# --- bad labels: refused in one line, exit 2, nothing attached ---------------
for bad in "service" "=x" "9lives=x" "a-b=x" "__name__=x" "old_state=x" "le=x" "a=" \
	"$(printf 'a=x\ny')"; do
	expect_fail "attach --label '${bad//$'\n'/\\n}' refused" "^tcpstatehist: --label" \
		"$TSH" attach -N "/run/netns/$NS" --pin-path "$PINA" --label "$bad"
	"$TSH" attach -N "/run/netns/$NS" --pin-path "$PINA" --label "$bad" >/dev/null 2>&1
	expect_eq "attach --label '${bad//$'\n'/\\n}': exit 2" 2 $?
done
expect_fail "the same name twice refused" "given twice" \
	"$TSH" attach --pin-path "$PINA" --label a=1 --label a=2
expect_fail "snapshot takes no --label (the set has them)" "--label" \
	"$TSH" snapshot --pin-path "$PINA" --label a=1
check "nothing attached after the refusals" sh -c "! test -e '$PINA'"

# --- two labelled sets side by side ------------------------------------------
TEAM='a"b\c é'
check "attach service=alpha" "$TSH" attach -N "/run/netns/$NS" -L 7001 --pin-path "$PINA" \
	--label service=alpha --label "team=$TEAM"
check "attach service=beta" "$TSH" attach -N "/run/netns/$NS" -L 7002 --pin-path "$PINB" \
	--label service=beta
connections 30 7001
connections 70 7002

"$TSH" status --pin-path "$PINA" >"$WORK/status.txt"
check "status text shows the labels, escaped" \
	grep -qxF 'labels:       service="alpha",team="a\"b\\c é"' "$WORK/status.txt"
"$TSH" status --pin-path "$PINA" -f json >"$WORK/status.json"
expect_eq "status JSON: the labels as an object" "alpha|$TEAM" \
	"$(jq -r '.labels | "\(.service)|\(.team)"' "$WORK/status.json")"

"$TSH" snapshot --pin-path "$PINA" -f json >"$WORK/a.json"
check "snapshot JSON passes the schema" $JSONQ validate <"$WORK/a.json"
expect_eq "snapshot JSON: labels and exact count" "alpha 30" \
	"$(jq -r '"\(.labels.service) \([.transitions[] | select(.old_state == "SYN_RECV" and
	.new_state == "ESTABLISHED") | .count] | add)"' "$WORK/a.json")"

TEXTDIR=$WORK/textfile
mkdir "$TEXTDIR"
check "snapshot -o alpha.prom" "$TSH" snapshot --pin-path "$PINA" -f prometheus \
	-o "$TEXTDIR/alpha.prom"
check "snapshot -o beta.prom" "$TSH" snapshot --pin-path "$PINB" -f prometheus \
	-o "$TEXTDIR/beta.prom"
check "promtool check metrics: alpha" sh -c "promtool check metrics <'$TEXTDIR/alpha.prom'"
printf '%s\n' '{service="alpha",team="a\"b\\c é"' >"$WORK/alpha.pat"
printf '%s\n' '{service="beta",' '{service="beta"}' >"$WORK/beta.pat"
check "every alpha series carries the labels, escaped" sh -c "! grep -v '^#' \
	'$TEXTDIR/alpha.prom' | grep -vF -f '$WORK/alpha.pat'"
check "every beta series carries its label" sh -c "! grep -v '^#' '$TEXTDIR/beta.prom' |
	grep -vF -f '$WORK/beta.pat'"

check "node_exporter scraped" scrape_textfiles "$TEXTDIR" "$WORK/scrape"
check "node_exporter read both files without errors" scraped "$WORK/scrape" \
		node_textfile_scrape_error 0
check "no collision in the exporter's log" sh -c "! grep -q 'collected before' '$WORK/scrape.log'"
check "alpha's 30 connections under its labels" scraped "$WORK/scrape" \
		tcpstatehist_transitions_total 30 \
	service=alpha "team=$TEAM" old_state=SYN_RECV new_state=ESTABLISHED
check "beta's 70 connections under its label" scraped "$WORK/scrape" \
		tcpstatehist_transitions_total 70 \
	service=beta old_state=SYN_RECV new_state=ESTABLISHED
check "each set's missed counter, apart" sh -c "
	grep -Eq '^tcpstatehist_missed_transitions_total\{service=\"alpha\",.*\} [0-9]+$' '$WORK/scrape' &&
	grep -Eq '^tcpstatehist_missed_transitions_total\{service=\"beta\"\} [0-9]+$' '$WORK/scrape'"

# --- the live view -------------------------------------------------------------
"$TSH" -N "/run/netns/$NS" -L 7003 --label service=live -f json 1.5 1 >"$WORK/live.json" &
LIVE=$!
wait_attached "$LIVE" || not_ok "live view attached"
connections 12 7003
wait_exit "$LIVE" 20
expect_eq "live view exits 0" 0 "$EXIT"
check "live JSON passes the schema" $JSONQ validate <"$WORK/live.json"
expect_eq "live JSON: the label and the exact count" "live 12" \
	"$(jq -r '"\(.labels.service) \([.transitions[] | select(.old_state == "SYN_RECV" and
	.new_state == "ESTABLISHED") | .count] | add)"' "$WORK/live.json")"
"$TSH" -N "/run/netns/$NS" --label service=live -f prometheus 0.2 1 >"$WORK/live.prom"
check "live prometheus: promtool check metrics" sh -c "promtool check metrics <'$WORK/live.prom'"
check "live prometheus: the label on the attach time" \
	grep -Eqx 'tcpstatehist_attach_time_seconds\{service="live"\} [0-9]+' "$WORK/live.prom"

finish
