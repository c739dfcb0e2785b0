#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The start-time slot array's fallback to socket storage. A build with 16
# slots (make small-slots) collides on almost every socket: every duration
# must still be known and every count exact (a live socket's slot is never
# taken), and status must show fallbacks and slots taken over from the dead.
source "$(dirname "$0")/../lib.sh"

SMALL="$TOP/.output/small/tcpstatehist"
NS=$(new_netns) || { not_ok "create a network namespace"; finish; exit 1; }
TMP=$(mktemp -d)
PIN=/sys/fs/bpf/tsh-slots-$$
on_exit "rm -rf $TMP"
on_exit "'$SMALL' detach --pin-path '$PIN'"

check "the 16-slot build exists" test -x "$SMALL"
check "attach the 16-slot build" sh -c "'$SMALL' attach -N /run/netns/$NS --pin-path $PIN >/dev/null"
# 200 connections held open at once (400 sockets for 16 slots), RST close.
ip netns exec "$NS" "$LOADGEN" -n 600 -H 200 -w 50 -t 1 -c rst -j >"$TMP/lg" ||
	not_ok "loadgen"
"$SMALL" snapshot --pin-path "$PIN" -f json >"$TMP/snap"
"$SMALL" status --pin-path "$PIN" -f json >"$TMP/status"

mapfile -t want < <(python3 -c '
import json, sys
for p in json.load(open(sys.argv[1]))["expected"]["by_pair"]:
    print(p["from"], p["to"], p["count"])' "$TMP/lg")
expect_accounts "collisions: counts exact" "$TMP/snap" "${want[@]}"
expect_eq "collisions: every ESTABLISHED->CLOSE has a duration" "0" \
	"$($JSONQ unknown ESTABLISHED CLOSE <"$TMP/snap")"
expect_eq "collisions: every SYN_SENT->ESTABLISHED has a duration" "0" \
	"$($JSONQ unknown SYN_SENT ESTABLISHED <"$TMP/snap")"
check "status: sockets fell back to socket storage" python3 -c '
import json, sys
sys.exit(0 if json.load(open(sys.argv[1]))["start_fallbacks"] > 100 else 1)' "$TMP/status"
# A reset socket reaches CLOSE while loadgen still holds it, and keeps its slot
# until it is destroyed: the next rounds' sockets take those slots over.
check "status: slots of destroyed sockets were taken over" python3 -c '
import json, sys
sys.exit(0 if json.load(open(sys.argv[1]))["start_reclaims"] > 10 else 1)' "$TMP/status"

finish
