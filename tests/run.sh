#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The one test command: unit tests of the pure stages, then the kernel and CLI
# tests (root: they load the real programs and drive real TCP connections).
# Ends with "N passed, N failed"; exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
export TSH_RESULTS
TSH_RESULTS=$(mktemp)
trap 'rm -f "$TSH_RESULTS"' EXIT

# TSH_NO_BUILD=1 runs the binaries already built (the kernel matrix's guests
# see this tree read-only and have no compiler to spare).
if [ -z "${TSH_NO_BUILD:-}" ]; then
	make -s all tests || { echo "0 passed, 1 failed"; exit 1; }
elif [ ! -x tcpstatehist ] || [ ! -x .output/unit_tests ]; then
	echo "TSH_NO_BUILD: nothing built here: run make all tests first" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

# run_test_file FILE: with TSH_TEST_TIMEOUT (seconds) set, a test file still
# running after that long is stopped (its cleanup trap runs) and counts as one
# failure.
run_test_file() {
	local rc

	if [ -z "${TSH_TEST_TIMEOUT:-}" ]; then
		bash "$1"
		return
	fi
	timeout -k 30 "$TSH_TEST_TIMEOUT" bash "$1"
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "FAIL - $1: still running after $TSH_TEST_TIMEOUT s, stopped"
		echo "0 1" >>"$TSH_RESULTS"
	fi
}

# selected FILE: with TSH_ONLY set (one or more names, space-separated), only
# the test files whose path contains one of them run.
selected() {
	local name

	[ -z "${TSH_ONLY:-}" ] && return 0
	for name in $TSH_ONLY; do
		[[ "$1" == *"$name"* ]] && return 0
	done
	return 1
}

echo "== unit"
.output/unit_tests || true

if [ "$(id -u)" != 0 ]; then
	echo "kernel tests need root: counted as one failure" >&2
else
	for t in tests/kernel/test_*.sh; do
		selected "$t" || continue
		echo "== $t"
		before=$(wc -l <"$TSH_RESULTS")
		run_test_file "$t"
		# A file that died before its finish line must not read as green.
		if [ "$(wc -l <"$TSH_RESULTS")" -eq "$before" ]; then
			echo "FAIL - $t: ended without reporting its results"
			echo "0 1" >>"$TSH_RESULTS"
		fi
	done
fi

read -r passed failed < <(awk '{p += $1; f += $2} END {print p + 0, f + 0}' "$TSH_RESULTS")
[ "$(id -u)" != 0 ] && failed=$((failed + 1))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
