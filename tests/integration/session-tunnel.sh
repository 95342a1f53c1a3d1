#!/bin/bash
# The session helper with transport=tunnel: the Noise responder first,
# then SSH through the tunnel, with OpenSSH's clients using
# "kairos-tunnel initiate" as ProxyCommand. The hello carries the host's
# public key exactly (the Ed25519 one: an ECDSA key is left out); exec, scp both ways (64 MiB), sftp and -W work
# through it; the events come in order; a token of another secret, a plain
# SSH client and a silent client never get a tunnel.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"
need scp cmp

session_setup
ssh-keygen -q -t ecdsa -N '' -f "$WORK/hostkey-ecdsa" || fail "ssh-keygen failed"
start_server --transport tunnel --auth-timeout 6 --hostname recovery-box --hostkey "$WORK/hostkey-ecdsa"

# The hello: the host name and the host keys as ssh will see them. The
# ECDSA key is given too, but the SSH algorithm policy serves Ed25519 host
# keys only (ssh-policy.c): the server leaves it out, and so does the hello.
"$LAUNCH" hello --token-file "$WORK/token" --listen "127.0.0.1:$PORT" >"$WORK/hello" ||
	fail "no hello from the helper"
grep -qx "host recovery-box" "$WORK/hello" || fail "hello: wrong host name: $(cat "$WORK/hello")"
grep -qx "key $(cut -d' ' -f1,2 "$WORK/hostkey.pub")" "$WORK/hello" ||
	fail "hello: the public half of the Ed25519 host key is not in it: $(cat "$WORK/hello")"
[ "$(grep -c '^key ' "$WORK/hello")" = 1 ] || fail "hello: not exactly the Ed25519 host key: $(cat "$WORK/hello")"
wait_log "$WORK/events.log" "^1 tunnel-established$" 60
# A client that would take only the ECDSA key finds no host key algorithm.
echo "kairos-test $(cut -d' ' -f1,2 "$WORK/hostkey-ecdsa.pub")" >"$WORK/known_hosts.ecdsa"
rc=0
sssh -o LogLevel=INFO -o HostKeyAlgorithms=ecdsa-sha2-nistp256 -o UserKnownHostsFile="$WORK/known_hosts.ecdsa" \
	kairos-test true </dev/null 2>"$WORK/ecdsa.err" || rc=$?
[ "$rc" = 255 ] || fail "ssh asking for the ECDSA host key gave exit $rc, expected 255"
grep -q "no matching host key type found.*Their offer: ssh-ed25519" "$WORK/ecdsa.err" ||
	fail "ssh asking for the ECDSA host key was not told the server offers ssh-ed25519 only: $(cat "$WORK/ecdsa.err")"
# The helper's reason depends on which side noticed first (the client
# hangs up as soon as it sees no match): either is a failed key exchange.
wait_log "$WORK/events.log" " closed key exchange failed: " 60

# exec through the tunnel.
rc=0
sssh kairos-test 'echo out; echo err >&2; exit 7' >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" = 7 ] || fail "exit status $rc through the tunnel, expected 7"
[ "$(cat "$WORK/out")" = out ] || fail "stdout through the tunnel: \"$(cat "$WORK/out")\""
grep -qx err "$WORK/err" || fail "stderr through the tunnel: \"$(cat "$WORK/err")\""
n=$(last_with "authenticated password root")
[ "$(events_of "$n" | head -n 3 | tr '\n' '|')" = "tunnel-proven|tunnel-established|authenticated password root|" ] ||
	fail "events of connection $n out of order: $(events_of "$n" | tr '\n' '|')"

# Bulk transfers through the tunnel.
head -c 64M /dev/urandom >"$WORK/big"
sscp "$WORK/big" "kairos-test:$WORK/up" || fail "scp upload through the tunnel failed"
cmp -s "$WORK/big" "$WORK/up" || fail "scp upload through the tunnel: different bytes"
sscp "kairos-test:$WORK/big" "$WORK/down" || fail "scp download through the tunnel failed"
cmp -s "$WORK/big" "$WORK/down" || fail "scp download through the tunnel: different bytes"
sscp -O "$WORK/big" "kairos-test:$WORK/up.legacy" || fail "scp -O upload through the tunnel failed"
cmp -s "$WORK/big" "$WORK/up.legacy" || fail "scp -O upload through the tunnel: different bytes"
if command -v sftp >/dev/null 2>&1; then
	printf 'put %s %s\nget %s %s\n' "$WORK/big" "$WORK/sftp.up" "$WORK/sftp.up" "$WORK/sftp.down" >"$WORK/batch"
	ssftp -b "$WORK/batch" kairos-test >/dev/null || fail "sftp through the tunnel failed"
	cmp -s "$WORK/big" "$WORK/sftp.down" || fail "sftp through the tunnel: different bytes"
fi
printf 'through the tunnel\n' | sssh kairos-test 'cat >'"$WORK/piped" || fail "a pipe through the tunnel failed"
grep -qx "through the tunnel" "$WORK/piped" || fail "a pipe through the tunnel: different bytes"

# A token of another secret: the handshake fails, nothing reaches SSH.
new_token "$WORK/other"
before=$(grep -c ' authenticated ' "$WORK/events.log")
rc=0
timeout 60 sshpass -f "$WORK/password" ssh -F "$WORK/ssh_config" \
	-o ProxyCommand="$TUNNEL initiate --token-file $WORK/other --no-relay --no-token-addresses --direct 127.0.0.1:$PORT --timeout 5" \
	kairos-test true </dev/null 2>"$WORK/wrong.err" || rc=$?
[ "$rc" = 255 ] || fail "a token of another secret gave exit $rc, expected 255"
grep -q "does not hold this token's secret" "$WORK/wrong.err" ||
	fail "kairos-tunnel did not say the secret differs: $(cat "$WORK/wrong.err")"
wait_log "$WORK/events.log" " tunnel-failed the peer does not hold this token's secret$" 60
[ "$(grep -c ' authenticated ' "$WORK/events.log")" = "$before" ] || fail "authenticated with a wrong secret"

# A plain SSH client on the tunnel port.
rc=0
timeout 30 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-p "$PORT" root@127.0.0.1 true </dev/null 2>/dev/null || rc=$?
[ "$rc" = 255 ] || fail "plain ssh on the tunnel port gave exit $rc, expected 255"
wait_log "$WORK/events.log" " tunnel-failed the peer broke the tunnel protocol$" 60

# A client that connects and says nothing: dropped at auth_timeout (6 s).
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
start=$(date +%s)
timeout 60 cat <&5 >/dev/null || fail "the silent tunnel connection was not closed within 60 s"
took=$(($(date +%s) - start))
exec 5<&-
# Not before the timeout; after it by at most what a loaded machine adds
# to the helper's start (see session-auth.sh).
[ "$took" -ge 5 ] && [ "$took" -le 30 ] || fail "the silent tunnel connection was closed after $took s, expected 6"
wait_log "$WORK/events.log" " tunnel-failed handshake timeout$" 60

# Tunnel failures end with exit 1; every other helper with 0.
helpers_done $(grep ' tunnel-failed ' "$WORK/events.log" | cut -d' ' -f1)
pass "tunnel: hello with the host key, exec, scp/scp -O/sftp 64 MiB, wrong secret, plain ssh, silent client"
