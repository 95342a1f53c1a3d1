#!/bin/bash
# Someone who saw the relay channels on the wire (read here from what a
# proxy in front of the relay recorded) camps on all four slots: first as
# the daemon's side, then with the side-less legacy handshake that pairs
# with anybody. They can disturb pairing, but never read plaintext, inject
# anything that is accepted, or open a session. The daemon offers a slot
# whose pairings keep failing again more and more slowly; kairos-bridge says
# there is interference;
# the direct path works throughout; after kairos-recovery rotate the relay
# path works again although the camper never stopped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
. "$(dirname "$0")/lib-security.sh"

mkdir -p "$WORK/wire"
start_relay_proxy --record "$WORK/wire"
start_recovery "PlainSSH=yes"
read_channels_from_wire "$WORK/wire"
# shellcheck disable=SC2086
channel_args=$(printf -- '--channel %s ' $CHANNELS)
sessions_before=$(grep -c "Session .* opened" "$WORK/recovery.log" || true)

# 1. Camping as the daemon's side: the relay pairs a bridge with the camper
# or with the daemon, whichever it picks.
# shellcheck disable=SC2086
bg python3 "$srcdir/tests/integration/relay-camper.py" --relay-port "$RELAY_PORT" $channel_args \
	--side "$DAEMON_SIDE" --per-channel 3 --duration 600 --ready "$WORK/camp1.ready" >"$WORK/camp1.json"
camper=$LAST_PID
wait_until 120 "the camper to be ready" test -e "$WORK/camp1.ready" || fail "the camper was not ready within 120 s"
ok=0 interfered=0
for i in 1 2 3 4 5 6; do
	rc=0
	timeout 60 "$BRIDGE" --token-file "$RUN/token" --relay-only --stdio --timeout 8 -v \
		</dev/null >/dev/null 2>"$WORK/side-$i.log" || rc=$?
	grep -q "interference at the relay" "$WORK/side-$i.log" && interfered=$((interfered + 1))
	[ "$rc" = 0 ] && ok=$((ok + 1))
	[ "$rc" = 0 ] || [ "$rc" = 69 ] || fail "bridge $i under camping exited with $rc (expected 0, or 69 unreachable): $(tail -n 2 "$WORK/side-$i.log")"
	if [ "$rc" = 69 ]; then
		grep -q "Someone at the relay answered in the recovery machine's place" "$WORK/side-$i.log" ||
			grep -q "not reachable" "$WORK/side-$i.log" || fail "bridge $i gave up without saying why: $(tail -n 2 "$WORK/side-$i.log")"
		if grep -q "token was rejected" "$WORK/side-$i.log"; then
			fail "bridge $i blamed the token for interference at the relay"
		fi
	fi
done
kill -TERM "$camper"
wait "$camper" || fail "the camper failed"
echo "# camping as the daemon's side: $ok of 6 bridges got through, $interfered saw interference; camper: $(cat "$WORK/camp1.json")"
[ "$interfered" -ge 1 ] || fail "no bridge met the camper: the test proved nothing"
python3 - "$WORK/camp1.json" <<'PY' || fail "the camper (daemon's side) got something: $(cat "$WORK/camp1.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["pairings"] >= 1, "never paired"
assert not s["plaintext"], "read plaintext: %s" % s["plaintext"]
# A bridge sends only its first handshake message (50 bytes) before it
# gives up on a peer that cannot answer it.
assert s["bytes_read"] <= 50 * s["pairings"], "read %d bytes in %d pairings" % (s["bytes_read"], s["pairings"])
PY

# 2. The legacy handshake pairs with the daemon's own waiters, again and
# again. Meanwhile the direct path works, and a rotation gets the relay
# path back.
# shellcheck disable=SC2086
bg python3 "$srcdir/tests/integration/relay-camper.py" --relay-port "$RELAY_PORT" $channel_args \
	--per-channel 1 --duration 600 --ready "$WORK/camp2.ready" --progress "$WORK/camp2.pairings" >"$WORK/camp2.json"
camper=$LAST_PID
wait_until 120 "the camper to be ready" test -e "$WORK/camp2.ready" || fail "the camper was not ready within 120 s"
# Until it has paired with the daemon's waiters a good many times.
paired_enough() { [ "$(cat "$WORK/camp2.pairings" 2>/dev/null || echo 0)" -ge 8 ]; }
wait_until 120 "8 pairings of the camper with the daemon's waiters" paired_enough ||
	fail "the camper paired $(cat "$WORK/camp2.pairings" 2>/dev/null || echo 0) times in 120 s: the daemon's waiters do not come back"
start=$(date +%s%N)
[ "$(ssh_tunnel 'echo direct ok' 2>"$WORK/direct.err")" = "direct ok" ] ||
	fail "the direct path did not work while the relay slots were camped on: $(cat "$WORK/direct.err")"
direct_ms=$((($(date +%s%N) - start) / 1000000))
[ "$(ssh_plain 'echo plain ok' 2>"$WORK/plain.err")" = "plain ok" ] ||
	fail "plain SSH did not work while the relay slots were camped on: $(cat "$WORK/plain.err")"
rc=0
timeout 60 "$BRIDGE" --token-file "$RUN/token" --relay-only --stdio --timeout 8 </dev/null >/dev/null \
	2>"$WORK/legacy-bridge.log" || rc=$?
echo "# legacy camping: a relay-only bridge exited $rc: $(grep -i "relay\|reach" "$WORK/legacy-bridge.log" | tail -n 1)"

cp "$RUN/token" "$WORK/old-token"
RUNTIME_DIRECTORY="$RUN" "$RECOVERY" --config "$WORK/recovery.conf" rotate >/dev/null || fail "kairos-recovery rotate failed"
read_state
cmp -s "$RUN/token" "$WORK/old-token" && fail "rotate kept the token"
start_bridge rotated.log --token-file "$RUN/token" --relay-only --timeout 60
wait_log "$WORK/rotated.log" "SSH server reachable" 90
[ "$(ssh_bridge rotated.log 'echo rotated ok' 2>"$WORK/rotated.err")" = "rotated ok" ] ||
	fail "no session through the relay after rotate: $(cat "$WORK/rotated.err")"
kill -TERM "$camper"
wait "$camper" || fail "the legacy camper failed"
echo "# legacy camping: $(cat "$WORK/camp2.json")"
python3 - "$WORK/camp2.json" <<'PY' || fail "legacy camping: $(cat "$WORK/camp2.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["pairings"] >= 8, "only %d pairings with the daemon's waiters" % s["pairings"]
assert not s["plaintext"], "read plaintext: %s" % s["plaintext"]
# The daemon sends nothing before a valid first message; a bridge its first 50 bytes.
assert s["bytes_read"] <= 50 * s["pairings"], "read %d bytes in %d pairings" % (s["bytes_read"], s["pairings"])
PY

# The daemon backs off on the camped slots (kairos-recovery(8), ADMISSION
# BEFORE AUTHENTICATION; security-lockout.sh bounds the helpers it starts):
# it says so.
grep -q "a pairing failed its handshake; the slot is offered again more slowly" "$WORK/recovery.log" ||
	fail "the daemon did not say it slowed down on the camped slots"

# Nobody but our own clients logged in; the camper's pairings were refused.
opened=$(grep -c "Session .* opened" "$WORK/recovery.log" || true)
[ "$opened" = $((sessions_before + 3)) ] ||
	fail "$((opened - sessions_before)) sessions opened, expected 3 (direct, plain, relay after rotate): $(grep "opened" "$WORK/recovery.log")"
grep -q "Tunnel from relay .* not established" "$WORK/recovery.log" ||
	fail "the daemon did not log the camper's failed handshakes"
kill -0 "$RECOVERY_PID" || fail "the daemon died"
pass "camping as the daemon's side: $ok/6 bridges through, $interfered told of interference, nothing read; legacy camping: $(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); w=sorted(s["waits"]); print(s["pairings"], "pairings with the daemon, median wait for ok", w[len(w)//2], "s")' "$WORK/camp2.json"), direct path ${direct_ms} ms, relay path back after rotate"
