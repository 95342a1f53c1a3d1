#!/bin/bash
# Endpoints with different secrets never pair at the relay (their channels
# differ): the initiator gives up at its timeout with a clear message and
# exit code 69, and the responder never sees a tunnel. On the direct port a
# wrong secret fails the handshake, and the initiator says so.
. "$(dirname "$0")/lib.sh"

start_relay
new_token "$WORK/right" "$RELAY"
new_token "$WORK/wrong" "$RELAY"
port=$(free_port)
bg "$TUNNEL" respond --token-file "$WORK/right" --listen "127.0.0.1:$port" -- cat >"$WORK/respond.log" 2>&1
wait_log "$WORK/respond.log" "Waiting on 4 of 4 relay slots"

start=$(date +%s)
rc=0
echo x | timeout 60 "$TUNNEL" initiate --token-file "$WORK/wrong" --timeout 4 >"$WORK/out" 2>"$WORK/initiate.log" || rc=$?
took=$(( $(date +%s) - start ))
[ "$rc" = 69 ] || fail "a wrong secret through the relay exited with $rc, expected 69 (not reachable)"
# At its 4 s timeout, not at timeout(1)'s 60 s: the rest is room for the
# program's start on a loaded machine.
[ "$took" -le 20 ] || fail "giving up took $took s for a 4 s timeout"
grep -q "Not reachable" "$WORK/initiate.log" || fail "no 'Not reachable' message for the wrong secret"
grep -q "waiting for the recovery machine at the relay" "$WORK/initiate.log" ||
	fail "the message does not say it was waiting at the relay"
[ ! -s "$WORK/out" ] || fail "the initiator with a wrong secret received bytes"

rc=0
echo x | timeout 30 "$TUNNEL" initiate --token-file "$WORK/wrong" --no-relay --direct "127.0.0.1:$port" --timeout 3 \
	>"$WORK/out" 2>"$WORK/initiate-direct.log" || rc=$?
[ "$rc" = 69 ] || fail "a wrong secret on the direct port exited with $rc, expected 69"
grep -q "does not hold this token's secret" "$WORK/initiate-direct.log" ||
	fail "the direct attempt with a wrong secret did not say the peer does not hold the secret"
if grep -q "Tunnel established" "$WORK/respond.log"; then
	fail "the responder established a tunnel with a wrong secret"
fi
grep -q "not established: a record failed authentication\|not established: .*authentication" "$WORK/respond.log" ||
	grep -q "not established" "$WORK/respond.log" || fail "the responder did not log the failed handshake"
pass "wrong secrets never pair at the relay (exit 69 in ${took}s) and fail the handshake on the direct port"
