#!/bin/bash
# bench/run --quick: every benchmark in bench/ runs with tiny sizes and
# prints its metrics, and bench/run puts them all in its table. Measures
# nothing (the sizes are too small); it keeps the benchmarks from rotting.
. "$(dirname "$0")/lib.sh"
need python3 twist3 ssh sftp
[ "$(id -u)" = 0 ] || skip "the benchmarks need root (network namespaces, sshd)"
export builddir

rc=0
"$srcdir/bench/run" --quick >"$WORK/table" 2>"$WORK/bench.log" || rc=$?
cp "$WORK/table" "$WORK/table.log" # shown by fail
if grep -q ": skipped (" "$WORK/table"; then
	skip "a benchmark skipped: $(grep ": skipped (" "$WORK/table")"
fi
[ "$rc" = 0 ] || fail "bench/run --quick exited with $rc: $(grep -E '^bench/.*: failed' "$WORK/table"; tail -n 5 "$WORK/bench.log")"

# Every executable in bench/ ran, and printed at least one metric.
for b in "$srcdir"/bench/*; do
	name=$(basename "$b")
	[ -x "$b" ] && [ -f "$b" ] && [ "$name" != run ] || continue
	grep -q "^bench/$name: ok" "$WORK/table" || fail "bench/$name did not run to the end: $(grep "^bench/$name" "$WORK/table")"
	grep -q "^$name  " "$WORK/table" || fail "no metric of bench/$name in the table"
done
# The metrics of the issues' goals, each with a number (a difference may be negative).
for m in "bridge start to reachable, direct path" "bridge start to reachable, relay, direct address dropped" \
	"added per keystroke by bridge and tunnel, direct (ms, median)" "sftp ratio bridge direct / sshd" \
	"sftp ratio bridge relay / sshd" "daemon start-up, exec to READY=1" "daemon main process idle, PSS" \
	"session helper, private memory" "sftp ratio daemon's plain SSH / sshd" "tunnel throughput ratio tunnel / raw relay" \
	"relay churn: helpers started in" "QR photos read by kairos / zbarimg" \
	"round trips on the wire, bridge start to shell prompt, direct, 100 ms RTT" \
	"round trips on the wire, further ssh to shell prompt, direct, 100 ms RTT" \
	"round trips on the wire, bridge start to shell prompt, relay, 100 ms RTT" \
	"round trips on the wire, further ssh to shell prompt, relay, 100 ms RTT" \
	"round trips on the wire, further ssh to shell prompt, direct, 20 ms RTT" \
	"keystroke echo beyond the path's own round trip, bridge direct" \
	"keystroke echo beyond the path's own round trip, bridge relay" "sftp put 2 MiB ratio bridge direct / sshd" \
	"sftp get 2 MiB ratio bridge direct / sshd"; do
	line=$(grep -F -- "$m" "$WORK/table") || fail "metric '$m' missing from bench/run's table"
	echo "$line" | grep -qE '  -?[0-9]+(\.[0-9]+)?  ' || fail "metric '$m' has no measured number: $line"
done
pass "bench/run --quick: $(grep -c '^bench/.*: ok' "$WORK/table") benchmarks ran, $(grep -c "^@bench" "$WORK/bench.log") metrics in the table"
