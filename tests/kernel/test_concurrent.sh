#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Several readers at once under churn: two live views, an attached pin set
# and a cron-like --state-file snapshot about ten times a second. Each must add up to
# what the load generator says the kernel emitted.
source "$(dirname "$0")/../lib.sh"

NS=$(new_netns) || { not_ok "create a network namespace"; finish; exit 1; }
TMP=$(mktemp -d)
PIN=/sys/fs/bpf/tsh-concurrent-$$
on_exit "rm -rf $TMP"
on_exit "'$TSH' detach --pin-path '$PIN'"
on_exit 'kill -TERM $LIVE1 $LIVE2; wait $LIVE1 $LIVE2'

# truth FILES...: loadgen's expected transitions, summed, as "OLD NEW N" lines.
truth() {
	python3 - "$@" <<'PY'
import json, sys
sums = {}
for path in sys.argv[1:]:
    for p in json.load(open(path))["expected"]["by_pair"]:
        sums[(p["from"], p["to"])] = sums.get((p["from"], p["to"]), 0) + p["count"]
for (old, new), n in sorted(sums.items()):
    print(old, new, n)
PY
}


"$TSH" attach -N "/run/netns/$NS" --pin-path "$PIN" >/dev/null ||
	not_ok "attach" "$("$TSH" attach -N "/run/netns/$NS" --pin-path "$PIN" 2>&1)"
"$TSH" -f json -N "/run/netns/$NS" 0.2 >"$TMP/live1" 2>"$TMP/live1.err" &
LIVE1=$!
"$TSH" -f json -N "/run/netns/$NS" >"$TMP/live2" 2>"$TMP/live2.err" &
LIVE2=$!
check "both live views attached" wait_attached $LIVE1
check "the second too" wait_attached $LIVE2

# A --state-file snapshot every 0.1 s while the load runs (bounded: 600 at most).
(for ((i = 0; i < 600; i++)); do
	[ -e "$TMP/stop" ] && break
	"$TSH" snapshot --pin-path "$PIN" -f json --state-file "$TMP/state" >>"$TMP/cron"
	sleep 0.1
done) &
CRON=$!

# RST closes, and not too many: the pin set cannot see the rare events the
# kernel dispatches to no program (docs/design.md), the live views can.
for round in 1 2 3 4 5 6; do
	ip netns exec "$NS" "$LOADGEN" -n 2000 -t 2 -c rst -j >"$TMP/lg$round" ||
		not_ok "loadgen round $round"
done
touch "$TMP/stop"
wait $CRON
"$TSH" snapshot --pin-path "$PIN" -f json --state-file "$TMP/state" >>"$TMP/cron"
"$TSH" snapshot --pin-path "$PIN" -f json >"$TMP/cumulative"
kill -TERM $LIVE1 $LIVE2
wait $LIVE1 $LIVE2

mapfile -t want < <(truth "$TMP"/lg[1-6])
check "the cron loop took several snapshots" [ "$($JSONQ lines <"$TMP/cron")" -ge 3 ]
expect_accounts "live view with 0.2 s intervals: exact" "$TMP/live1" "${want[@]}"
expect_accounts "live view, one summary: exact" "$TMP/live2" "${want[@]}"
expect_accounts "--state-file snapshots during the load: together exact" "$TMP/cron" "${want[@]}"
expect_accounts "cumulative snapshot of the pin set: exact" "$TMP/cumulative" "${want[@]}"

finish
