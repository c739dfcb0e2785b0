#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The kernel matrix: boots Debian's kernels under qemu (software emulation),
# with this machine's root filesystem read-only underneath a tmpfs, and runs
# the kernel tests against the binaries already built in this work tree.
#
#   tests/kernels/matrix.sh [KERNEL...]            the suite on each kernel
#   tests/kernels/matrix.sh --kernel K -- CMD...   CMD in the work tree, on K
#
# KERNEL: 5.10 6.1 6.1-rt 6.12 6.12-rt (default: $KERNELS, else 6.1 6.12 5.10).
# 5.10 is only checked to be refused in one line. The suite runs the test files
# named in KERNEL_TESTS below (TSH_ONLY overrides). The suite mode prints one
# line per kernel and ends with "N passed, N failed". docs/kernels.md explains
# the steps; the packages stay cached in $TSH_KERNEL_CACHE between runs.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$TOP/tests/kernels"
CACHE=${TSH_KERNEL_CACHE:-/var/cache/tcpstatehist/kernels}
LOGS="$TOP/.output/kernels"
BOOT_TIMEOUT=${TSH_BOOT_TIMEOUT:-180}
SUITE_TIMEOUT=${TSH_SUITE_TIMEOUT:-1500}
CMD_TIMEOUT=${TSH_CMD_TIMEOUT:-600}
TEST_TIMEOUT=${TSH_TEST_TIMEOUT:-480}
APT_TIMEOUT=${TSH_APT_TIMEOUT:-600}
# The test files whose results depend on the kernel: the programs, the pins and
# the signals. The others (builds, install, docs, rules, the demo's time-bounded
# load) test this machine's userspace, which the guests share, and only take
# time under emulation. TSH_ONLY overrides the list; TSH_ONLY=test_ runs them all.
KERNEL_TESTS="test_live test_trace test_pinned test_concurrent test_errors test_hardening test_slots
	test_sockets test_by"
export TSH_ONLY=${TSH_ONLY:-$KERNEL_TESTS}
LISTS_MAX_AGE_MIN=360
QEMU_PID=
WORK=

die() {
	echo "matrix: $*" >&2
	exit 1
}

usage() {
	echo "usage: $0 [KERNEL...] | --kernel KERNEL -- COMMAND..." \
		"(KERNEL: 5.10 6.1 6.1-rt 6.12 6.12-rt)" >&2
	exit 2
}

# kernel_spec NAME: sets SUITE and META, the suite that serves the kernel and
# the metapackage that depends on its current image.
kernel_spec() {
	case $1 in
	5.10) SUITE=bullseye META=linux-image-amd64 ;;
	6.1) SUITE=bookworm META=linux-image-amd64 ;;
	6.1-rt) SUITE=bookworm META=linux-image-rt-amd64 ;;
	6.12) SUITE=trixie META=linux-image-amd64 ;;
	6.12-rt) SUITE=trixie META=linux-image-rt-amd64 ;;
	*) return 1 ;;
	esac
}

# --- A private apt configuration per suite: its own sources, lists and
# cache; this machine's sources, /boot and /lib/modules are never touched.
# The suite and its security updates: the newest kernel a server gets. Each
# apt call is bounded by APT_TIMEOUT seconds: timeout signals apt by its PID
# (--foreground keeps it in the runner's process group, so that an interrupt
# still reaches it).

apt_private() {
	local tool=$1 suite=$2 dir="$CACHE/apt/$2" status
	shift 2
	timeout --foreground -k 10 "$APT_TIMEOUT" \
		"$tool" -q -o Dir::Etc::sourcelist="$dir/sources.list" \
		-o Dir::Etc::sourceparts="$dir/empty" -o Dir::Etc::preferencesparts="$dir/empty" \
		-o Dir::Etc::preferences="$dir/empty/none" -o Dir::State::Lists="$dir/lists" \
		-o Dir::State::status="$dir/status" -o Dir::Cache="$dir/cache" \
		-o APT::Architectures=amd64 -o Acquire::Languages=none \
		-o APT::Sandbox::User=root "$@"
	status=$?
	case $status in
	124 | 137) echo "matrix: $tool stopped after $APT_TIMEOUT s" >&2 ;;
	esac
	return "$status"
}

# apt_update SUITE: refreshes the suite's lists when missing or older than
# LISTS_MAX_AGE_MIN minutes; a failed refresh falls back to the lists it has.
apt_update() {
	local dir="$CACHE/apt/$1"

	mkdir -p "$dir/empty" "$dir/lists/partial" "$dir/cache/archives/partial" || return 1
	touch "$dir/status"
	printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s\n' \
		"http://deb.debian.org/debian $1 main" \
		"http://deb.debian.org/debian-security $1-security main" >"$dir/sources.list"
	[ -n "$(find "$dir/lists" -maxdepth 1 -name '*_InRelease' -mmin "-$LISTS_MAX_AGE_MIN")" ] &&
		return 0
	apt_private apt-get "$1" -qq update >"$dir/update.log" 2>&1 && return 0
	if ls "$dir/lists/"*_Packages* >/dev/null 2>&1; then
		echo "matrix: apt update of $1 failed, using the lists from before" >&2
		return 0
	fi
	echo "matrix: apt update of $1 failed: $(tail -1 "$dir/update.log")" >&2
	return 1
}

# fetch_package SUITE PACKAGE: prints the directory PACKAGE's newest version
# is unpacked in (apt-get download + dpkg-deb -x, once per version).
fetch_package() {
	local suite=$1 pkg=$2 version tree deb

	version=$(apt_private apt-cache "$suite" show --no-all-versions "$pkg" 2>/dev/null |
		sed -n 's/^Version: //p')
	[ -n "$version" ] || { echo "matrix: $suite serves no $pkg" >&2; return 1; }
	tree="$CACHE/trees/${pkg}_${version//:/%3a}"
	if [ ! -e "$tree/.unpacked" ]; then
		mkdir -p "$CACHE/debs" || return 1
		echo "matrix: fetching $pkg $version from $suite" >&2
		(cd "$CACHE/debs" && apt_private apt-get "$suite" -qq download "$pkg=$version") ||
			return 1
		deb=$(ls "$CACHE/debs/${pkg}_"*"${version##*:}"_*.deb 2>/dev/null | head -1)
		[ -n "$deb" ] || { echo "matrix: $pkg: no .deb after download" >&2; return 1; }
		rm -rf "$tree" && mkdir -p "$tree" && dpkg-deb -x "$deb" "$tree" || return 1
		rm -f "$deb"
		touch "$tree/.unpacked"
	fi
	touch "$tree"
	echo "$tree"
}

# prune_trees: forgets the unpacked packages no run used for 30 days (the
# versions the suites replaced).
prune_trees() {
	find "$CACHE/trees" -mindepth 1 -maxdepth 1 -type d -mtime +30 -exec rm -rf {} + 2>/dev/null
}

# image_package SUITE META: the unsigned image package META currently names.
image_package() {
	local dep

	dep=$(apt_private apt-cache "$1" depends "$2" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -1)
	[ -n "$dep" ] || { echo "matrix: $1: $2 names no kernel image" >&2; return 1; }
	echo "$dep-unsigned"
}

# --- The kernel: an uncompressed vmlinux (qemu boots it through its PVH
# entry) and the modules the first stage needs.

# extract_vmlinux VMLINUZ OUT: the vmlinux inside a bzImage is one xz (5.10,
# 6.1) or zstd (6.12) stream: try each place the magic occurs until one
# decompresses to an ELF file.
extract_vmlinux() {
	local in=$1 out=$2 tool magic offset

	for tool in xz zstd; do
		case $tool in
		xz) magic='\xfd\x37\x7a\x58\x5a\x00' ;;
		zstd) magic='\x28\xb5\x2f\xfd' ;;
		esac
		for offset in $(LC_ALL=C grep -obUaP "$magic" "$in" | cut -d: -f1 | head -4); do
			tail -c "+$((offset + 1))" "$in" | "$tool" -dcq 2>/dev/null >"$out.tmp"
			if [ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
				mv "$out.tmp" "$out"
				return 0
			fi
		done
	done
	rm -f "$out.tmp"
	echo "matrix: no xz or zstd vmlinux found in $in" >&2
	return 1
}

# prepare_kernel NAME: fetches and unpacks kernel NAME; sets KREL (its
# release), VMLINUX and MODDIR (its modules, with a modules.dep).
prepare_kernel() {
	local tree pkg

	kernel_spec "$1" && apt_update "$SUITE" || return 1
	pkg=$(image_package "$SUITE" "$META") && tree=$(fetch_package "$SUITE" "$pkg") || return 1
	KREL=$(basename "$(ls "$tree"/boot/vmlinuz-* | head -1)")
	KREL=${KREL#vmlinuz-}
	VMLINUX="$tree/vmlinux"
	if [ ! -s "$VMLINUX" ]; then
		echo "matrix: extracting $KREL's vmlinux" >&2
		extract_vmlinux "$tree/boot/vmlinuz-$KREL" "$VMLINUX" || return 1
	fi
	# Debian 13 keeps the modules under usr/lib (merged /usr); busybox's depmod
	# looks under lib.
	[ -e "$tree/lib" ] || ln -s usr/lib "$tree/lib"
	MODDIR="$tree/lib/modules/$KREL"
	if [ ! -s "$MODDIR/modules.dep" ]; then
		echo "matrix: depmod $KREL" >&2
		"$BUSYBOX" depmod -b "$tree" "$KREL" || return 1
	fi
}

# module_closure MODDIR NAME...: the module files NAMEs need, each once,
# dependencies before dependents; built-in modules need none.
module_closure() {
	local dir=$1 name line
	shift
	for name in "$@"; do
		grep -q "/$name\.ko$" "$dir/modules.builtin" 2>/dev/null && continue
		line=$(grep -E "/$name\.ko(\.xz|\.zst)?:" "$dir/modules.dep") || {
			echo "matrix: no module $name in $dir" >&2
			return 1
		}
		line=${line/:/}
		echo "$line" | tr ' ' '\n' | tac
	done | awk 'NF && !seen[$0]++'
}

# build_initramfs OUT: a cpio archive of busybox, the first stage's init and
# the modules it loads (decompressed: busybox's insmod takes plain files).
build_initramfs() {
	local out=$1 root="$WORK/initramfs" mods mod base

	rm -rf "$root" && mkdir -p "$root/bin" "$root/modules" || return 1
	cp "$BUSYBOX" "$root/bin/busybox" && cp "$HERE/init" "$root/init" || return 1
	chmod 755 "$root/init"
	mods=$(module_closure "$MODDIR" virtio_pci 9pnet_virtio 9p overlay) || return 1
	for mod in $mods; do
		base=$(basename "$mod")
		case $mod in
		*.xz) xz -dc "$MODDIR/$mod" >"$root/modules/${base%.xz}" ;;
		*.zst) zstd -qdc "$MODDIR/$mod" >"$root/modules/${base%.zst}" ;;
		*) cp "$MODDIR/$mod" "$root/modules/$base" ;;
		esac || return 1
		echo "${base%.ko*}.ko" >>"$root/modules/order"
	done
	(cd "$root" && find . | cpio -o -H newc --quiet) >"$out"
}

# --- One guest at a time, bounded on this side and ended by its PID.

stop_qemu() {
	local i

	[ -n "$QEMU_PID" ] || return 0
	kill -TERM "$QEMU_PID" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$QEMU_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$QEMU_PID" 2>/dev/null
	wait "$QEMU_PID" 2>/dev/null
	QEMU_PID=
}

cleanup() {
	stop_qemu
	[ -n "$WORK" ] && rm -rf "$WORK"
}

# guest_run NAME TIMEOUT COMMAND...: boots kernel NAME and runs COMMAND in the
# work tree, for TIMEOUT seconds at most. Its output lands in $LOGS/NAME.log,
# the guest's console in $LOGS/NAME.console. Sets GUEST_STATUS (COMMAND's exit
# status, empty when it did not finish: GUEST_WHY says why), GUEST_RELEASE and
# GUEST_SECONDS.
guest_run() {
	local name=$1 limit=$2 share="$WORK/share" start elapsed
	shift 2

	GUEST_STATUS='' GUEST_RELEASE='' GUEST_SECONDS=0 GUEST_WHY=''
	mkdir -p "$LOGS" || return 1
	rm -f "$LOGS/$name.log" "$LOGS/$name.console"
	if ! prepare_kernel "$name" || ! build_initramfs "$WORK/initramfs.cpio"; then
		GUEST_WHY="could not prepare the kernel"
		return 1
	fi
	rm -rf "$share" && mkdir -p "$share" || return 1
	cp "$HERE/stage2.sh" "$share/stage2.sh"
	printf 'TSH_GUEST_TIMEOUT=%q\nTSH_GUEST_TOP=%q\n' "$limit" "$TOP" >"$share/limits"
	{
		printf 'cd %q || exit 1\n' "$TOP"
		[ -n "${TSH_ONLY:-}" ] && printf 'export TSH_ONLY=%q\n' "$TSH_ONLY"
		# Tests that compare two clocks loosen what emulation makes slow.
		printf 'export TSH_EMULATED=1\n'
		printf 'exec'
		printf ' %q' "$@"
		printf '\n'
	} >"$share/job"

	start=$SECONDS
	qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 2048 \
		-kernel "$VMLINUX" -initrd "$WORK/initramfs.cpio" \
		-append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init" \
		-nographic -no-reboot -nic none \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$share,mount_tag=tshguest,security_model=none" \
		</dev/null >"$LOGS/$name.console" 2>&1 {MATRIX_LOCK}>&- &
	QEMU_PID=$!
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		elapsed=$((SECONDS - start))
		if [ ! -e "$share/booted" ] && [ "$elapsed" -ge "$BOOT_TIMEOUT" ]; then
			GUEST_WHY="no user space after $BOOT_TIMEOUT s"
			break
		fi
		if [ "$elapsed" -ge $((BOOT_TIMEOUT + limit + 60)) ]; then
			GUEST_WHY="still running after $elapsed s"
			break
		fi
		sleep 1
	done
	stop_qemu
	GUEST_SECONDS=$((SECONDS - start))
	[ -e "$share/output" ] && cp "$share/output" "$LOGS/$name.log"
	GUEST_RELEASE=$(cat "$share/booted" 2>/dev/null)
	GUEST_STATUS=$(cat "$share/status" 2>/dev/null)
	if [ -z "$GUEST_STATUS" ] && [ -z "$GUEST_WHY" ]; then
		if [ -z "$GUEST_RELEASE" ]; then
			GUEST_WHY="the guest ended before user space"
		else
			GUEST_WHY="the guest ended before the command did"
		fi
	fi
	[ "$GUEST_STATUS" = 124 ] && GUEST_WHY="the command timed out after $limit s"
	[ -n "$GUEST_STATUS" ]
}

# --- The two modes.

# run_command NAME COMMAND...: COMMAND's output and exit status, from kernel NAME.
run_command() {
	local name=$1
	shift

	guest_run "$name" "$CMD_TIMEOUT" "$@"
	[ -e "$LOGS/$name.log" ] && cat "$LOGS/$name.log"
	[ -n "$GUEST_WHY" ] && echo "matrix: $name: $GUEST_WHY (console: $LOGS/$name.console)" >&2
	return "${GUEST_STATUS:-1}"
}

# run_suite NAME: the kernel tests on kernel NAME (on 5.10, only the refusal);
# prints NAME's line and adds its counts to PASSED and FAILED.
run_suite() {
	local name=$1 counts passed failed note=

	if [ "$name" = 5.10 ]; then
		guest_run "$name" "$CMD_TIMEOUT" bash tests/kernels/too_old.sh
	else
		guest_run "$name" "$SUITE_TIMEOUT" env TSH_NO_BUILD=1 \
			TSH_TEST_TIMEOUT="$TEST_TIMEOUT" tests/run.sh
	fi
	counts=$(tail -1 "$LOGS/$name.log" 2>/dev/null |
		sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1 \2/p')
	if [ -n "$counts" ]; then
		read -r passed failed <<<"$counts"
	else
		passed=0 failed=1
	fi
	[ -n "$GUEST_WHY" ] && note=" ($GUEST_WHY; console: $LOGS/$name.console)"
	if [ -n "$counts" ] && [ -z "$GUEST_WHY" ] && [ "$failed" = 0 ] && [ "$GUEST_STATUS" != 0 ]; then
		failed=1 note=" (exit status $GUEST_STATUS)"
	fi
	printf 'kernel %-8s %-24s %4d passed, %3d failed, %4d s%s\n' "$name" \
		"${GUEST_RELEASE:-?}" "$passed" "$failed" "$GUEST_SECONDS" "$note"
	grep '^FAIL - ' "$LOGS/$name.log" 2>/dev/null | sed 's/^/    /'
	PASSED=$((PASSED + passed)) FAILED=$((FAILED + failed))
}

main() {
	local kernels=() command=() name

	while [ $# -gt 0 ]; do
		case $1 in
		--kernel)
			[ $# -ge 2 ] || usage
			kernels+=("$2")
			shift 2
			;;
		--)
			shift
			command=("$@")
			break
			;;
		-h | --help) usage ;;
		-*) usage ;;
		*)
			kernels+=("$1")
			shift
			;;
		esac
	done
	[ ${#kernels[@]} -gt 0 ] || read -ra kernels <<<"${KERNELS:-6.1 6.12 5.10}"
	for name in "${kernels[@]}"; do
		kernel_spec "$name" || { echo "matrix: unknown kernel '$name'" >&2; usage; }
	done
	[ ${#command[@]} -gt 0 ] && [ ${#kernels[@]} -ne 1 ] && usage
	[ "$(id -u)" = 0 ] || die "needs root (qemu shares / with the guest, whose tests run as root)"
	command -v qemu-system-x86_64 >/dev/null || die "no qemu-system-x86_64: run scripts/deps.sh"
	[ -x "$TOP/tcpstatehist" ] || die "build first: make all tests"

	# One matrix at a time on this machine: it owns the cache and both CPUs.
	mkdir -p "$CACHE" || die "cannot create $CACHE"
	exec {MATRIX_LOCK}>"$CACHE/lock"
	if ! flock -n "$MATRIX_LOCK"; then
		echo "matrix: waiting for the other matrix run to end" >&2
		flock -w 3600 "$MATRIX_LOCK" || die "the other matrix run holds $CACHE/lock"
	fi
	WORK=$(mktemp -d /tmp/tsh-matrix.XXXXXX) || die "no temporary directory"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	apt_update bookworm || die "cannot fetch busybox-static"
	BUSYBOX="$(fetch_package bookworm busybox-static)/bin/busybox" ||
		die "cannot fetch busybox-static"
	prune_trees

	if [ ${#command[@]} -gt 0 ]; then
		run_command "${kernels[0]}" "${command[@]}"
		return
	fi
	PASSED=0 FAILED=0
	for name in "${kernels[@]}"; do
		run_suite "$name"
	done
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

main "$@"
