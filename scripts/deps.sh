#!/bin/sh
# Installs the Debian packages that building, running and testing tcpstatehist
# need, when they are missing ("deps.sh kernels": the kernel matrix's too).
# Debian 12 (bookworm) or later; run as root.
set -eu

packages="make gcc clang-19 llvm-19 libbpf-dev libelf-dev zlib1g-dev bpftool iproute2
	python3 prometheus prometheus-node-exporter libbpf-tools util-linux libcap2-bin
	libclang-rt-19-dev curl man-db strace systemd jq"
# The kernel matrix (make test-kernels) also boots Debian's kernels under qemu
# and unpacks their packages.
[ "${1:-}" = kernels ] &&
	packages="$packages qemu-system-x86 xz-utils zstd cpio debian-archive-keyring"

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
