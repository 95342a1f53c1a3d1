#!/bin/bash
# A session over a 100 ms round trip still works end to end, through the
# direct path and through the relay: a command, scp both ways and a window
# change of an interactive pty. tests/tools/delay-forward sits on each hop
# (this kernel has no netem): 50 ms each way between workstation and
# machine for the direct path; 25 ms each way on each of the relay's two
# hops (machine <-> relay, workstation <-> relay: both sides reach the relay
# through the same forwarder), so the relay path's round trip is 100 ms too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
. "$(dirname "$0")/lib-delay.sh"
need scp script stty

BRIDGE="$builddir/kairos-bridge"
export XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

start_relay
start_delay_forward 25 "$RELAY_PORT"
RECOVERY_RELAY="tcp:127.0.0.1:$DELAY_PORT"
start_recovery
grep -q "127.0.0.1:$DELAY_PORT" <("$BRIDGE" --show-token --token-file "$RUN/token") ||
	fail "the token does not name the delayed relay"
start_delay_forward 50 "$TUNNEL_PORT"
DIRECT_FWD=$DELAY_PORT

head -c 3M /dev/urandom >"$WORK/blob"

# through PATH (direct|relay) with the bridge's ARGS: a command, scp both
# ways, a window change.
over() { # PATH ARGS...
	local path=$1 log="$WORK/bridge-$1.log" port cmd start took
	shift
	port=$(free_port)
	bg "$BRIDGE" --token-file "$RUN/token" --listen "127.0.0.1:$port" --timeout 90 "$@" >"$log" 2>&1
	wait_log "$log" "SSH server reachable at" 120
	grep -q "via $path" "$log" || fail "the bridge did not take the $path path: $(grep reachable "$log")"
	cmd=$(printed_ssh_command "$log")
	[ -n "$cmd" ] || fail "the bridge printed no ssh command: $(tail -n 3 "$log")"
	local -a opts
	read -r -a opts <<<"${cmd#ssh -p "$port" }"
	unset 'opts[${#opts[@]}-1]' # root@127.0.0.1
	opts+=(-o StrictHostKeyChecking=yes -o BatchMode=no)

	# A command. It takes at least a few round trips (TCP, the key exchange,
	# the password, the channel: 5 at the least): 0.5 s, or the path was not the
	# delayed one.
	start=$(now_us)
	out=$(sshpass -p "$PASSWORD" ssh "${opts[@]}" -p "$port" root@127.0.0.1 'echo over-the-long-path; echo $((6 * 7))' 2>"$WORK/ssh.err") ||
		fail "$path: ssh failed: $(cat "$WORK/ssh.err")"
	took=$(($(now_us) - start))
	[ "$out" = "over-the-long-path
42" ] || fail "$path: the command said '$out'"
	[ "$took" -ge 500000 ] || fail "$path: a command took $((took / 1000)) ms over a 100 ms round trip: not the delayed path"

	# scp there and back (SFTP, OpenSSH's default), and the legacy protocol.
	sshpass -p "$PASSWORD" scp -q "${opts[@]}" -P "$port" "$WORK/blob" "root@127.0.0.1:$WORK/up-$path" 2>"$WORK/scp.err" ||
		fail "$path: scp up failed: $(cat "$WORK/scp.err")"
	cmp -s "$WORK/blob" "$WORK/up-$path" || fail "$path: the file sent by scp differs"
	sshpass -p "$PASSWORD" scp -q -O "${opts[@]}" -P "$port" "root@127.0.0.1:$WORK/up-$path" "$WORK/down-$path" 2>"$WORK/scp.err" ||
		fail "$path: scp -O down failed: $(cat "$WORK/scp.err")"
	cmp -s "$WORK/blob" "$WORK/down-$path" || fail "$path: the file fetched by scp -O differs"

	# A window change (as tests/integration/session-shell.sh): script(1)
	# gives ssh a real pty of 33x111; once that size came back, a background
	# stty makes it 40x100 and the kernel sends ssh SIGWINCH.
	printf '%s\n' "$PASSWORD" >"$WORK/password"
	chmod 600 "$WORK/password"
	cat >"$WORK/winch.sh" <<WINCH
stty rows 33 cols 111
( i=0; until grep -q '33 111' "$WORK/winch-$path.out" || [ \$i -ge 900 ]; do sleep 0.1; i=\$((i + 1)); done
  stty rows 40 cols 100 </dev/tty ) &
sshpass -f "$WORK/password" ssh ${opts[*]} -tt -p $port root@127.0.0.1 \
	'stty size; i=0; while [ "\$(stty size)" = "33 111" ] && [ \$i -lt 900 ]; do sleep 0.1; i=\$((i + 1)); done; stty size; exit 0'
WINCH
	timeout 180 script -qec "sh $WORK/winch.sh" /dev/null </dev/null >"$WORK/winch-$path.out" 2>&1 ||
		fail "$path: ssh under script failed: $(tr -d '\r' <"$WORK/winch-$path.out")"
	tr -d '\r' <"$WORK/winch-$path.out" | grep -aoE '[0-9]+ [0-9]+$' >"$WORK/sizes" || true
	[ "$(sed -n 1p "$WORK/sizes")" = "33 111" ] || fail "$path: the pty size is \"$(sed -n 1p "$WORK/sizes")\", expected 33 111"
	[ "$(sed -n 2p "$WORK/sizes")" = "40 100" ] ||
		fail "$path: after a window change the size is \"$(sed -n 2p "$WORK/sizes")\", expected 40 100"
	echo "# $path: a command in $((took / 1000)) ms, scp both ways, a window change" >&2
}

over direct --direct-only --direct "127.0.0.1:$DIRECT_FWD"
DIRECT_FWD_PID=$DELAY_PID
over relay --relay-only

# The bridge keeps the tunnel of its first dial for the first ssh. One that
# died in between (here: the path to the machine went away and came back)
# must not cost that ssh anything: it is seen dead and a new tunnel dialed.
port=$(free_port)
bg "$BRIDGE" --token-file "$RUN/token" --listen "127.0.0.1:$port" --timeout 90 --direct-only \
	--direct "127.0.0.1:$DIRECT_FWD" >"$WORK/bridge-spare.log" 2>&1
wait_log "$WORK/bridge-spare.log" "SSH server reachable at" 120
kill "$DIRECT_FWD_PID"
wait "$DIRECT_FWD_PID" 2>/dev/null || true
DELAY_LISTEN_PORT=$DIRECT_FWD start_delay_forward 50 "$TUNNEL_PORT"
cmd=$(printed_ssh_command "$WORK/bridge-spare.log")
read -r -a opts <<<"${cmd#ssh -p "$port" }"
unset 'opts[${#opts[@]}-1]'
out=$(sshpass -p "$PASSWORD" ssh "${opts[@]}" -o StrictHostKeyChecking=yes -o BatchMode=no -p "$port" root@127.0.0.1 'echo past-a-dead-spare' 2>"$WORK/ssh.err") ||
	fail "the first ssh after the kept tunnel died failed: $(cat "$WORK/ssh.err")"
[ "$out" = past-a-dead-spare ] || fail "the first ssh after the kept tunnel died said '$out'"
pass "over a 100 ms round trip, direct and through the relay: a command, scp both ways, a window change; a dead kept tunnel costs nothing"
