#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The clang build (make clang-build, into .output/clang/) writes its files
# where gcc's does: snapshot -o and --state-file into a subdirectory, by an
# absolute and by a relative path, replaced atomically with no temporary
# file left behind.
set -u
. "$(dirname "$0")/../lib.sh"

CTSH=$TOP/.output/clang/tcpstatehist
PIN=/sys/fs/bpf/tsh-clang-$$
WORK=$(mktemp -d /tmp/tsh-clang.XXXXXX)
on_exit "rm -rf '$WORK'"
on_exit "'$CTSH' detach --pin-path '$PIN' >/dev/null 2>&1"

if check "the clang build exists" test -x "$CTSH" &&
	check "attach (clang build)" sh -c "'$CTSH' attach --pin-path '$PIN' >/dev/null"; then
	mkdir "$WORK/sub"
	check "snapshot -o DIR/FILE, absolute (clang build)" \
		"$CTSH" snapshot --pin-path "$PIN" -f prometheus -o "$WORK/sub/abs.prom"
	check "the file holds the metrics" grep -q '^tcpstatehist_attach_time_seconds ' \
		"$WORK/sub/abs.prom"
	check "snapshot -o DIR/FILE, relative (clang build)" \
		sh -c 'cd "$1" && "$2" snapshot --pin-path "$3" -f json -o sub/rel.json' \
		sh "$WORK" "$CTSH" "$PIN"
	check "the relative file holds a summary" grep -q '"transitions":\[' "$WORK/sub/rel.json"
	check "--state-file DIR/FILE (clang build)" \
		sh -c '"$0" snapshot --pin-path "$1" --state-file "$2" >/dev/null' \
		"$CTSH" "$PIN" "$WORK/sub/state"
	check "a second snapshot reads the state back" \
		sh -c '"$0" snapshot --pin-path "$1" --state-file "$2" | grep -q "^Since the previous"' \
		"$CTSH" "$PIN" "$WORK/sub/state"
	expect_eq "no temporary file left" "abs.prom rel.json state state.lock" \
		"$(ls -A "$WORK/sub" | tr '\n' ' ' | sed 's/ $//')"
	check "detach (clang build)" sh -c "'$CTSH' detach --pin-path '$PIN' >/dev/null"
fi
finish
