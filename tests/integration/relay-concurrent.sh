#!/bin/bash
# Eight initiators at the same moment against a responder that keeps one
# waiter on each of its slots: the relay pairs a slot once and closes the
# other connections waiting on it, so initiators must move on to other
# slots and the responder must reopen its waiters at once. All get through.
. "$(dirname "$0")/lib.sh"

start_relay
new_token "$WORK/token" "$RELAY"
bg "$TUNNEL" respond --token-file "$WORK/token" -- sh -c 'read -r line; echo "echo $line"' >"$WORK/respond.log" 2>&1
wait_log "$WORK/respond.log" "Waiting on 4 of 4 relay slots"

pids=""
for i in 1 2 3 4 5 6 7 8; do
	(echo "client-$i" | timeout 60 "$TUNNEL" initiate --token-file "$WORK/token" --timeout 50 \
		>"$WORK/out-$i" 2>"$WORK/initiate-$i.log" && echo 0 >"$WORK/rc-$i" || echo $? >"$WORK/rc-$i") &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids

ok=0
for i in 1 2 3 4 5 6 7 8; do
	if [ "$(cat "$WORK/rc-$i")" = 0 ] && [ "$(cat "$WORK/out-$i")" = "echo client-$i" ]; then
		ok=$((ok + 1))
	else
		echo "# initiator $i: exit $(cat "$WORK/rc-$i"), output '$(cat "$WORK/out-$i")'" >&2
		tail -n 5 "$WORK/initiate-$i.log" >&2
	fi
done
[ "$ok" = 8 ] || fail "only $ok of 8 simultaneous initiators got through the relay"
n=$(grep -c "Tunnel established via relay" "$WORK/respond.log")
[ "$n" = 8 ] || fail "the responder established $n tunnels, expected 8"
pass "8 of 8 simultaneous initiators got through 4 relay slots"
