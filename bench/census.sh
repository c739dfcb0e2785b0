#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The census at scale: N connections (2N sockets) held open at once in a
# namespace of its own by loadgen processes (at most PER each: the open-files
# limit), an attached set counting them, then `tcpstatehist sockets` timed
# ROUNDS times with ages and without (nothing attached at the default path). Root; run it alone (under the suite's
# flock on a shared machine). Prints one line per run: wall, user, sys (to the ms),
# first of the empty namespace, then of the N connections.
#   bench/census.sh [N]      (default 100000; env PER 9000, ROUNDS 5)
# TOOLS: the builds to time, each round in turn (default ./tcpstatehist); each
# attaches a set of its own (builds of different pinned layouts compare), and
# the first one's checks the counts.
set -u
cd "$(dirname "$0")/.."
N=${1:-100000}
PER=${PER:-9000}
ROUNDS=${ROUNDS:-5}
NS=tsh-census-$$
PIN=/sys/fs/bpf/tsh-census-$$
PORT=21000
LOADGEN=.output/loadgen
TOOLS=${TOOLS:-./tcpstatehist}
TSH=${TOOLS%% *}

cleanup() {
	[ -n "${LGPIDS:-}" ] && kill $LGPIDS 2>/dev/null
	wait 2>/dev/null
	local i=0 tool

	for tool in $TOOLS; do
		$tool detach --pin-path "$PIN-$i" >/dev/null 2>&1
		i=$((i + 1))
	done
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
# One census, timed by the shell: wall, user and sys in s, to the ms.
timed() {
	local TIMEFORMAT="wall %3R s, user %3U s, sys %3S s"

	{ time "$@" -f json >/dev/null 2>&1; } 2>&1
}

# Each round, each tool: a census with the attached set's ages, and one without.
census_rounds() {
	local i tool

	for ((r = 0; r < ROUNDS; r++)); do
		i=0
		for tool in $TOOLS; do
			echo "$1$tool with ages: $(timed "$tool" sockets -N "/run/netns/$NS" --pin-path "$PIN-$i")"
			echo "$1$tool no ages:   $(timed "$tool" sockets -N "/run/netns/$NS")"
			i=$((i + 1))
		done
	done
}

ip netns add "$NS" && ip netns exec "$NS" ip link set lo up || exit 1
i=0
for tool in $TOOLS; do
	$tool attach -N "/run/netns/$NS" --pin-path "$PIN-$i" >/dev/null || exit 1
	i=$((i + 1))
done
census_rounds "empty: "

LGPIDS=
left=$N
i=0
while [ "$left" -gt 0 ]; do
	n=$((left < PER ? left : PER))
	ip netns exec "$NS" timeout 300 $LOADGEN -n $n -H $n -w 120000 -d 240 -t 1 -c sfin \
		-p $((PORT + i)) >/dev/null 2>&1 &
	LGPIDS="$LGPIDS $!"
	left=$((left - n))
	i=$((i + 1))
done
# Wait until every connection is open: 2N sockets plus the listeners.
want=$((2 * N))
for ((t = 0; t < 600; t++)); do
	inuse=$(ip netns exec "$NS" awk '/^TCP:/ {print $3}' /proc/net/sockstat)
	[ "${inuse:-0}" -ge "$want" ] && break
	sleep 0.2
done
echo "TCP sockets in use: $inuse"

$TSH sockets -N "/run/netns/$NS" --pin-path "$PIN-0" -f json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("counted %d: %s" % (d["sockets"], ", ".join("%s %d (unknown %d)" % (s["state"], s["count"],
      s["unknown"]) for s in d["states"])))' >/tmp/tsh-census-counts.$$
census_rounds ""
cat /tmp/tsh-census-counts.$$
rm -f /tmp/tsh-census-counts.$$
