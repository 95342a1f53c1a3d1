# Benchmarks (bench/run runs them all and prints one table; bench/RESULTS.md
# has the numbers and the line format) and the tests that belong to them.
EXTRA_DIST += bench/run bench/bridge bench/recovery bench/tunnel-throughput bench/RESULTS.md bench/initramfs \
	bench/pairing-churn bench/qr-photos bench/long-path
BENCH_TESTS = \
	tests/integration/relay-head-start.sh \
	tests/integration/bench-smoke.sh
TESTS += $(BENCH_TESTS)
EXTRA_DIST += $(BENCH_TESTS)
