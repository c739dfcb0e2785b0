#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make static: the binary runs in an empty root (chroot) that holds nothing
# but itself, the kernel's /sys and /proc, and /run/netns: no libc, no libbpf,
# no libelf, no loader. There it runs a live view and the daemonless commands
# against real traffic, with exact counts. The dynamic binary, in the same
# root, does not start: the root really lacks the libraries.
set -u
. "$(dirname "$0")/../lib.sh"

WORK=$(mktemp -d /tmp/tsh-static.XXXXXX)
ROOT=$WORK/root
PIN=/sys/fs/bpf/tsh-static-$$
on_exit "rm -rf '$WORK'"
on_exit "'$TSH' detach --pin-path '$PIN'"

make -s -C "$TOP" static >"$WORK/build.log" 2>&1
expect_eq "make static succeeds" 0 "$?"
STATIC=$TOP/.output/static/tcpstatehist
check "the binary has no program interpreter" \
	sh -c "! readelf -lW '$STATIC' | grep -q INTERP"
check "the binary needs no shared library" \
	sh -c "! readelf -dW '$STATIC' 2>/dev/null | grep -q NEEDED"

mkdir -p "$ROOT/sbin" "$ROOT/sys" "$ROOT/proc" "$ROOT/run/netns" "$ROOT/out"
cp "$STATIC" "$ROOT/sbin/tcpstatehist"
cp "$TSH" "$ROOT/sbin/tcpstatehist-dynamic"

# chrooted COMMAND...: runs COMMAND in the empty root, in a mount namespace of
# its own; the process keeps the pid of this call (each step execs the next).
chrooted() {
	# shellcheck disable=SC2016 # $0 and $@ are the inner shell's
	exec unshare -m --propagation private sh -c '
		mount --rbind /sys "$0/sys" && mount -t proc proc "$0/proc" &&
		mount --rbind /run/netns "$0/run/netns" && exec chroot "$0" "$@"' "$ROOT" "$@"
}

check "the root has no shared libraries" test -z "$(find "$ROOT" -name '*.so*')"
(chrooted /sbin/tcpstatehist-dynamic --version) >/dev/null 2>&1
check "the dynamic binary does not start there" test $? -ne 0
version=$(chrooted /sbin/tcpstatehist --version 2>&1)
check "--version runs there" grep -q '^tcpstatehist' <<<"$version"

NS=$(new_netns) || { not_ok "create a network namespace"; finish; exit; }
# traffic N: N connections in the test namespace, each closed with a RST.
traffic() { ip netns exec "$NS" python3 "$TOP/tests/traffic.py" -n "$1" -c rst; }

(chrooted /sbin/tcpstatehist -f json -N "/run/netns/$NS") >"$WORK/live.json" 2>"$WORK/live.err" &
LIVE=$!
on_exit "kill -TERM $LIVE"
wait_attached "$LIVE" && traffic 3
kill -TERM "$LIVE"
wait "$LIVE"
expect_eq "live view exits 0 there" 0 "$?"
expect_accounts "live view counts the connections there" "$WORK/live.json" \
	"CLOSE SYN_SENT 3" "SYN_SENT ESTABLISHED 3" "LISTEN SYN_RECV 3" "SYN_RECV ESTABLISHED 3" \
	"ESTABLISHED CLOSE 6" "CLOSE LISTEN 1" "LISTEN CLOSE 1"

(chrooted /sbin/tcpstatehist attach --pin-path "$PIN" -N "/run/netns/$NS") >/dev/null
expect_eq "attach there" 0 "$?"
traffic 4
(chrooted /sbin/tcpstatehist snapshot --pin-path "$PIN" -f prometheus -o /out/tsh.prom)
expect_eq "snapshot -o there" 0 "$?"
check "the snapshot holds the connections" grep -qx \
	'tcpstatehist_transitions_total{old_state="ESTABLISHED",new_state="CLOSE"} 8' "$ROOT/out/tsh.prom"
(chrooted /sbin/tcpstatehist detach --pin-path "$PIN") >/dev/null
expect_eq "detach there" 0 "$?"
check "the pins are gone" test ! -e "$PIN"

finish
