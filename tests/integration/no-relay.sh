#!/bin/bash
# A machine configured with no relay (Relay= empty) says so in its token:
# the bridge then knocks at no relay (not even the default one, which would
# tell a public server that somebody is looking for this machine), reaches
# it on the direct path, and refuses --relay-only at once with a clear
# message instead of waiting for --timeout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"

BRIDGE="$builddir/kairos-bridge"
export XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
start_recovery "Relay="

out=$("$BRIDGE" --token-file "$RUN/token" --show-token 2>&1) || fail "--show-token failed: $out"
grep -q '^relay: *none (direct only)' <<<"$out" || fail "--show-token does not say that there is no relay: $out"

rc=0
"$BRIDGE" --token-file "$RUN/token" --relay-only --timeout 60 >"$WORK/relay-only.log" 2>&1 || rc=$?
[ "$rc" = 64 ] || fail "--relay-only with a no-relay token exited $rc, expected 64 (usage): $(cat "$WORK/relay-only.log")"
grep -q "waits at no relay" "$WORK/relay-only.log" || fail "--relay-only did not say why: $(cat "$WORK/relay-only.log")"

# The direct path only: no relay is tried, so the progress never names one.
port=$(free_port)
bg "$BRIDGE" --token-file "$RUN/token" --direct "127.0.0.1:$TUNNEL_PORT" --listen "127.0.0.1:$port" --timeout 60 \
	>"$WORK/bridge.log" 2>&1
wait_log "$WORK/bridge.log" "SSH server reachable at" 90
grep -q "via direct" "$WORK/bridge.log" || fail "the bridge did not say it went direct: $(cat "$WORK/bridge.log")"
! grep -q "trying relay\|via relay" "$WORK/bridge.log" || fail "the bridge tried a relay for a no-relay token: $(grep "relay " "$WORK/bridge.log")"
out=$(sshpass -p "$PASSWORD" ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p "$port" \
	root@127.0.0.1 'echo direct works' 2>"$WORK/ssh.err") || fail "ssh through the bridge failed: $(cat "$WORK/ssh.err")"
[ "$out" = "direct works" ] || fail "ssh said '$out'"

# Nothing reachable (a network namespace with loopback only, so that nothing
# can leave this machine either way): the bridge gives up after --timeout
# having tried only the token's addresses, never a relay.
need unshare
rc=0
unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$BRIDGE" --token-file "$RUN/token" --timeout 4 \
	>"$WORK/nothing.log" 2>&1 || rc=$?
[ "$rc" = 69 ] || fail "with nothing reachable the bridge exited $rc, expected 69: $(cat "$WORK/nothing.log")"
grep -q "trying direct" "$WORK/nothing.log" || fail "the bridge did not try the token's addresses: $(cat "$WORK/nothing.log")"
! grep -q "relay" "$WORK/nothing.log" || fail "the bridge tried a relay for a no-relay token: $(grep relay "$WORK/nothing.log")"
pass "no-relay token: no relay tried, --relay-only refused with 64, direct path works"
