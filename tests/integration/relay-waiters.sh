#!/bin/bash
# The responder's waiters at the relay: replaced every second here (every
# few minutes by default) without ever leaving a slot empty or piling up
# connections; and after the relay is killed and started again on the same
# port, registered again within seconds, so the next initiator gets through.
. "$(dirname "$0")/lib.sh"
need ss

start_relay
new_token "$WORK/token" "$RELAY"
bg "$TUNNEL" respond --token-file "$WORK/token" --replace-interval 1 -- sh -c 'read -r l; echo "got $l"' \
	>"$WORK/respond.log" 2>&1
wait_log "$WORK/respond.log" "Waiting on 4 of 4 relay slots"

max=0
for i in 1 2 3 4 5 6; do
	out=$(echo "r$i" | timeout 90 "$TUNNEL" initiate --token-file "$WORK/token" --timeout 60 2>>"$WORK/initiate.log") ||
		fail "initiator $i failed while waiters were being replaced"
	[ "$out" = "got r$i" ] || fail "initiator $i got '$out'"
	n=$(ss -Htn state established "( dport = :$RELAY_PORT )" | wc -l)
	[ "$n" -gt "$max" ] && max=$n
	sleep 0.5
done
# 4 slots, each with at most a replacement being opened: never more than 8.
[ "$max" -le 8 ] || fail "$max connections to the relay at once: waiters pile up instead of being replaced"

kill "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null || true
wait_log "$WORK/respond.log" "Relay $RELAY lost" 60
sleep 1
restart_relay
start=$(date +%s)
wait_log_count "$WORK/respond.log" "Relay $RELAY connected" 2 60
took=$(( $(date +%s) - start ))
out=$(echo after | timeout 90 "$TUNNEL" initiate --token-file "$WORK/token" --timeout 60 2>>"$WORK/initiate.log") ||
	fail "no initiator got through after the relay restarted"
[ "$out" = "got after" ] || fail "after the restart the initiator got '$out'"
pass "6 of 6 through replacing waiters (at most $max relay connections); re-registered ${took}s after the relay restarted"
