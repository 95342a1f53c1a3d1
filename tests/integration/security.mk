# The security suite (issue 6): attacks on the relay path, the direct port
# and the plain SSH socket against the real daemon, relay and bridge.
SECURITY_TESTS = \
	tests/integration/security-camping.sh \
	tests/integration/security-wrong-secret.sh \
	tests/integration/security-capture-replay.sh \
	tests/integration/security-tamper.sh \
	tests/integration/security-guessing.sh \
	tests/integration/security-secrets.sh \
	tests/integration/security-lockout.sh \
	tests/integration/security-argv.sh
TESTS += $(SECURITY_TESTS)
EXTRA_DIST += $(SECURITY_TESTS) tests/integration/lib-security.sh tests/integration/relay-camper.py \
	tests/integration/lockout-flood.py \
	tests/integration/journal-exec.py tests/integration/argv-watch.py
