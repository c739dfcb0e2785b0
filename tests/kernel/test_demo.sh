#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The README's first command shows the tool at work: scripts/demo.sh (make
# demo) prints a table with every pair its load produces and the histograms,
# with the exact count of connections, and removes its namespace, also when
# interrupted.
set -u
. "$(dirname "$0")/../lib.sh"

WORK=$(mktemp -d /tmp/tsh-demo.XXXXXX)
on_exit "rm -rf '$WORK'"

"$TOP/scripts/demo.sh" >"$WORK/out" 2>"$WORK/err" &
DEMO=$!
wait "$DEMO"
expect_eq "the demo exits 0" 0 "$?"
check "it prints the command it runs" \
	grep -q '^# tcpstatehist -T -N /run/netns/tshdemo-' "$WORK/out"
check "not an empty summary" sh -c "! grep -q 'no TCP state transitions' '$WORK/out'"
# 3 rounds of 100, 200, 300 connections of each of 3 close kinds, and 3 x 20 held.
read -r synsent missed < <(awk '$1 == "SYN_SENT" && $2 == "ESTABLISHED" { c = $3 }
	$1 == "missed:" { m = $2 } END { print c + 0, m + 0 }' "$WORK/out")
check "the table counts every connection (1860, or short by at most missed)" \
	test "$synsent" -le 1860 -a $((synsent + missed)) -ge 1860
check "the table has the pairs of FIN, server-FIN and RST closes" sh -c "
	grep -Eq '^ESTABLISHED +FIN_WAIT1 ' '$WORK/out' && grep -Eq '^CLOSE_WAIT +LAST_ACK ' '$WORK/out' &&
	grep -Eq '^ESTABLISHED +CLOSE ' '$WORK/out'"
check "histograms follow the table" \
	grep -q '^SYN_SENT -> ESTABLISHED: [0-9]* transitions' "$WORK/out"
check "connections held 100 ms show in ESTABLISHED's histogram" \
	grep -Eq '^ +65536 -> 131072 +: [1-9]' "$WORK/out"
check "its namespace is gone" sh -c "! ip netns list | grep -q 'tshdemo-$DEMO'"

# Ctrl-C once the live view runs: nothing left behind. A terminal sends
# SIGINT to the whole foreground process group; a background job of this
# script would ignore it, so the demo gets its own group and SIGINT back.
python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setpgid(0, 0)
os.execv(sys.argv[1], sys.argv[1:])' "$TOP/scripts/demo.sh" >"$WORK/out2" 2>&1 &
DEMO=$!
for ((i = 0; i < 200; i++)); do
	pgrep -P "$DEMO" -x tcpstatehist >/dev/null && break
	sleep 0.05
done
VIEW=$(pgrep -P "$DEMO" -x tcpstatehist)
check "the second demo started its live view" test -n "$VIEW"
kill -INT -- "-$DEMO"
wait "$DEMO"
check "interrupted: it exits non-zero" test $? -ne 0
check "interrupted: its namespace is gone" sh -c "! ip netns list | grep -q 'tshdemo-$DEMO'"
check "interrupted: its live view is gone" sh -c "! kill -0 '$VIEW' 2>/dev/null"

finish
