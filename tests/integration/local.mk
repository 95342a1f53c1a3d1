# Integration tests: shell scripts against the real transit relay, proxies
# and, later, the real programs. Exit 0, 77 (skip, never under CI=true) or 1.
INTEGRATION_TESTS = \
	tests/integration/relay-transfer.sh \
	tests/integration/relay-concurrent.sh \
	tests/integration/relay-wrong-secret.sh \
	tests/integration/relay-tamper.sh \
	tests/integration/relay-proxy.sh \
	tests/integration/direct-wins.sh \
	tests/integration/relay-waiters.sh \
	tests/integration/recovery-ssh.sh \
	tests/integration/ssh-audit.sh \
	tests/integration/recovery-abuse.sh \
	tests/integration/recovery-helper-env.sh \
	tests/integration/recovery-nspawn.sh \
	tests/integration/bridge-e2e.sh \
	tests/integration/bridge-resilience.sh \
	tests/integration/bridge-photo.sh \
	tests/integration/bridge-operator.sh \
	tests/integration/relay-rotated.sh \
	tests/integration/completion.sh \
	tests/integration/no-relay.sh \
	tests/integration/recovery-cli.sh \
	tests/integration/journal-catalog.sh \
	tests/integration/relay-unreachable.sh \
	tests/integration/notify-https.sh \
	tests/integration/auto-recovery-nspawn.sh \
	tests/integration/unlock-agent.sh \
	tests/integration/long-path.sh \
	tests/integration/man-lint.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) tests/integration/lib.sh tests/integration/tamper-proxy.py \
	tests/integration/lib-recovery.sh tests/integration/lib-nspawn.sh \
	tests/integration/lib-notify.sh tests/integration/https-sink.py tests/integration/lib-delay.sh
