#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# On a kernel older than the tool supports (the matrix runs this on 5.10
# instead of the suite): the tool refuses before loading anything, in one
# line, with a non-zero exit. Ends with "N passed, N failed".
source "$(dirname "$0")/../lib.sh"

expect_fail "refused as too old, in one line" \
	'^tcpstatehist: kernel [^ ]+ is too old: tcpstatehist needs Linux [0-9]+\.[0-9]+ or later$' \
	"$TSH" 1 1
finish
echo "$PASSED passed, $FAILED failed"
