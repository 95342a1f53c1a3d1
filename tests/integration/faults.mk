# Fault and load suites (issue 6): relay, daemon, storage and session faults,
# and many sessions and bridges at once. Each asserts what a user would see.
FAULT_TESTS = \
	tests/integration/fault-relay.sh \
	tests/integration/fault-daemon-kill.sh \
	tests/integration/fault-storage.sh \
	tests/integration/fault-sessions.sh \
	tests/integration/load-sessions.sh \
	tests/integration/load-bridges.sh
TESTS += $(FAULT_TESTS)
EXTRA_DIST += $(FAULT_TESTS) tests/integration/notify-listen.py \
	tests/integration/latency-probe.py tests/integration/lib-load.sh tests/integration/proc-sample.py
