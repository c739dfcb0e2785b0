#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The layout docs/design.md promises, checked on the sources: a module (a .c
# and its .h) includes only modules below it, so the includes form no cycle;
# the pure stages (renderers, parser of the state file, histogram and census
# arithmetic, JSON writer) include nothing that reaches the kernel or the
# commands; only commands print errors; one command table.
set -u
. "$(dirname "$0")/../lib.sh"

CLI=${TSH_LAYERS_DIR:-$TOP/cli}

# module FILE: cli/render_json.c -> render_json
module() {
	local base=${1##*/}

	echo "${base%.*}"
}

# edges: "INCLUDED INCLUDER" for every include of one cli module by another.
edges() {
	local f dep

	for f in "$CLI"/*.c "$CLI"/*.h; do
		for dep in $(sed -n 's/^#include "\([^"/]*\)\.h"$/\1/p' "$f"); do
			[ -e "$CLI/$dep.h" ] || continue
			[ "$dep" = "$(module "$f")" ] && continue
			echo "$dep $(module "$f")"
		done
	done
}

EDGES=$(edges)
check "the cli modules include one another" test -n "$EDGES"
TSORT=$(echo "$EDGES" | tsort 2>&1 >/dev/null)
expect_eq "no include cycle among the cli modules" "" "$TSORT"

# A pure stage: FILE and the headers it includes reach no kernel code, no
# skeleton, no command helper.
pure_reaches() {
	grep -lE '^#include ([<"](bpf/|linux/bpf)|"[a-z_]+\.skel\.h"|"(loader|common|collector|audit|session|census_walk|ring_reader)\.h")' \
		"$@" 2>/dev/null
}
PURE=()
for m in render_text render_json render_prom render_status render_sockets render_trace \
	hist snapshot statefile census json_writer labels breakdown util; do
	PURE+=("$CLI/$m.c")
	[ -e "$CLI/$m.h" ] && PURE+=("$CLI/$m.h")
done
PURE+=("$CLI/render.h")
expect_eq "the pure stages include nothing that reaches the kernel or a command" "" \
	"$(pure_reaches "${PURE[@]}" | sed "s|$CLI/||" | tr '\n' ' ')"

# One error rule: below the commands, modules fill an error buffer and never
# print. The one exception is libbpf's own messages under -v (loader.c's
# print callback), and session.c, which the live view and trace share.
printers=$(grep -lE 'fprintf\(stderr|fputs\([^;]*stderr\)|perror\(|p_err\(' "$CLI"/*.c |
	sed "s|$CLI/||" | grep -vE '^(cmd_[a-z_]+|main|common|session)\.c$' | tr '\n' ' ')
expect_eq "only commands print (loader.c: libbpf's -v callback only)" "loader.c " "$printers"
expect_count "loader.c writes to stderr only in libbpf's print callback" 1 \
	"$(grep -cE 'stderr' "$CLI/loader.c")"

# One command table: the names the parser accepts and the functions main runs
# come from commands.h, nowhere else.
expect_eq "one command table (commands.h)" "commands.h " \
	"$(grep -lE '"(detach|status)"' "$CLI"/*.c "$CLI"/*.h | sed "s|$CLI/||" | tr '\n' ' ')"
finish
