#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The systemd units and the cron example, as installed (PREFIX and SYSCONFDIR
# in a scratch directory, so every path they name exists): systemd-analyze
# verify finds nothing to say; their commands, run as systemd would run them
# (tests/systemd_exec.py) with a settings file that points at a test pin path,
# a test namespace and a scratch textfile directory, attach, write exact
# counts, detach, and remove the textfile once nothing is attached; every cron
# line runs and creates the directories it writes to.
set -u
. "$(dirname "$0")/../lib.sh"

WORK=$(mktemp -d /tmp/tsh-units.XXXXXX)
PREFIX=$WORK/prefix
UNITS=$PREFIX/lib/systemd/system
PIN=/sys/fs/bpf/tsh-units-$$
on_exit "rm -rf '$WORK'"
on_exit "'$TSH' detach --pin-path '$PIN'"
SYSTEMD_EXEC="python3 $TOP/tests/systemd_exec.py"

make -s -C "$TOP" install PREFIX="$PREFIX" SYSCONFDIR="$WORK/etc" >"$WORK/install.log" 2>&1
expect_eq "make install PREFIX=... SYSCONFDIR=..." 0 "$?"

if ! command -v systemd-analyze >/dev/null; then
	not_ok "systemd-analyze verify" "systemd-analyze is missing (scripts/deps.sh installs systemd)"
else
	# MANPATH: verify also checks that Documentation=man:tcpstatehist(8) exists.
	out=$(cd "$UNITS" && MANPATH=$PREFIX/share/man systemd-analyze verify \
		tcpstatehist.service tcpstatehist-textfile.service tcpstatehist-textfile.timer 2>&1)
	rc=$?
	expect_eq "systemd-analyze verify: exit 0, no warning" "0:" "$rc:$out"
	# It does complain about a unit that is wrong: the check can fail.
	sed 's/^RemainAfterExit=yes/RemainAfterExit=maybe/' "$UNITS/tcpstatehist.service" \
		>"$WORK/broken.service"
	out=$(cd "$UNITS" && MANPATH=$PREFIX/share/man systemd-analyze verify \
		"$WORK/broken.service" 2>&1)
	check "systemd-analyze verify reports a bad value" grep -q maybe <<<"$out"
fi

NS=$(new_netns) || { not_ok "create a network namespace"; finish; exit; }
TEXTFILE=$WORK/node-exporter/textfile/tcpstatehist.prom
cat >"$WORK/etc/default/tcpstatehist" <<EOS
TSH_PIN_PATH=$PIN
TSH_ATTACH_OPTIONS="-4 -N /run/netns/$NS --label service=units"
TSH_SNAPSHOT_OPTIONS=--sockets
TSH_TEXTFILE=$TEXTFILE
EOS
# service UNIT ACTION: the unit's commands for start or stop.
service() { $SYSTEMD_EXEC "$UNITS/$1" "$2" 2>>"$WORK/exec.log"; }

check "tcpstatehist.service starts" service tcpstatehist.service start
check "it attached at the settings' pin path" test -e "$PIN/meta"
"$TSH" status --pin-path "$PIN" >"$WORK/status" 2>&1
check "with the settings' filters" grep -qE "^filters: *-4 -N /run/netns/$NS\$" "$WORK/status"
ip netns exec "$NS" python3 "$TOP/tests/traffic.py" -n 5 -c rst
check "tcpstatehist-textfile.service runs" service tcpstatehist-textfile.service start
check "it created the textfile directory and wrote the file" test -s "$TEXTFILE"
check "the file holds the connections, labelled" grep -qx \
	'tcpstatehist_transitions_total{service="units",old_state="ESTABLISHED",new_state="CLOSE"} 10' \
	"$TEXTFILE"
check "and the census (TSH_SNAPSHOT_OPTIONS=--sockets)" grep -qx \
	'tcpstatehist_sockets{service="units",state="LISTEN"} 0' "$TEXTFILE"
check "tcpstatehist.service stops" service tcpstatehist.service stop
check "it detached" test ! -e "$PIN"
service tcpstatehist-textfile.service start
check "with nothing attached the textfile service fails" test $? -ne 0
check "and removes the file, so that no stale series remain" test ! -e "$TEXTFILE"

# The cron example: every job line, with /var/ moved to the scratch
# directory (where only /var/log exists, as on any host) and the test pin
# path added, run by sh as cron would, in order (@reboot first).
mkdir -p "$WORK/var/log"
CRON=$PREFIX/share/tcpstatehist/cron.d/tcpstatehist
grep -vE '^[[:space:]]*(#|$|[A-Z_]+=)' "$CRON" |
	sed -E -e 's/^(@reboot +|([^ ]+ +){5})[^ ]+ +//' -e "s|/var/|$WORK/var/|g" \
		-e "s#tcpstatehist (attach|snapshot)#tcpstatehist \\1 --pin-path $PIN#g" >"$WORK/jobs"
expect_eq "the cron example has three jobs" 3 "$(wc -l <"$WORK/jobs")"
check "the cron jobs run the installed binary" \
	sh -c "[ \$(grep -c '$PREFIX/sbin/tcpstatehist' '$WORK/jobs') -eq 3 ]"
while read -r job; do
	check "cron job runs: ${job:0:60}..." sh -c "$job"
done <"$WORK/jobs"
check "cron: the textfile written into a directory it created" \
	grep -q '^tcpstatehist_attach_time_seconds [1-9]' \
	"$WORK/var/lib/prometheus/node-exporter/tcpstatehist.prom"
check "cron: the state file written into a directory it created" \
	test -s "$WORK/var/lib/tcpstatehist/state"
check "cron: one JSON line in the log" \
	sh -c "$JSONQ lines <'$WORK/var/log/tcpstatehist.jsonl' | grep -qx 1"

# One textfile path in the docs, the man page, the units and the examples;
# the several-sets example of docs/monitoring.md adds files in the same
# directory, named tcpstatehist-NAME.prom.
paths=$( (cat "$TOP"/README.md "$TOP"/docs/*.md "$TOP"/dist/*/*
	sed 's/\\-/-/g' "$TOP/docs/tcpstatehist.8"; "$TSH" --help) |
	grep -oE '/[A-Za-z0-9/_.-]*\.prom' | sed 's/tcpstatehist-[a-z]*\.prom$/tcpstatehist.prom/' |
	sort -u)
expect_eq "docs, man page, units, examples and --help name one textfile path" \
	/var/lib/prometheus/node-exporter/tcpstatehist.prom "$paths"

finish
