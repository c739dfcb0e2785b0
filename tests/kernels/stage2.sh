#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The guest's second stage: this machine's own bash, in the overlay root.
# Mounts what the tests need, runs the job the host wrote into /tsh-guest
# under a time limit and records its output and exit status there, then
# powers the guest off. The host waits for "booted", then for "status".
guest=/tsh-guest
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LC_ALL=C.UTF-8

# shellcheck disable=SC1091
. "$guest/limits"
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# What udev would add to a devtmpfs: bash's process substitution needs /dev/fd.
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
# The work tree may lie under a directory mounted afresh below (a clone in
# /tmp, say): hold it aside first, and put it back in its place after.
mkdir -p /tsh-top && mount --bind "$TSH_GUEST_TOP" /tsh-top
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p "$TSH_GUEST_TOP" && mount --bind /tsh-top "$TSH_GUEST_TOP"
ip link set lo up
hostname tsh-guest

uname -r >"$guest/booted"
timeout -k 10 "$TSH_GUEST_TIMEOUT" bash "$guest/job" </dev/null >"$guest/output" 2>&1
echo $? >"$guest/status"
sync
echo o >/proc/sysrq-trigger
sleep 30
