#!/bin/bash
# The man pages are clean for mandoc's linter at warning level: what
# `man` shows is what was written.
KAIROS_SIDES=""
. "$(dirname "$0")/lib.sh"
need mandoc
for page in "$srcdir"/man/*.[0-9]; do
	out=$(mandoc -T lint -W warning "$page" 2>&1) || fail "mandoc finds problems in $(basename "$page"): $out"
	[ -z "$out" ] || fail "mandoc warns about $(basename "$page"): $out"
done
n=$(ls "$srcdir"/man/*.[0-9] | wc -l)
[ "$n" -ge 3 ] || fail "only $n man pages"
pass "$n man pages lint-clean"
