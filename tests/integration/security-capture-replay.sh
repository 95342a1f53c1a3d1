#!/bin/bash
# The relay learns nothing, and what it saw is worth nothing: a proxy in
# front of the transit relay records every byte the daemon and the bridge
# exchange with it while OpenSSH logs in with the password, runs a command
# and copies a file both ways, all full of distinctive markers. None of the
# markers, the password, the token or its secret appear in the recording
# (which does hold the relay's plaintext requests and all the session's
# bytes). Then the recorded bridge side of a whole session is replayed to
# the daemon through the relay, and a recorded direct session to the
# direct port: the daemon answers the replayed first message with a fresh
# one of its own, the recorded records fail authentication, no tunnel is
# established, no session opens, the daemon hangs up, and the replayer
# reads nothing but that one handshake message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
. "$(dirname "$0")/lib-security.sh"
need scp

mkdir -p "$WORK/wire" "$WORK/direct-wire"
start_relay_proxy --record "$WORK/wire"
start_recovery "PlainSSH=yes"
read_channels_from_wire "$WORK/wire"

# The markers: the command's text, its output (not in the text), a file up
# and a file down.
r=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
cmd_marker="cmdmark$r"
out_marker="outmark$r"
up_marker="upfilemark$r"
down_marker="downfilemark$r"
for i in $(seq 4000); do echo "$out_marker $i"; done >"$WORK/output.txt"
{ for i in $(seq 4000); do echo "$up_marker $i"; done; head -c 256K /dev/urandom; } >"$WORK/up.bin"
{ for i in $(seq 4000); do echo "$down_marker $i"; done; head -c 256K /dev/urandom; } >"$WORK/down.bin"

start_bridge relay.log --token-file "$RUN/token" --relay-only --timeout 60
wait_log "$WORK/relay.log" "SSH server reachable" 90
out=$(ssh_bridge relay.log "echo $cmd_marker >/dev/null; cat $WORK/output.txt" 2>"$WORK/ssh.err") ||
	fail "the session through the relay failed: $(cat "$WORK/ssh.err")"
[ "$(printf '%s\n' "$out" | grep -c "^$out_marker ")" = 4000 ] || fail "the command's output did not arrive whole"
cmd=$(printed_ssh_command "$WORK/relay.log")
# shellcheck disable=SC2086
port=$(echo $cmd | awk '{ print $3 }')
opts=$(echo "$cmd" | sed 's/^ssh -p [0-9]* //; s/ root@.*$//')
# shellcheck disable=SC2086
sshpass -p "$PASSWORD" scp -q -P "$port" $opts "$WORK/up.bin" root@127.0.0.1:"$WORK/up.copy" ||
	fail "scp up through the relay failed"
# shellcheck disable=SC2086
sshpass -p "$PASSWORD" scp -q -P "$port" $opts root@127.0.0.1:"$WORK/down.bin" "$WORK/down.copy" ||
	fail "scp down through the relay failed"
cmp -s "$WORK/up.bin" "$WORK/up.copy" && cmp -s "$WORK/down.bin" "$WORK/down.copy" || fail "the copies differ"
kill "$BRIDGE_PID"
wait "$BRIDGE_PID" 2>/dev/null || true

# What the relay saw.
cat "$WORK"/wire/* >"$WORK/relay-saw"
seen=$(stat -c %s "$WORK/relay-saw")
[ "$seen" -gt $((2 * 300 * 1024)) ] || fail "the recording holds only $seen bytes: the session did not pass through it"
grep -a -q "please relay" "$WORK/relay-saw" || fail "the recording lacks the relay's own plaintext: it is not the wire"
secret_hex=$("$builddir/tests/tools/session-launch" secret --token-file "$RUN/token")
for what in "password:$PASSWORD" "command:$cmd_marker" "output:$out_marker" "uploaded file:$up_marker" \
	"downloaded file:$down_marker" "token:$(cat "$RUN/token")" "secret:$secret_hex" \
	"secret (upper case):$(echo "$secret_hex" | tr a-f A-F)" "ssh banner:SSH-2.0"; do
	if grep -a -q -F -- "${what#*:}" "$WORK/relay-saw"; then
		fail "the relay saw the ${what%%:*} (${what#*:})"
	fi
done

# Replay through the relay: the bridge's side of the session with the most bytes.
bridge_up=$(for f in "$WORK"/wire/*.up; do
	grep -a -q "for side $DAEMON_SIDE" "$f" || echo "$(stat -c %s "$f") $f"
done | sort -n | tail -n 1 | cut -d' ' -f2)
[ -n "$bridge_up" ] || fail "no bridge connection in the recording"
replay() { # FILE PORT RELAY(0|1) -> prints the bytes read back
	python3 - "$@" <<'PY'
import socket, sys, time
data = open(sys.argv[1], "rb").read()
s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
if sys.argv[3] == "1":
    nl = data.index(b"\n") + 1
    s.sendall(data[:nl])
    s.settimeout(10)
    ok = b""
    while not ok.endswith(b"\n"):
        ok += s.recv(1)
    assert ok == b"ok\n", "the relay said %r" % ok
    data = data[nl:]
got = b""
closed = False
s.settimeout(0.5)
for i in range(0, len(data), 4096):
    try:
        s.sendall(data[i:i + 4096])
    except OSError:
        break
end = time.monotonic() + 5
while time.monotonic() < end:
    try:
        b = s.recv(65536)
    except socket.timeout:
        continue
    except OSError:
        break
    if not b:
        closed = True
        break
    got += b
print(len(got), b"SSH-2.0" in got, closed)
PY
}
established_before=$(grep -c "Tunnel from .* established\.$" "$WORK/recovery.log" || true)
opened_before=$(grep -c "Session .* opened" "$WORK/recovery.log" || true)
relay_replay=$(replay "$bridge_up" "$RELAY_PORT" 1) || fail "the replay through the relay could not be sent"

# A direct session, recorded by the same kind of proxy in front of the direct port.
direct_proxy=$(free_port)
bg python3 "$srcdir/tests/integration/tamper-proxy.py" --listen "$direct_proxy" --upstream "$TUNNEL_PORT" \
	--record "$WORK/direct-wire" >"$WORK/direct-proxy.log" 2>&1
wait_port "$direct_proxy"
start_bridge direct.log --token-file "$RUN/token" --direct-only --direct "127.0.0.1:$direct_proxy" --timeout 60
wait_log "$WORK/direct.log" "SSH server reachable" 90
ssh_bridge direct.log "cat $WORK/output.txt" >/dev/null 2>"$WORK/ssh.err" || fail "the direct session failed: $(cat "$WORK/ssh.err")"
kill "$BRIDGE_PID"
wait "$BRIDGE_PID" 2>/dev/null || true
direct_up=$(ls -S "$WORK"/direct-wire/*.up | head -n 1)
established_mid=$(grep -c "Tunnel from .* established\.$" "$WORK/recovery.log" || true)
opened_mid=$(grep -c "Session .* opened" "$WORK/recovery.log" || true)
direct_replay=$(replay "$direct_up" "$TUNNEL_PORT" 0) || fail "the replay to the direct port could not be sent"

[ "$(grep -c "Tunnel from .* established\.$" "$WORK/recovery.log")" = "$established_mid" ] ||
	fail "a replayed session established a tunnel"
[ "$(grep -c "Session .* opened" "$WORK/recovery.log")" = "$opened_mid" ] || fail "a replayed session opened a session"
[ "$established_mid" -gt "$established_before" ] || fail "the direct session itself was never established"
for rep in "relay:$relay_replay" "direct:$direct_replay"; do
	set -- ${rep#*:}
	[ "$2" = False ] || fail "the ${rep%%:*} replay read an SSH banner"
	# The daemon hangs up at the first recorded record (within the 5 s).
	[ "$3" = True ] || fail "the daemon did not hang up on the ${rep%%:*} replay"
	# The responder's handshake message is 2 + 48 bytes; nothing may follow.
	[ "$1" -le 50 ] || fail "the ${rep%%:*} replay read $1 bytes back, more than one handshake message"
done
kill -0 "$RECOVERY_PID" || fail "the daemon died"
pass "relay saw $seen bytes and none of 9 secrets/markers; replays of $(stat -c %s "$bridge_up") bytes (relay) and $(stat -c %s "$direct_up") bytes (direct) read back ${relay_replay%% *} and ${direct_replay%% *} bytes, established nothing"
