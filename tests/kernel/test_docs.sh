#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The docs against the binary: every option --help lists is in the man page and
# the README, the man page lists no option the binary lacks, every JSON key the
# renderer prints and every Prometheus metric name is in docs/output.md,
# docs/monitoring.md's status example is what status prints, and the man page
# renders without a warning. Each check names what drifted.
source "$(dirname "$0")/../lib.sh"

MAN_PAGE=$TOP/docs/tcpstatehist.8
OUTPUT_DOC=$TOP/docs/output.md
README=$TOP/README.md
TMP=$(mktemp -d)
on_exit "rm -rf $TMP"

# missing_from FILE WORD...: prints the words FILE does not contain as whole
# words (--ipv4 is not --ipv4x, a metric is not a longer metric); fails if any.
missing_from() {
	local file=$1 word absent=()
	shift
	for word in "$@"; do
		grep -qE -- "$(printf '%s' "$word" | sed 's/[][\\.*^$]/\\&/g')([^A-Za-z0-9_-]|\$)" \
			"$file" || absent+=("$word")
	done
	[ ${#absent[@]} -eq 0 ] && return 0
	echo "${absent[*]}"
	return 1
}

# expect_none NAME WHAT OUTPUT: passes when OUTPUT is empty.
expect_none() {
	if [ -z "$3" ]; then ok "$1"; else not_ok "$1" "$2: $3"; fi
}

# man_text: the man page as roff source with roff's escaped minus (\-) plain.
man_text() { sed 's/\\-/-/g' "$MAN_PAGE"; }

"$TSH" --help >"$TMP/help" 2>&1
check "--help exits 0" [ $? -eq 0 ]
mapfile -t help_long < <(grep -oE -- '--[a-z][a-z0-9-]*' "$TMP/help" | sort -u)
mapfile -t help_short < <(grep -oE -- '^ +-[a-zA-Z0-9],' "$TMP/help" | tr -d ' ,' | sort -u)
check "--help lists long options" [ ${#help_long[@]} -ge 10 ]

# The README has an option table and a usage block; an option may be in either.
missing=$(missing_from "$README" "${help_long[@]}")
expect_none "README: every long option of --help" "not in README.md" "$missing"

# The OPTIONS section: its .TP tags name the options, long and short.
man_text >"$TMP/man"
sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$TMP/man" >"$TMP/man-options"
mapfile -t man_opts < <(grep -A1 '^\.TP' "$TMP/man-options" | grep -v '^\.TP\|^--$' |
	grep -oE -- '(^|[ "])--?[a-zA-Z0-9][a-z0-9-]*' | tr -d ' "' | sort -u)
check "man page OPTIONS: has option tags" [ ${#man_opts[@]} -ge 10 ]
missing=$(missing_from "$TMP/man-options" "${help_long[@]}")
expect_none "man page OPTIONS: every long option of --help" "not in OPTIONS" "$missing"
unknown=()
for opt in "${man_opts[@]}"; do
	case $opt in
	--*) printf '%s\n' "${help_long[@]}" | grep -qxF -- "$opt" || unknown+=("$opt") ;;
	*) printf '%s\n' "${help_short[@]}" | grep -qxF -- "$opt" || unknown+=("$opt") ;;
	esac
done
expect_none "man page OPTIONS: every option exists in --help" "not in --help" "${unknown[*]}"
missing=$(for opt in "${help_short[@]}"; do
	printf '%s\n' "${man_opts[@]}" | grep -qxF -- "$opt" || echo "$opt"
done)
expect_none "man page OPTIONS: every short option of --help" "not in OPTIONS" "$missing"

# JSON: the keys of a real summary, with transitions and buckets in it.
NS=$(new_netns) || { not_ok "create a network namespace"; finish; exit 1; }
"$TSH" -f json -N "/run/netns/$NS" >"$TMP/json" 2>"$TMP/json.err" &
LIVE_PID=$!
on_exit "kill -TERM $LIVE_PID"
if wait_attached "$LIVE_PID"; then
	ip netns exec "$NS" python3 "$TOP/tests/traffic.py" -n 2
	sleep 0.2
fi
kill -TERM "$LIVE_PID"
wait "$LIVE_PID"
check "JSON: the live view ran" [ $? -eq 0 ]
mapfile -t json_keys < <(python3 - "$TMP/json" <<'EOF'
import json, sys

keys = set()
with open(sys.argv[1]) as f:
    for line in f:
        summary = json.loads(line)
        keys.update(summary)
        for pair in summary["transitions"]:
            keys.update(pair)
            for bucket in pair["buckets"]:
                keys.update(bucket)
print("\n".join("`%s`" % key for key in sorted(keys)))
EOF
)
# shellcheck disable=SC2016 # the backquotes are literal
check "JSON: a summary with transitions and buckets" \
	grep -qxF '`le_us`' <(printf '%s\n' "${json_keys[@]}")
missing=$(missing_from "$OUTPUT_DOC" "${json_keys[@]}")
expect_none "docs/output.md: every JSON key, in backquotes" "not documented" "$missing"

mapfile -t metrics < <(grep -o 'tcpstatehist_[a-z_]*' "$TOP/cli/render_prom.c" | sort -u)
check "Prometheus: metric names found in cli/render_prom.c" [ ${#metrics[@]} -ge 5 ]
missing=$(missing_from "$OUTPUT_DOC" "${metrics[@]}")
expect_none "docs/output.md: every Prometheus metric name" "not documented" "$missing"

# docs/monitoring.md's status example against a real attach with its filters
# and label: the same fields in the same order, the same layout, filters,
# breakdown and labels, and, on a machine with as many CPUs as the example
# names and outside the kernel matrix's guests, the same map memory (the
# per-CPU maps and the kernel's accounting make it differ elsewhere).
PIN=/sys/fs/bpf/tsh-docs-$$
on_exit "'$TSH' detach --pin-path '$PIN'"
sed -n '/^\$ sudo tcpstatehist status$/,/^```$/p' "$TOP/docs/monitoring.md" | sed '1d;$d' \
	>"$TMP/status.doc"
check "docs/monitoring.md has a status example" grep -q '^map memory:' "$TMP/status.doc"
"$TSH" attach --pin-path "$PIN" $(sed -n 's/^filters: *//p' "$TMP/status.doc") \
	--label "$(sed -n 's/^labels: *\([a-z_]*\)="\(.*\)"$/\1=\2/p' "$TMP/status.doc")" >/dev/null
expect_eq "attach with the example's filters and label" 0 "$?"
"$TSH" status --pin-path "$PIN" >"$TMP/status.real"
# fields FILE: the text before each colon, then the program names.
fields() { sed -n -e 's/^\([a-z ]*\):.*/\1/p' -e 's/^  \(tsh_[a-z_]*\) .*/\1/p' "$1"; }
expect_eq "status example: the fields status prints, in order" "$(fields "$TMP/status.real")" \
	"$(fields "$TMP/status.doc")"
# same WHAT PATTERN: what matches PATTERN, in the example and in a real status.
same() { expect_eq "status example: $1" "$(grep -oE "$2" "$TMP/status.real")" \
	"$(grep -oE "$2" "$TMP/status.doc")"; }
same "the layout version" '\(layout v[0-9]+\)'
same "filters, breakdown and labels" '^(filters|breakdown|labels): .*'
cpus=$(grep -oE 'here on [0-9]+ CPUs' "$TOP/docs/monitoring.md" | grep -oE '[0-9]+')
if [ "$(nproc)" = "${cpus:-none}" ] && [ -z "${TSH_EMULATED:-}" ]; then
	same "the map memory of a real attach" '^map memory: .*'
else
	ok "status example: map memory not compared ($(nproc) CPUs here, the example's ${cpus:-?})"
fi

if ! command -v man >/dev/null; then
	not_ok "man page renders" "man is not installed (scripts/deps.sh installs man-db)"
else
	warnings=$(MANWIDTH=100 man --warnings -l "$MAN_PAGE" 2>&1 >/dev/null)
	expect_none "man page renders without warnings" "man --warnings" "$warnings"
	# Every warning groff has (man shows only macro ones): a control
	# character in the source, say, which renders as garbage.
	warnings=$(groff -man -ww -z "$MAN_PAGE" 2>&1)
	expect_none "man page: no groff warning" "groff -ww" "$warnings"
fi

finish
