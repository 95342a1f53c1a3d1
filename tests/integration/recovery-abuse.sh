#!/bin/bash
# Bad input on every socket of kairos-recovery: random bytes, a port
# scanner's probe, an SSH client that stops mid-handshake, a Noise handshake
# with a wrong secret, a replayed first handshake message, 200 connections at
# once, all from a stranger's address (127.0.0.2: the daemon refuses a source
# whose handshakes keep failing for a while, and the owner is not that
# source). The daemon stays up, the QR code stays on screen, a real session
# works afterwards, and its file descriptors and child processes come back
# to their idle count (nothing leaks across hundreds of connections).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
need python3

start_recovery "PlainSSH=yes" "MaxStartups=20" "AuthTimeoutSec=3"
daemon=$(pgrep -f "$RECOVERY --config $WORK/recovery.conf" | head -n 1)
[ -n "$daemon" ] || fail "cannot find the daemon's process"
[ "$(ssh_tunnel 'echo warm')" = warm ] || fail "no session before the abuse"
# Idle: the warm-up session's helper has ended.
no_children() { [ "$(pgrep -P "$daemon" | wc -l)" = 0 ]; }
wait_until 60 "the warm-up session's helper to end" no_children || true
fds_idle=$(ls "/proc/$daemon/fd" | wc -l)
kids_idle=$(pgrep -P "$daemon" | wc -l)

new_token_wrong() { "$TUNNEL" new-token --relay "$RELAY" >"$WORK/wrong"; }
new_token_wrong
python3 - "$TUNNEL_PORT" "$SSH_PORT" >"$WORK/abuse.log" 2>&1 <<'PY' || fail "the abuse script failed: $(tail -n 5 "$WORK/abuse.log")"
import os, socket, sys, time
tunnel, ssh = int(sys.argv[1]), int(sys.argv[2])

def conn(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.2", 0))
    return s

for port in (tunnel, ssh):
    for _ in range(20):              # random bytes
        s = conn(port); s.sendall(os.urandom(4096)); s.close()
    for _ in range(20):              # a port scanner: connect, close
        conn(port).close()
# an SSH client that stops after its banner
stuck = [conn(ssh) for _ in range(5)]
for s in stuck:
    s.sendall(b"SSH-2.0-OpenSSH_9.2p1 stuck\r\n")
# a first handshake message that is not ours, and a truncated one
for _ in range(20):
    s = conn(tunnel); s.sendall(b"\x00\x30" + os.urandom(48)); s.close()
    s = conn(tunnel); s.sendall(b"\x00\x30" + os.urandom(10)); s.close()
# 200 connections at once
many = []
for _ in range(100):
    many.append(conn(tunnel)); many.append(conn(ssh))
time.sleep(1)
for s in many + stuck:
    s.close()
print("abuse done")
PY

# A wrong secret on the direct port, and a replayed first message.
rc=0
echo | "$TUNNEL" initiate --token-file "$WORK/wrong" --no-relay --no-token-addresses \
	--direct "127.0.0.1:$TUNNEL_PORT" --timeout 3 >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "a wrong secret opened a tunnel"
python3 - "$TUNNEL_PORT" <<'PY' || fail "the replay could not be sent"
import socket, sys, subprocess
# Capture a real first message by listening in place of the daemon.
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
port = l.getsockname()[1]
import os
p = subprocess.Popen([os.environ["TUNNEL"], "initiate", "--token-file", os.environ["RUN"] + "/token", "--no-relay",
                      "--no-token-addresses", "--direct", "127.0.0.1:%d" % port, "--timeout", "2"],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
c, _ = l.accept(); first = c.recv(50); c.close(); p.wait()
for _ in range(10):  # replayed to the daemon: it answers once and then gets nothing
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), source_address=("127.0.0.2", 0))
    s.sendall(first); s.recv(100); s.close()
PY

kill -0 "$daemon" 2>/dev/null || fail "the daemon died under bad input"

# A helper that dies (crashes, or is killed) costs its own session only.
# The victim is that session's own helper (a helper left from the abuse
# above may still be waiting for its handshake, and killing that one instead
# leaves this session running).
ssh_tunnel 'sleep 37' >/dev/null 2>&1 &
PIDS="$PIDS $!"
victim=$(wait_helper_of "$daemon" "sleep 37") || fail "no session helper running 'sleep 37' to crash"
# SIGKILL: the sanitizer build turns SIGSEGV into an orderly exit.
kill -KILL "$victim"
wait_log "$WORK/recovery.log" "helper killed by" 60
kill -0 "$daemon" 2>/dev/null || fail "a crashing session helper took the daemon with it"
if grep -q "Relay .* lost" "$WORK/recovery.log"; then
	fail "a crashing session helper cost the relay registration"
fi
[ "$(ssh_tunnel 'echo still here')" = "still here" ] || fail "no real session after the abuse (tunnel)"
[ "$(ssh_plain 'echo plain too')" = "plain too" ] || fail "no real session after the abuse (plain SSH)"
grep -q "Showing the recovery screen" "$WORK/recovery.log" || fail "the screen was never shown"
[ "$(pgrep -f "$RECOVERY --config $WORK/recovery.conf" | head -n 1)" = "$daemon" ] || fail "the daemon was restarted"

# Helpers are gone once their connections are (auth timeout 3 s).
back_to_idle() {
	[ "$(pgrep -P "$daemon" | wc -l)" -le "$kids_idle" ] && [ "$(ls "/proc/$daemon/fd" | wc -l)" -le "$fds_idle" ]
}
wait_until 120 "the daemon to be back to idle" back_to_idle || true
fds=$(ls "/proc/$daemon/fd" | wc -l)
kids=$(pgrep -P "$daemon" | wc -l)
[ "$fds" -le "$fds_idle" ] || fail "the daemon holds $fds file descriptors, $fds_idle when idle: a leak"
[ "$kids" -le "$kids_idle" ] || fail "the daemon has $kids children, $kids_idle when idle: helpers are not reaped"
grep -q "not established" "$WORK/recovery.log" || fail "failed handshakes were not logged"
# Hundreds of connections dropped or refused: a few lines, then sums.
drops=$(grep -c "dropped after\|Refusing .* connections from" "$WORK/recovery.log" || true)
[ "$drops" -ge 1 ] || fail "the flood was never dropped nor refused"
[ "$drops" -le 7 ] || fail "$drops drops and refusals logged one by one: a flood must be summed up, not fill the journal"
pass "daemon up after ~$((20*4 + 5 + 40 + 200 + 11)) bad connections; sessions work; fds $fds_idle -> $fds, children $kids_idle -> $kids"
