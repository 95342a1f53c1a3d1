#!/bin/bash
# With both paths offered on loopback, the direct path wins (it starts
# first and completes at once), and the relay is never paired.
. "$(dirname "$0")/lib.sh"

start_relay
new_token "$WORK/token" "$RELAY"
port=$(free_port)
bg "$TUNNEL" respond --token-file "$WORK/token" --listen "127.0.0.1:$port" -- sh -c 'read -r l; echo "got $l"' \
	>"$WORK/respond.log" 2>&1
wait_log "$WORK/respond.log" "Waiting on 4 of 4 relay slots"

for i in 1 2 3; do
	out=$(echo "ping$i" | timeout 30 "$TUNNEL" initiate --token-file "$WORK/token" --direct "127.0.0.1:$port" \
		2>"$WORK/initiate.log") || fail "initiator $i failed"
	[ "$out" = "got ping$i" ] || fail "initiator $i got '$out'"
	grep -q "Reachable via direct 127.0.0.1:$port" "$WORK/initiate.log" ||
		fail "attempt $i was not won by the direct path: $(grep Reachable "$WORK/initiate.log")"
done
if grep -q "Tunnel established via relay" "$WORK/respond.log"; then
	fail "the relay path was paired although the direct path was there"
fi
pass "the direct path won 3 of 3 times with the relay offered too"
