#!/bin/bash
# The relay dies and comes back, while the daemon idles and while a session
# runs through it. Each time the daemon says it lost the relay (journal line,
# status "not reachable"), registers again within a few seconds of the relay's
# return and says so ("connected" in the log and the status), and the
# bridge's next connection, without restarting the bridge, gets a shell.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
need python3

# How long the daemon may take to be back at a relay that has come back.
REREGISTER_MAX=8

RECOVERY_NOTIFY_SOCKET="$WORK/notify"
STATUS="$WORK/status.txt"
bg python3 "$srcdir/tests/integration/notify-listen.py" "$RECOVERY_NOTIFY_SOCKET" "$STATUS"
wait_until 120 "notify-listen.py's socket" test -S "$RECOVERY_NOTIFY_SOCKET" || fail "notify-listen.py did not start within 120 s"
start_recovery

last_status() { tail -n 1 "$STATUS" 2>/dev/null; }
status_says() { last_status | grep -q -- "$1"; }
wait_status() { # PATTERN SECONDS
	wait_until "$2" "the status '$1'" status_says "$1" ||
		fail "the status never said '$1' within $2 s (last: '$(last_status)')"
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

wait_status "relay $RELAY connected" 60
connected=$(grep -c "Relay $RELAY connected" "$WORK/recovery.log")

# 1. Killed while idle, back after an outage long enough for the waiters to
# have retried and backed off several times.
kill "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null || true
wait_log "$WORK/recovery.log" "Relay $RELAY lost" 60
wait_status "relay $RELAY not reachable" 60
sleep 10 # the outage itself: nothing to wait for
restart_relay
t0=$(now)
connected=$((connected + 1))
wait_log_count "$WORK/recovery.log" "Relay $RELAY connected" "$connected" 90
idle_back=$(elapsed "$t0")
wait_status "relay $RELAY connected" 60
awk -v t="$idle_back" -v m="$REREGISTER_MAX" 'BEGIN { exit !(t <= m) }' ||
	fail "after a 10 s outage the daemon took ${idle_back} s to register again at the relay (at most $REREGISTER_MAX s)"

BRIDGE="$builddir/kairos-bridge"
export XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
port=$(free_port)
bg "$BRIDGE" --token-file "$RUN/token" --listen "127.0.0.1:$port" --relay-only --timeout 60 >"$WORK/bridge.log" 2>&1
BRIDGE_PID=$LAST_PID
wait_log "$WORK/bridge.log" "SSH server reachable" 90
cmd=$(printed_ssh_command "$WORK/bridge.log")
[ -n "$cmd" ] || fail "the bridge printed no ssh command"
# shellcheck disable=SC2086
out=$(sshpass -p "$PASSWORD" $cmd -o StrictHostKeyChecking=yes 'echo after idle outage' 2>"$WORK/ssh1.err") ||
	fail "no ssh through the relay after it came back: $(cat "$WORK/ssh1.err")"
[ "$out" = "after idle outage" ] || fail "the shell said '$out'"

# 2. Killed under a running session, back at once.
# shellcheck disable=SC2086
sshpass -p "$PASSWORD" $cmd -o StrictHostKeyChecking=yes -o ServerAliveInterval=2 'echo started; sleep 120' \
	>"$WORK/long.out" 2>"$WORK/long.err" &
long=$!
PIDS="$PIDS $long"
wait_until 60 "the long session to start" grep -q started "$WORK/long.out" || true
grep -q started "$WORK/long.out" || fail "the long session did not start: $(cat "$WORK/long.err")"
wait_status "1 session (via relay)" 60
lost=$(grep -c "Relay $RELAY lost" "$WORK/recovery.log")
kill "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null || true
wait_log_count "$WORK/recovery.log" "Relay $RELAY lost" $((lost + 1)) 60
restart_relay
t0=$(now)
connected=$((connected + 1))
wait_log_count "$WORK/recovery.log" "Relay $RELAY connected" "$connected" 90
busy_back=$(elapsed "$t0")
awk -v t="$busy_back" -v m="$REREGISTER_MAX" 'BEGIN { exit !(t <= m) }' ||
	fail "after the relay died under a session the daemon took ${busy_back} s to register again (at most $REREGISTER_MAX s)"
rc=0
timeout 120 tail --pid="$long" -f /dev/null || true
wait "$long" || rc=$?
[ "$rc" = 255 ] || fail "the session through the dead relay ended with $rc, expected ssh's 255"
wait_status "Waiting for bridge · relay $RELAY connected · 0 sessions" 60
# shellcheck disable=SC2086
out=$(sshpass -p "$PASSWORD" $cmd -o StrictHostKeyChecking=yes 'echo after busy outage' 2>"$WORK/ssh2.err") ||
	fail "no ssh through the same bridge after the relay came back: $(cat "$WORK/ssh2.err")"
[ "$out" = "after busy outage" ] || fail "the shell said '$out'"
kill -0 "$BRIDGE_PID" || fail "the bridge died with the relay"
pass "idle: back at the relay ${idle_back} s after a 10 s outage; under a session: back ${busy_back} s after; status and log said so; the bridge's next ssh worked both times"
