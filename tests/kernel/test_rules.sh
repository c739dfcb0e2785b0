#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The Prometheus rules (dist/prometheus/tcpstatehist.rules.yml): promtool
# check rules, then promtool test rules with tests/rules/. Every alert must
# have a test where it fires and one where it stays silent: each alert in turn
# is made to never fire, then to always fire, and promtool must fail on that
# alert each time. The rules use only metric names the tool prints. The
# census query of docs/output.md gives one answer per host.
set -u
. "$(dirname "$0")/../lib.sh"

RULES=$TOP/dist/prometheus/tcpstatehist.rules.yml
TESTS=$TOP/tests/rules/tcpstatehist.rules.test.yml
WORK=$(mktemp -d /tmp/tsh-rules.XXXXXX)
on_exit "rm -rf '$WORK'"

if ! command -v promtool >/dev/null; then
	not_ok "promtool" "promtool is missing (scripts/deps.sh installs prometheus)"
	finish
	exit
fi

check "promtool check rules" sh -c "promtool check rules '$RULES' >'$WORK/check' 2>&1"
check "promtool test rules" sh -c "promtool test rules '$TESTS' >'$WORK/test' 2>&1"

mapfile -t alerts < <(sed -n 's/^ *- alert: *//p' "$RULES")
check "the rules have alerts" test ${#alerts[@]} -ge 5

# mutated ALERT EXPR: promtool's output on the tests, with ALERT's expression
# replaced by EXPR (a copy of the tree's layout, so rule_files still resolves).
mutated() {
	mkdir -p "$WORK/m/dist/prometheus" "$WORK/m/tests/rules"
	cp "$TESTS" "$WORK/m/tests/rules/"
	awk -v name="$1" -v expr="$2" '
		$0 ~ "- alert: " name "$" { hit = 1 }
		hit && /^ *expr:/ { sub(/expr:.*/, "expr: " expr); hit = 0 }
		{ print }' "$RULES" >"$WORK/m/dist/prometheus/tcpstatehist.rules.yml"
	promtool test rules "$WORK/m/tests/rules/${TESTS##*/}" 2>&1
}

for alert in "${alerts[@]}"; do
	out=$(mutated "$alert" "vector(1) < 0")
	check "$alert: a test expects it to fire" grep -q "alertname: $alert," <<<"$out"
	out=$(mutated "$alert" "vector(1)")
	check "$alert: a test expects it to stay silent" \
		sh -c "grep -A1 'alertname: $alert,' | grep -q 'exp:\[\],'" <<<"$out"
done

# Every tcpstatehist metric the rules read is one that the tool prints
# (cli/render_prom.c, and the census's in cli/render_sockets.c).
unknown=$(grep -oE '(^|[^:a-z_])tcpstatehist_[a-z_]+' "$RULES" | sed -E 's/^[^t]//' |
	sed -E 's/_(bucket|sum|count)$//' | sort -u | while read -r m; do
		grep -q "\"$m\"\\|${m}[{ _]" "$TOP/cli/render_prom.c" "$TOP/cli/render_sockets.c" ||
			echo "$m"
	done)
expect_eq "the rules read only metrics the tool prints" "" "$unknown"

# docs/output.md's query on the census ("for instance ..."), evaluated by
# promtool on two hosts: h1 has 5 CLOSE_WAIT sockets, 2 of them younger than
# the bound; h2 has 4, all younger.
query=$(sed -n '/^its buckets directly, for instance$/{n;s/^`\(.*\)`$/\1/p}' \
	"$TOP/docs/output.md")
check "docs/output.md has the census query" grep -q '^tcpstatehist_sockets' <<<"$query"
mkdir -p "$WORK/q"
printf 'groups:\n  - name: doc\n    rules:\n      - record: doc_query\n        expr: %s\n' \
	"$query" >"$WORK/q/doc.rules.yml"
cat >"$WORK/q/doc.test.yml" <<'EOF'
rule_files: [doc.rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'tcpstatehist_sockets{instance="h1",job="node",state="CLOSE_WAIT"}'
        values: '5x5'
      - series: 'tcpstatehist_socket_state_age_seconds_bucket{instance="h1",job="node",state="CLOSE_WAIT",le="536.870912"}'
        values: '2x5'
      - series: 'tcpstatehist_sockets{instance="h2",job="node",state="CLOSE_WAIT"}'
        values: '4x5'
      - series: 'tcpstatehist_socket_state_age_seconds_bucket{instance="h2",job="node",state="CLOSE_WAIT",le="536.870912"}'
        values: '4x5'
    promql_expr_test:
      - expr: doc_query
        eval_time: 2m
        exp_samples:
          - labels: 'doc_query{instance="h1",job="node",state="CLOSE_WAIT"}'
            value: 3
          - labels: 'doc_query{instance="h2",job="node",state="CLOSE_WAIT"}'
            value: 0
EOF
check "the census query of docs/output.md: one answer per host" \
	sh -c "promtool test rules '$WORK/q/doc.test.yml' >'$WORK/q/out' 2>&1"

finish
