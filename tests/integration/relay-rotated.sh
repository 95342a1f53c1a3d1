#!/bin/bash
# After kairos-recovery rotate, a bridge that reaches the machine only
# through the real transit relay (--relay-only, as for a machine behind NAT)
# learns it in seconds, not at its --timeout: for a grace period the daemon
# keeps a waiter on each of the old code's relay channels, and the session
# helper completes the handshake with the old key only to send ROTATED, a
# record only the old code's holder can read (tunnel.h). So:
#  (a) a new relay-only bridge with the old code exits 77 at once, saying
#      "the token was rotated: read the new code"; no session opens;
#  (b) a relay-only bridge left running: the next ssh through it ends at
#      once, a session opened before the rotate goes on, and the bridge
#      exits 77 once that session ended;
#  (c) the new code works through the relay;
#  (d) when the grace is over the old secret is forgotten: the old code's
#      channels are answered no more (exit 69 after the bridge's timeout).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"

BRIDGE="$builddir/kairos-bridge"
export HOME="$WORK/home" XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
# Short enough to see it end in this test; (a)-(c) take seconds.
export KAIROS_ROTATE_GRACE_SEC=${KAIROS_ROTATE_GRACE_SEC:-45}

start_recovery
cp "$RUN/token" "$WORK/old-token"
old_password=$PASSWORD

bg "$BRIDGE" --token-file "$WORK/old-token" --relay-only --timeout 600 --listen "127.0.0.1:$(free_port)" \
	2>"$WORK/bridge.log"
BRIDGE_PID=$LAST_PID
wait_log "$WORK/bridge.log" "SSH server reachable at .* (via relay" 60
mapfile -t cmd < <(printed_ssh_command "$WORK/bridge.log" | tr ' ' '\n')
[ "${#cmd[@]}" -gt 2 ] || fail "the bridge printed no ssh command: $(cat "$WORK/bridge.log")"
sshpass -p "$old_password" "${cmd[@]}" 'echo started; sleep 600' >"$WORK/long.out" 2>&1 &
SSH_PID=$!
PIDS="$PIDS $SSH_PID"
wait_log "$WORK/long.out" "^started" 60

RUNTIME_DIRECTORY="$RUN" "$RECOVERY" --config "$WORK/recovery.conf" rotate >/dev/null || fail "rotate failed"
wait_log "$WORK/recovery.log" "Token rotated" 60
read_state
opened=$(grep -c "Session .* opened" "$WORK/recovery.log" || true)

# (a) A fresh bridge: 77 at once, far inside its 100 s --timeout.
rc=0
t0=$(now_us)
timeout 60 "$BRIDGE" --token-file "$WORK/old-token" --relay-only --stdio --timeout 100 </dev/null \
	>"$WORK/stdio.out" 2>"$WORK/stdio.log" || rc=$?
[ "$rc" != 124 ] || fail "(a) a relay-only bridge with the old code waited (no answer on the old channels)"
[ "$rc" = 77 ] || fail "(a) a relay-only bridge with the old code exited $rc, expected 77: $(tail -n 2 "$WORK/stdio.log")"
echo "# (a) a new relay-only bridge with the old code: exit 77 after $((($(now_us) - t0) / 1000)) ms (for the eye)"
grep -q "The token was rotated: read the new code" "$WORK/stdio.log" ||
	fail "(a) no 'the token was rotated: read the new code': $(tail -n 2 "$WORK/stdio.log")"
[ ! -s "$WORK/stdio.out" ] || fail "(a) the bridge passed bytes to ssh"
wait_log "$WORK/recovery.log" "Tunnel from relay .* (old code): the code from before the rotation" 30

# (b) The running bridge: the next ssh ends at once (its --timeout is 600 s).
rc=0
t0=$(now_us)
timeout 120 sshpass -p "$old_password" "${cmd[@]}" true 2>"$WORK/ssh.err" || rc=$?
echo "# (b) ssh through the running bridge ended after $((($(now_us) - t0) / 1000)) ms (for the eye)"
[ "$rc" != 124 ] || fail "(b) ssh through a relay-only bridge with the rotated code hung"
[ "$rc" != 0 ] || fail "(b) ssh through a bridge with the rotated code succeeded"
wait_log "$WORK/bridge.log" "the token was rotated: read the new code" 30
kill -0 "$SSH_PID" 2>/dev/null || fail "(b) the session opened before the rotate ended with it"
kill -0 "$BRIDGE_PID" 2>/dev/null || fail "(b) the bridge ended while a session was open through it"
kill "$SSH_PID"
bridge_gone() { ! kill -0 "$BRIDGE_PID" 2>/dev/null; }
wait_until 60 "the bridge to exit once its last session ended" bridge_gone || fail "(b) the bridge did not exit"
rc=0; wait "$BRIDGE_PID" || rc=$?
[ "$rc" = 77 ] || fail "(b) the bridge exited $rc after the rotate, expected 77: $(tail -n 2 "$WORK/bridge.log")"
[ "$(grep -c "Session .* opened" "$WORK/recovery.log" || true)" = "$opened" ] || fail "the old code opened a session"

# (c) The new code through the relay.
out=$(sshpass -p "$PASSWORD" ssh -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
	-o HostKeyAlias=kairos-recovery -o ConnectTimeout=30 \
	-o ProxyCommand="$BRIDGE --token-file $RUN/token --relay-only --stdio --timeout 60" root@recovery 'echo new ok' \
	2>"$WORK/new.err") || fail "(c) the new code through the relay: $(cat "$WORK/new.err")"
[ "$out" = "new ok" ] || fail "(c) the new code said '$out'"

# (d) The grace is over: the old secret is gone, and so are its waiters.
wait_log "$WORK/recovery.log" "The code before the last rotation is forgotten" $((KAIROS_ROTATE_GRACE_SEC + 60))
told=$(grep -c "the code from before the rotation" "$WORK/recovery.log" || true)
rc=0
timeout 120 "$BRIDGE" --token-file "$WORK/old-token" --relay-only --stdio --timeout 8 </dev/null \
	>/dev/null 2>"$WORK/late.log" || rc=$?
[ "$rc" = 69 ] || fail "(d) after the grace the old code got exit $rc, expected 69: $(tail -n 2 "$WORK/late.log")"
[ "$(grep -c "the code from before the rotation" "$WORK/recovery.log" || true)" = "$told" ] ||
	fail "(d) the old code was still answered after the grace"
pass "after rotate, relay only: a new bridge with the old code exits 77 at once, a running one ends the next ssh at once and exits 77 after its open session; the new code works; after the grace the old code is answered no more"
