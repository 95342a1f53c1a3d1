#!/bin/bash
# A proxy between the initiator and the relay flips one bit 1 MiB into the
# tunnel. The responder reports an integrity failure, and what reached its
# application is an untouched prefix of what was sent, ending before the
# flipped record: nothing after the flip gets through.
. "$(dirname "$0")/lib.sh"
need python3

start_relay
proxy_port=$(free_port)
flip_at=1048576
bg python3 "$srcdir/tests/integration/tamper-proxy.py" --listen "$proxy_port" --upstream "$RELAY_PORT" \
	--flip-after "$flip_at" >"$WORK/proxy.log" 2>&1
wait_port "$proxy_port"
# The initiator reaches the relay through the proxy; the responder directly.
new_token "$WORK/token" "tcp:127.0.0.1:$proxy_port"
head -c 4M /dev/urandom >"$WORK/up"
bg "$TUNNEL" respond --token-file "$WORK/token" --relay "$RELAY" -- sh -c "cat >'$WORK/got'" >"$WORK/respond.log" 2>&1
wait_log "$WORK/respond.log" "Waiting on 4 of 4 relay slots"

rc=0
timeout 60 "$TUNNEL" initiate --token-file "$WORK/token" <"$WORK/up" >/dev/null 2>"$WORK/initiate.log" || rc=$?
wait_log "$WORK/respond.log" "ended with an error" 60
grep -q "ended with an error: a record failed authentication" "$WORK/respond.log" ||
	fail "the responder did not report an authentication failure: $(grep -i tunnel "$WORK/respond.log" | tail -n 2)"
[ "$rc" != 0 ] || fail "the initiator reported success although its stream was tampered with"
# Whatever reached the application is written once its cat is gone.
wait_file_closed "$WORK/got" 60
got=$(stat -c %s "$WORK/got")
[ "$got" -le "$flip_at" ] || fail "$got bytes reached the application, more than the $flip_at before the flip"
[ "$got" -gt 0 ] || fail "nothing reached the application before the flip (the test proves nothing)"
cmp -n "$got" "$WORK/up" "$WORK/got" || fail "the bytes that reached the application differ from those sent"
pass "bit flipped at $flip_at: integrity error reported, $got untouched bytes delivered, none after the flip"
