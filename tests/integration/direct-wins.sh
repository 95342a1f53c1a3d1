#!/bin/bash
# With both paths offered on loopback, the direct path wins (it starts
# first and completes at once), and the relay is never paired.
# The relay starts when the direct path has not completed its handshake
# within its head start (250 ms): on a loaded machine (ASan, make -j4
# check) that happens, and then either may win, rightly. Such an attempt
# says nothing of the preference and is made again; 3 attempts must end
# before the head start, won by the direct path (of 10 at most).
. "$(dirname "$0")/lib.sh"

start_relay
new_token "$WORK/token" "$RELAY"
port=$(free_port)
bg "$TUNNEL" respond --token-file "$WORK/token" --listen "127.0.0.1:$port" -- sh -c 'read -r l; echo "got $l"' \
	>"$WORK/respond.log" 2>&1
wait_log "$WORK/respond.log" "Waiting on 4 of 4 relay slots"

clean=0 late=0
for i in $(seq 10); do
	out=$(echo "ping$i" | timeout 60 "$TUNNEL" initiate --token-file "$WORK/token" --direct "127.0.0.1:$port" \
		2>"$WORK/initiate-$i.log") || fail "initiator $i failed"
	[ "$out" = "got ping$i" ] || fail "initiator $i got '$out'"
	if grep -q "trying relay" "$WORK/initiate-$i.log"; then
		late=$((late + 1))
		echo "# attempt $i: the head start ran out (loaded machine), tried again: $(grep Reachable "$WORK/initiate-$i.log")" >&2
		continue
	fi
	grep -q "Reachable via direct 127.0.0.1:$port" "$WORK/initiate-$i.log" ||
		fail "attempt $i was not won by the direct path: $(grep Reachable "$WORK/initiate-$i.log")"
	clean=$((clean + 1))
	[ "$clean" -lt 3 ] || break
done
[ "$clean" = 3 ] || fail "in 10 attempts the direct path completed within its head start $clean times"
# Only an attempt whose head start ran out may have paired at the relay.
relayed=$(grep -c "Tunnel established via relay" "$WORK/respond.log" || true)
if [ "$relayed" -gt "$late" ]; then
	fail "the relay path was paired $relayed times although the direct path was there ($late attempts reached the relay)"
fi
pass "the direct path won 3 of 3 times with the relay offered too ($late attempts on which the head start ran out made again)"
