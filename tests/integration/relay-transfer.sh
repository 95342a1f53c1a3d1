#!/bin/bash
# Two endpoints with the same secret pair through the real transit relay
# and move 64 MiB each way at the same time, byte for byte.
. "$(dirname "$0")/lib.sh"

start_relay
new_token "$WORK/token" "$RELAY"
head -c 64M /dev/urandom >"$WORK/up"
head -c 64M /dev/urandom >"$WORK/down"

bg "$TUNNEL" respond --token-file "$WORK/token" -- \
	sh -c "cat '$WORK/down' & cat >'$WORK/got-up'; wait" >"$WORK/respond.log" 2>&1
wait_log "$WORK/respond.log" "Waiting on 4 of 4 relay slots"

timeout 120 "$TUNNEL" initiate --token-file "$WORK/token" <"$WORK/up" >"$WORK/got-down" 2>"$WORK/initiate.log" ||
	fail "the initiator exited with $? before the transfer completed"
grep -q "Reachable via relay $RELAY" "$WORK/initiate.log" || fail "the initiator did not say it was reachable through the relay"
# The responder's command writes the last bytes after the initiator is done.
wait_file_closed "$WORK/got-up" 60
cmp "$WORK/up" "$WORK/got-up" || fail "the 64 MiB sent by the initiator did not arrive intact at the responder"
cmp "$WORK/down" "$WORK/got-down" || fail "the 64 MiB sent by the responder did not arrive intact at the initiator"
grep -q "Tunnel via relay .* closed" "$WORK/respond.log" || fail "the responder did not report a clean close"
pass "64 MiB each way through the relay, byte-exact, clean close on both sides"
