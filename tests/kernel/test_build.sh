#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A build host needs no BTF: in a mount namespace where an empty tmpfs hides
# /sys/kernel/btf (so /sys/kernel/btf/vmlinux, the default VMLINUX_BTF, is not
# there) the build takes the kernel's types from include/vmlinux/ and the
# binary works outside, where the kernel's BTF loads it; without that header
# as well, the build fails instead of building nothing.
set -u
. "$(dirname "$0")/../lib.sh"

WORK=$(mktemp -d /tmp/tsh-build.XXXXXX)
on_exit "rm -rf '$WORK'"
ARCH=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

check "include/vmlinux has this architecture's header" \
	test -s "$TOP/include/vmlinux/$ARCH/vmlinux.h"

# without_btf COMMAND...: COMMAND where /sys/kernel/btf is an empty directory;
# fails, without running COMMAND, if the BTF cannot be hidden.
without_btf() {
	# shellcheck disable=SC2016 # $@ is the inner shell's
	unshare -m --propagation private sh -c 'mount -t tmpfs tsh-no-btf /sys/kernel/btf &&
		test ! -e /sys/kernel/btf/vmlinux && exec "$@"' sh "$@"
}

check "the build's namespace hides /sys/kernel/btf/vmlinux" \
	without_btf sh -c '! ls /sys/kernel/btf/vmlinux 2>/dev/null'
without_btf make -s -C "$TOP" OUTPUT="$WORK/out" "$WORK/out/tcpstatehist" >"$WORK/build.log" 2>&1
expect_eq "build with /sys/kernel/btf/vmlinux hidden succeeds" 0 "$?"
check "its vmlinux.h is the tree's" cmp -s "$TOP/include/vmlinux/$ARCH/vmlinux.h" \
	"$WORK/out/vmlinux.h"
check "the binary it built runs" \
	sh -c "'$WORK/out/tcpstatehist' --version | grep -q '^tcpstatehist'"

# It really loads: a short live view of one namespace with two connections.
NS=$(new_netns) || { not_ok "create a network namespace"; finish; exit; }
"$WORK/out/tcpstatehist" -f json -N "/run/netns/$NS" >"$WORK/live.json" 2>"$WORK/live.err" &
LIVE=$!
on_exit "kill -TERM $LIVE"
wait_attached "$LIVE" && ip netns exec "$NS" python3 "$TOP/tests/traffic.py" -n 2 -c rst
kill -TERM "$LIVE"
wait "$LIVE"
expect_eq "its live view exits 0" 0 "$?"
expect_accounts "its live view counts the connections" "$WORK/live.json" \
	"CLOSE SYN_SENT 2" "SYN_SENT ESTABLISHED 2" "LISTEN SYN_RECV 2" "SYN_RECV ESTABLISHED 2" \
	"ESTABLISHED CLOSE 4" "CLOSE LISTEN 1" "LISTEN CLOSE 1"

without_btf make -s -C "$TOP" OUTPUT="$WORK/none" VMLINUX_TREE="$WORK/no-header" \
	"$WORK/none/tcpstatehist" >"$WORK/none.log" 2>&1
check "without the header and without BTF the build fails" test $? -ne 0
check "because the BTF is missing" grep -q /sys/kernel/btf/vmlinux "$WORK/none.log"
check "and leaves no empty vmlinux.h behind" test ! -e "$WORK/none/vmlinux.h"

finish
