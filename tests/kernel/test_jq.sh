#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The jq recipes of docs/output.md ("Recipes with jq"), taken from the doc as
# written and run with Debian's jq on real output: three `snapshot
# --state-file` intervals of a test set, merged by the recipe, must equal the
# cumulative snapshot of the same span for every pair (counts, sum_ns,
# buckets, and the p99 the tool computes); the p99 recipe prints the p99 of
# each interval's line.
set -u
. "$(dirname "$0")/../lib.sh"

DOC=$TOP/docs/output.md
PIN=/sys/fs/bpf/tsh-jq-$$
WORK=$(mktemp -d /tmp/tsh-jq.XXXXXX)
on_exit "rm -rf '$WORK'"
on_exit "'$TSH' detach --pin-path '$PIN'"

if ! command -v jq >/dev/null; then
	not_ok "jq" "jq is missing (scripts/deps.sh installs it)"
	finish
	exit
fi

# recipe HEADING: the first fenced block after the "### HEADING" line.
recipe() {
	awk -v h="### $1" '$0 == h { found = 1; next }
		found && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }' "$DOC"
}
P99=$(recipe "p99 of one pair")
MERGE=$(recipe "Merging buckets across intervals")
check "docs/output.md has the p99 recipe" grep -q '^jq ' <<<"$P99"
check "docs/output.md has the merging recipe" grep -q '^jq ' <<<"$MERGE"

NS=$(new_netns) || { not_ok "create a network namespace"; finish; exit; }
traffic() { ip netns exec "$NS" python3 "$TOP/tests/traffic.py" -c rst "$@"; }
snapshot() { "$TSH" snapshot --pin-path "$PIN" -f json "$@"; }

"$TSH" attach --pin-path "$PIN" -N "/run/netns/$NS" >/dev/null
expect_eq "attach a test set" 0 "$?"
traffic -n 6
snapshot --state-file "$WORK/state" >"$WORK/summaries.jsonl"
traffic -n 3 --hold 0.02
snapshot --state-file "$WORK/state" >>"$WORK/summaries.jsonl"
traffic -n 4 --hold 0.002
snapshot --state-file "$WORK/state" >>"$WORK/summaries.jsonl"
# Nothing happens in the namespace between the last interval and this one.
snapshot >"$WORK/cumulative.json"
expect_eq "three interval summaries" 3 "$(wc -l <"$WORK/summaries.jsonl")"

# run_recipe RECIPE OLD NEW: the recipe for that pair, on summaries.jsonl.
run_recipe() {
	local pair="s/--arg old SYN_SENT --arg new ESTABLISHED/--arg old $2 --arg new $3/"
	(cd "$WORK" && sh -c "$(sed "$pair" <<<"$1")")
}

mapfile -t pairs < <(jq -r '.transitions[] | "\(.old_state) \(.new_state)"' "$WORK/cumulative.json")
check "the cumulative snapshot has the pairs of RST closes" test ${#pairs[@]} -ge 6
for pair in "${pairs[@]}"; do
	read -r old new <<<"$pair"
	want=$(jq -c --arg old "$old" --arg new "$new" '.transitions[]
		| select(.old_state == $old and .new_state == $new)
		| {count, unknown, sum_ns, buckets, p99_us}' "$WORK/cumulative.json")
	got=$(run_recipe "$MERGE" "$old" "$new" | jq -c '{count, unknown, sum_ns, buckets, p99_us}')
	expect_eq "merged intervals = cumulative: $old -> $new" "$want" "$got"
done
got=$(run_recipe "$MERGE" ESTABLISHED CLOSE | jq '.mean_us')
want=$(jq '.transitions[] | select(.old_state == "ESTABLISHED" and .new_state == "CLOSE")
	| .sum_ns / (.count - .unknown) / 1000' "$WORK/cumulative.json")
expect_eq "merged mean_us is sum_ns over the known durations" "$want" "$got"
check "the held connections spread ESTABLISHED -> CLOSE over several buckets" \
	test "$(jq '[.transitions[] | select(.old_state == "ESTABLISHED" and
		.new_state == "CLOSE") | .buckets[]] | length' "$WORK/cumulative.json")" -ge 3

want=$(jq -r '.time as $t | .transitions[] | select(.old_state == "SYN_SENT" and
	.new_state == "ESTABLISHED") | "\($t) \(.p99_us)"' "$WORK/summaries.jsonl")
got=$(run_recipe "$P99" SYN_SENT ESTABLISHED)
expect_eq "p99 recipe: one line per summary with the pair" 3 "$(wc -l <<<"$got")"
check "p99 recipe: the time and p99_us of each line" \
	sh -c "[ -n \"\$1\" ] && [ \"\$1\" = \"\$2\" ]" _ "$want" "$got"

finish
