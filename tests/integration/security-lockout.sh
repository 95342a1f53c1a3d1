#!/bin/bash
# Nobody without the token can lock the owner out (kairos-recovery(8),
# ADMISSION BEFORE AUTHENTICATION). Against the real daemon, the real relay,
# kairos-bridge and OpenSSH, as a stranger would try it:
#  (a) a dozen silent connections to the tunnel port, renewed throughout:
#      one source holds at most 3 helpers, the real bridge logs in directly;
#  (c) a relay camper that pairs with every waiter and closes at once, for
#      10 s: helper starts and the daemon's CPU stay under the stated bound,
#      and the real user still gets in;
#  (b) a relay camper holding every relay waiter paired and silent: the
#      direct path and plain SSH log in unaffected;
#  (d) plain SSH from several sources, each at its share: a new source
#      with the right password logs in;
#  (e) connections opened before kairos-recovery rotate (a Noise handshake
#      not made yet, a tunnel at its password prompt, plain SSH at its
#      password prompt) cannot finish with the old secret or password,
#      while a session logged in before keeps working;
#  (g) an address with too many failed handshakes is refused for a while,
#      and a bridge from it says the machine is busy (exit 75), not that the
#      token is wrong.
# The strangers use 127.0.0.2-6 as their source, the owner 127.0.0.1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
. "$(dirname "$0")/lib-security.sh"
need ps pgrep ss

FLOOD="$srcdir/tests/integration/lockout-flood.py"
CAMPER="$srcdir/tests/integration/relay-camper.py"

wait_file() { # FILE SECONDS
	local i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ "$i" -lt $(($2 * 10)) ] || fail "$(basename "$1") did not appear within $2 s"
		sleep 0.1
	done
}
# CPU ticks of the daemon and of its reaped helpers.
cpu_ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$daemon/stat"; }
json() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
bridge_direct() { # LOG: the real bridge, direct path only, then a command through it
	start_bridge "$1" --token-file "$RUN/token" --direct-only --direct "127.0.0.1:$TUNNEL_PORT" --timeout 20
	wait_log "$WORK/$1" "SSH server reachable" 25
	[ "$(ssh_bridge "$1" 'echo direct ok' 2>"$WORK/$1.err")" = "direct ok" ] ||
		fail "$1: no session through the bridge: $(cat "$WORK/$1.err")"
	kill "$BRIDGE_PID"
	wait "$BRIDGE_PID" 2>/dev/null || true
}

mkdir -p "$WORK/wire"
RECOVERY_NOTIFY_SOCKET="$WORK/notify"
bg python3 "$srcdir/tests/integration/notify-listen.py" "$RECOVERY_NOTIFY_SOCKET" "$WORK/status.txt"
wait_until 120 "notify-listen.py's socket" test -S "$RECOVERY_NOTIFY_SOCKET" || fail "notify-listen.py did not start within 120 s"
start_relay_proxy --record "$WORK/wire"
start_recovery "PlainSSH=yes" "HandshakeTimeoutSec=10"
daemon=$(pgrep -f "$RECOVERY --config $WORK/recovery.conf" | head -n 1)
[ -n "$daemon" ] || fail "cannot find the daemon's process"
read_channels_from_wire "$WORK/wire"
# shellcheck disable=SC2086
channel_args=$(printf -- '--channel %s ' $CHANNELS)

# (a) A dozen silent connections to the tunnel port, renewed all along.
bg python3 "$FLOOD" --port "$TUNNEL_PORT" --source 127.0.0.2 --per-source 12 --renew 0.2 --duration 300 \
	--ready "$WORK/a.ready" >"$WORK/a.json"
flood=$LAST_PID
wait_file "$WORK/a.ready" 30
# What the flood holds: its connections the daemon has not cut (a cut
# one's helper exits by itself, which under ASan's leak check at exit takes
# a moment), as the machine's side of each TCP connection shows; one or
# two may wait in the listen queue for the daemon to take them.
held() { ss -Htn state established "( sport = :$TUNNEL_PORT and dst 127.0.0.2 )" | wc -l; }
# 20 looks a twentieth of a second apart; the median tells what it holds
# (the listen queue comes and goes with each renewal).
samples=$(for _ in $(seq 20); do held; sleep 0.05; done | sort -n)
most=$(echo "$samples" | sed -n 10p)
[ "$most" -le 3 ] || fail "(a) one source held $most connections (the median of 20 looks; at most 3): $(echo $samples)"
t0=$(date +%s%N)
bridge_direct a-bridge.log
a_ms=$((($(date +%s%N) - t0) / 1000000))
kill -0 "$flood" 2>/dev/null || fail "(a) the flood stopped before the bridge got in: it proves nothing"
kill -TERM "$flood"
wait "$flood" || fail "(a) the flood failed"
echo "# (a) flood: $(cat "$WORK/a.json"); the bridge got in after $a_ms ms; a median of $most of its connections held"
[ "$(json "$WORK/a.json" opened)" -ge 20 ] || fail "(a) the flood opened too few connections: $(cat "$WORK/a.json")"
[ "$(json "$WORK/a.json" busy)" -ge 1 ] || fail "(a) no dropped connection was told \"busy\": $(cat "$WORK/a.json")"
# What systemctl status shows of it.
status_counts_drops() { tail -n 1 "$WORK/status.txt" | grep -qE ' · [0-9]+ connections? turned away'; }
wait_until 30 "the status to count the connections turned away" status_counts_drops ||
	fail "(a) the status line does not say that connections were turned away: '$(tail -n 1 "$WORK/status.txt")'"

# (c) Pair-and-close churn on every relay slot for 10 s.
ticks0=$(cpu_ticks)
# shellcheck disable=SC2086
python3 "$CAMPER" --relay-port "$RELAY_PORT" $channel_args --per-channel 1 --after-pair close --duration 10 \
	>"$WORK/c.json" || fail "(c) the camper failed"
ticks1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
c_pairings=$(json "$WORK/c.json" pairings)
c_cpu=$(awk -v t=$((ticks1 - ticks0)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
echo "# (c) pair-and-close churn, 10 s: $c_pairings pairings (bound 40; none starts a helper), daemon and helpers $c_cpu CPU-s (bound 3)"
[ "$c_pairings" -ge 4 ] || fail "(c) the camper paired only $c_pairings times: it proves nothing"
[ "$c_pairings" -le 40 ] || fail "(c) $c_pairings pairings in 10 s of pairing churn (bound: 10 per slot)"
awk -v c="$c_cpu" 'BEGIN { exit !(c <= 3) }' || fail "(c) the daemon and its helpers used $c_cpu CPU-s in 10 s (bound 3)"
start_bridge c-bridge.log --token-file "$RUN/token" --direct "127.0.0.1:$TUNNEL_PORT" --timeout 20
wait_log "$WORK/c-bridge.log" "SSH server reachable" 25
[ "$(ssh_bridge c-bridge.log 'echo after churn')" = "after churn" ] || fail "(c) no session after the churn"
kill "$BRIDGE_PID"
wait "$BRIDGE_PID" 2>/dev/null || true
grep -q "a pairing failed its handshake; the slot is offered again more slowly" "$WORK/recovery.log" ||
	fail "(c) the daemon did not say it slowed down on the camped slots"

# (b) Every relay waiter paired with a silent camper, three waiting on each
# channel to take the next waiter at once (a side of their own, never the
# daemon's, so that they pair with it and not with each other); the direct
# path and plain SSH are not touched.
# shellcheck disable=SC2086
bg python3 "$CAMPER" --relay-port "$RELAY_PORT" $channel_args --side 0123456789abcdef --per-channel 3 \
	--after-pair silent --duration 300 \
	--paired "$WORK/b.paired" >"$WORK/b.json"
camper=$LAST_PID
wait_file "$WORK/b.paired" 60
bridge_direct b-bridge.log
[ "$(ssh_plain 'echo plain ok' 2>"$WORK/b-plain.err")" = "plain ok" ] ||
	fail "(b) plain SSH did not work while the relay was camped on: $(cat "$WORK/b-plain.err")"
kill -TERM "$camper"
wait "$camper" || fail "(b) the camper failed"
echo "# (b) silent camping: $(cat "$WORK/b.json")"
[ "$(json "$WORK/b.json" bytes_read)" = 0 ] || fail "(b) the daemon sent the silent camper something: $(cat "$WORK/b.json")"

# (d) Plain SSH: four sources, each holding its share of 3 waiting
# connections (12, over the budget of 10), renewed; a fifth logs in.
bg python3 "$FLOOD" --port "$SSH_PORT" --source 127.0.0.3 --source 127.0.0.4 --source 127.0.0.5 --source 127.0.0.6 \
	--per-source 3 --renew 1 --duration 300 --ready "$WORK/d.ready" >"$WORK/d.json"
flood=$LAST_PID
wait_file "$WORK/d.ready" 30
[ "$(ssh_plain 'echo plain through' 2>"$WORK/d.err")" = "plain through" ] ||
	fail "(d) a new source with the right password did not get in: $(cat "$WORK/d.err")"
kill -0 "$flood" 2>/dev/null || fail "(d) the flood stopped early: it proves nothing"
kill -TERM "$flood"
wait "$flood" || fail "(d) the flood failed"
echo "# (d) plain SSH flood: $(cat "$WORK/d.json")"

# (e) Connections opened before rotate, each stopped before its proof.
old_password=$PASSWORD
printf '%s\n' "$old_password" >"$WORK/old-password"
cat >"$WORK/askpass" <<EOF
#!/bin/sh
# OpenSSH asks here for the password: say so, wait for the rotate, answer the old one.
touch "\$ASKED"
while [ ! -e "$WORK/go" ]; do sleep 0.05; done
cat "$WORK/old-password"
EOF
chmod +x "$WORK/askpass"
ssh_askpass() { # ASKED-FILE SSH-ARGS...: OpenSSH that answers its password prompt only after the rotate
	local asked=$1
	shift
	ASKED="$asked" SSH_ASKPASS="$WORK/askpass" SSH_ASKPASS_REQUIRE=force ssh \
		-o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes -o PreferredAuthentications=password \
		-o NumberOfPasswordPrompts=1 -o ConnectTimeout=20 "$@" </dev/null
}
sessions_before=$(grep -c "Session .* opened" "$WORK/recovery.log" || true)
bg ssh_plain 'sleep 4; echo still here' >"$WORK/e-session.out" 2>"$WORK/e-session.err"
session=$LAST_PID
wait_log_count "$WORK/recovery.log" "Session .* opened" $((sessions_before + 1)) 20
bg ssh_askpass "$WORK/e-plain.asked" -p "$SSH_PORT" root@127.0.0.1 'echo OLD-PASSWORD-WORKED' \
	>"$WORK/e-plain.out" 2>"$WORK/e-plain.err"
plain=$LAST_PID
bg ssh_askpass "$WORK/e-tunnel.asked" -o HostKeyAlias=kairos-recovery \
	-o ProxyCommand="$TUNNEL initiate --token-file $RUN/token --no-relay --no-token-addresses --direct 127.0.0.1:$TUNNEL_PORT --timeout 20" \
	root@recovery 'echo OLD-PASSWORD-WORKED' >"$WORK/e-tunnel.out" 2>"$WORK/e-tunnel.err"
tunnel=$LAST_PID
bg "$TUNNEL" handshake-later --token-file "$RUN/token" --direct "127.0.0.1:$TUNNEL_PORT" --go "$WORK/go" --timeout 30 \
	>"$WORK/e-noise.out" 2>"$WORK/e-noise.err"
noise=$LAST_PID
wait_file "$WORK/e-plain.asked" 30
wait_file "$WORK/e-tunnel.asked" 30
wait_log "$WORK/e-noise.out" connected 20
RUNTIME_DIRECTORY="$RUN" "$RECOVERY" --config "$WORK/recovery.conf" rotate >/dev/null || fail "(e) rotate failed"
wait_log "$WORK/recovery.log" "Token rotated" 20
touch "$WORK/go"
rc=0; wait "$plain" || rc=$?
[ "$rc" != 0 ] && ! grep -q OLD-PASSWORD-WORKED "$WORK/e-plain.out" ||
	fail "(e) plain SSH opened before rotate logged in with the old password"
rc=0; wait "$tunnel" || rc=$?
[ "$rc" != 0 ] && ! grep -q OLD-PASSWORD-WORKED "$WORK/e-tunnel.out" ||
	fail "(e) a tunnel opened before rotate logged in with the old password"
rc=0; wait "$noise" || rc=$?
[ "$rc" = 2 ] && grep -q "^failed" "$WORK/e-noise.out" ||
	fail "(e) a Noise handshake with the old secret on a connection opened before rotate: $(cat "$WORK/e-noise.out" "$WORK/e-noise.err")"
ended=$(sed -n 's/.*Token rotated.*(\([0-9]*\) connections\{0,1\} not logged in ended).*/\1/p' "$WORK/recovery.log" | tail -n 1)
[ "${ended:-0}" -ge 3 ] || fail "(e) rotate ended ${ended:-no} connections not logged in (3 were waiting)"
wait "$session" || fail "(e) the session logged in before rotate ended: $(cat "$WORK/e-session.err")"
[ "$(cat "$WORK/e-session.out")" = "still here" ] || fail "(e) the session logged in before rotate lost its output"
echo "# (e) after rotate: plain $(tail -n 1 "$WORK/e-plain.err"); tunnel $(tail -n 1 "$WORK/e-tunnel.err"); noise $(cat "$WORK/e-noise.out" | tail -n 1)"

# (g) The owner's own address made 40 failed handshakes (random bytes):
# refused for the rest of the minute; the bridge says busy, not "token".
python3 - "$TUNNEL_PORT" <<'PY' || fail "(g) could not send the failed handshakes"
import os, socket, sys
for _ in range(40):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(b"\x00\x30" + os.urandom(48))
    try:
        s.recv(100)
    except OSError:
        pass
    s.close()
PY
rc=0
"$BRIDGE" --token-file "$RUN/token" --direct-only --direct "127.0.0.1:$TUNNEL_PORT" --stdio --timeout 4 </dev/null \
	>/dev/null 2>"$WORK/g-bridge.log" || rc=$?
[ "$rc" = 75 ] || fail "(g) a refused bridge exited $rc, not 75 (busy): $(tail -n 2 "$WORK/g-bridge.log")"
grep -q "busy and refused us.*This is not about the token" "$WORK/g-bridge.log" ||
	fail "(g) the bridge did not say the machine is busy: $(tail -n 2 "$WORK/g-bridge.log")"
if grep -q "token was rejected" "$WORK/g-bridge.log"; then fail "(g) the bridge blamed the token"; fi
grep -q "Refusing direct connections from 127.0.0.1 for the rest of the minute: .* failed or dropped handshakes" \
	"$WORK/recovery.log" || fail "(g) the daemon did not log why it refused the address"

kill -0 "$daemon" || fail "the daemon died"
pass "(a) bridge in after $a_ms ms beside a 12-connection flood (a median of $most of its connections held); (c) churn: $c_pairings helpers, $c_cpu CPU-s in 10 s; (b) direct and plain SSH under relay camping; (d) plain SSH past 4 sources at their share; (e) rotate ended $ended waiting connections, the logged-in session went on; (g) a refused bridge says busy (75)"
