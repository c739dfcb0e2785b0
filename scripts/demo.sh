#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make demo: the live view at work, even on an idle machine. Creates a network
# namespace, starts `tcpstatehist -T -N /run/netns/NS 3 1` (one 3-second
# summary of that namespace's sockets) and, meanwhile, a bounded loopback load
# in the namespace with bench/loadgen (each run limited in connections and in
# time): connections closed by the client, by the server, with a RST, and
# some held open for 100 ms. Removes the namespace afterwards, also on Ctrl-C.
# Needs root; `make demo` builds the tool and loadgen first.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
TSH=$TOP/tcpstatehist
LOADGEN=$TOP/.output/loadgen
NS=tshdemo-$$
LIVE=

cleanup() {
	[ -n "$LIVE" ] && kill -TERM "$LIVE" 2>/dev/null && wait "$LIVE"
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "demo: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (sudo make demo)"
[ -x "$TSH" ] && [ -x "$LOADGEN" ] || die "build first: make tcpstatehist .output/loadgen"
ip netns add "$NS" && ip netns exec "$NS" ip link set lo up || die "cannot create namespace $NS"

# load ROUND: a few hundred connections of each kind, at most 2 s each.
load() {
	local kind
	for kind in sfin fin rst; do
		ip netns exec "$NS" "$LOADGEN" -n $((100 * $1)) -d 2 -c "$kind" >/dev/null ||
			die "loadgen -c $kind failed"
	done
	ip netns exec "$NS" "$LOADGEN" -n 20 -H 20 -w 100 -d 2 >/dev/null || die "loadgen -H failed"
}

echo "# tcpstatehist -T -N /run/netns/$NS 3 1    (loadgen runs in $NS meanwhile)"
"$TSH" -T -N "/run/netns/$NS" 3 1 &
LIVE=$!
# The view prints nothing until its first summary: wait until its two BPF
# links exist (at most 10 s), so that the load is counted from the start.
for ((i = 0; i < 200; i++)); do
	kill -0 "$LIVE" 2>/dev/null || die "tcpstatehist exited early"
	[ "$(grep -l '^link_type:' /proc/"$LIVE"/fdinfo/* 2>/dev/null | wc -l)" -ge 2 ] && break
	sleep 0.05
done
for round in 1 2 3; do
	load "$round"
	sleep 0.5
done
wait "$LIVE"
status=$?
LIVE=
exit "$status"
