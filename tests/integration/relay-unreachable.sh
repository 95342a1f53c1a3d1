#!/bin/bash
# A relay that cannot be resolved (a machine without DNS in recovery) is
# said once, not once a retry: kairos-recovery, in a network namespace of its
# own with only loopback (so the lookup fails at once, and nothing leaves
# this machine), retries many times (its debug lines count them) and warns
# exactly once. Then, with the summary every 2 s instead of 5 minutes
# (kairos-tunnel, the same relay waiters), the warnings that follow are
# summaries with the number of attempts; and when the relay comes back, it
# is said once with how long it was away.
. "$(dirname "$0")/lib.sh"
need unshare ip twist3
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
export RECOVERY="$builddir/kairos-recovery" KAIROS_SESSION_HELPER="$builddir/kairos-recovery-session"
relay=tcp:no-such-relay.invalid:4001

printf '[Recovery]\nRelay=%s\nConsole=null\nPlymouth=no\nHostKey=\nAuthorizedKeys=\nTunnelPort=%s\nLogLevel=debug\n' \
	"$relay" "$(free_port)" >"$WORK/recovery.conf"
RUNTIME_DIRECTORY="$WORK/run" bg unshare --net sh -c 'ip link set lo up && exec "$RECOVERY" --config "$1"' sh \
	"$WORK/recovery.conf" >"$WORK/recovery.log" 2>&1
wait_log "$WORK/recovery.log" "kairos-recovery started"
# Six retries at least (about 20 s with the backoff capped at 4 s).
wait_log_count "$WORK/recovery.log" "Relay $relay: still not reachable (cannot resolve" 6 90
warnings=$(grep -c "WARN .*Relay $relay" "$WORK/recovery.log" || true)
[ "$warnings" = 1 ] || fail "$warnings warnings about the unresolvable relay, not 1: $(grep "WARN .*Relay" "$WORK/recovery.log")"
grep -q "WARN   Relay $relay lost: cannot resolve no-such-relay.invalid" "$WORK/recovery.log" ||
	fail "the one warning does not say the name cannot be resolved"

# The summary, and the way back: kairos-tunnel with a 2 s summary, at a relay
# on loopback that is down (refused), then up.
RELAY_PORT=$(free_port)
RELAY="tcp:127.0.0.1:$RELAY_PORT"
new_token "$WORK/token" "$RELAY"
bg "$TUNNEL" respond --token-file "$WORK/token" --summary-interval 2 --sink >"$WORK/respond.log" 2>&1
wait_log "$WORK/respond.log" "Relay $RELAY lost"
wait_log "$WORK/respond.log" "Relay $RELAY still not reachable after" 60
line=$(grep -m1 "still not reachable after" "$WORK/respond.log")
[[ "$line" =~ ([0-9]+)\ more\ attempts?\ failed ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] ||
	fail "the summary does not count the attempts: $line"
lost=$(grep -c "Relay $RELAY lost" "$WORK/respond.log")
[ "$lost" = 1 ] || fail "\"lost\" said $lost times"
run_relay relay.log
wait_log "$WORK/respond.log" "Relay $RELAY connected after" 60
pass "an unresolvable relay: 1 warning over 6+ retries; then a summary with the count; back: said once"
