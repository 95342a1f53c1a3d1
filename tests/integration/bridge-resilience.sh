#!/bin/bash
# kairos-bridge, first time and every time: 20 bridge starts in a row, each
# followed by exactly one ssh, 20 of 20 at the first try; and a relay killed
# while a session runs through it: the session ends with a message, and once
# the relay is back a new ssh works without restarting the bridge.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"

BRIDGE="$builddir/kairos-bridge"
export XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
start_recovery

ok=0
for i in $(seq 20); do
	port=$(free_port)
	"$BRIDGE" --qr-code-image "$RUN/qr.png" --listen "127.0.0.1:$port" --timeout 90 >"$WORK/b$i.log" 2>&1 &
	b=$!
	wait_until 90 "bridge $i to be reachable" grep -q "SSH server reachable" "$WORK/b$i.log" || true
	cmd=$(printed_ssh_command "$WORK/b$i.log")
	# shellcheck disable=SC2086
	if [ -n "$cmd" ] && sshpass -p "$PASSWORD" $cmd -o StrictHostKeyChecking=yes true 2>"$WORK/s$i.err"; then
		ok=$((ok + 1))
	else
		echo "# attempt $i failed: $(tail -n 2 "$WORK/b$i.log" "$WORK/s$i.err" 2>/dev/null)" >&2
	fi
	kill -INT "$b"
	wait "$b" || true
done
[ "$ok" = 20 ] || fail "$ok of 20 bridge starts gave a working ssh at the first try"

# The relay dies under a running session.
port=$(free_port)
bg "$BRIDGE" --qr-code-image "$RUN/qr.png" --listen "127.0.0.1:$port" --relay-only --timeout 60 >"$WORK/bridge.log" 2>&1
BRIDGE_PID=$LAST_PID
wait_log "$WORK/bridge.log" "SSH server reachable" 90
cmd=$(printed_ssh_command "$WORK/bridge.log")
# shellcheck disable=SC2086
sshpass -p "$PASSWORD" $cmd -o ServerAliveInterval=2 'echo started; sleep 120' >"$WORK/long.out" 2>"$WORK/long.err" &
long=$!
wait_until 60 "the long session to start" grep -q started "$WORK/long.out" || fail "the long session did not start within 60 s"
kill "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null || true
start=$(date +%s)
rc=0
timeout 120 tail --pid="$long" -f /dev/null || true
wait "$long" || rc=$?
took=$(( $(date +%s) - start ))
[ "$rc" = 255 ] || fail "the session through the dead relay ended with $rc, expected ssh's 255"
[ -s "$WORK/long.err" ] || fail "ssh ended without a message"
# ServerAliveInterval=2 ends it in about 8 s; the bound is whether it ends
# at all, with room for a loaded machine.
[ "$took" -le 90 ] || fail "the session took $took s to end after the relay died"
restart_relay
wait_log_count "$WORK/recovery.log" "Relay $RELAY connected" 2 60
# shellcheck disable=SC2086
out=$(sshpass -p "$PASSWORD" $cmd -o StrictHostKeyChecking=yes 'echo back' 2>"$WORK/back.err") ||
	fail "no ssh through the same bridge after the relay came back: $(cat "$WORK/back.err")"
[ "$out" = back ] || fail "after the relay came back the shell said '$out'"
kill -0 "$BRIDGE_PID" || fail "the bridge died with the relay"
pass "20 of 20 first tries; a session ended ${took}s after the relay died ($(head -n 1 "$WORK/long.err")); the same bridge works once the relay is back"
