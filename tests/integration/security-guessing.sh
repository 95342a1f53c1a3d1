#!/bin/bash
# Password guessing on the plain SSH socket: 8 OpenSSH clients from
# 127.0.0.2 guess for 60 s in parallel, 3 wrong passwords a connection.
# The daemon holds them to a few guesses a second at most (at most 3
# connections of one address unauthenticated at once, delays after each
# failure, and the address refused after 30 failures a minute), while the
# real user, from 127.0.0.1, logs in with the right password every few
# seconds without a refusal and within seconds, on the plain socket and
# through the tunnel. Prints the guess rate and the login latencies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
[ -n "$(ip -o addr show lo 2>/dev/null | grep 'inet 127.0.0.1/8')" ] || skip "loopback is not 127.0.0.1/8 (127.0.0.2 needed)"

DURATION=${SECURITY_GUESS_SECONDS:-60}
start_recovery "PlainSSH=yes"

cat >"$WORK/askpass" <<'EOF'
#!/bin/sh
head -c 9 /dev/urandom | base64
EOF
chmod +x "$WORK/askpass"
guesser() { # ID: until the deadline file is gone
	local n=0 rc
	while [ -e "$WORK/attacking" ]; do
		rc=0
		SSH_ASKPASS="$WORK/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 timeout 60 ssh -b 127.0.0.2 \
			-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PubkeyAuthentication=no \
			-o NumberOfPasswordPrompts=3 -o ConnectTimeout=10 -p "$SSH_PORT" root@127.0.0.1 true \
			</dev/null >/dev/null 2>>"$WORK/guesser-$1.err" || rc=$?
		[ "$rc" = 0 ] && echo "GUESSED" >>"$WORK/guesser-$1.err"
		n=$((n + 1))
		sleep 0.1
	done
	echo "$n" >"$WORK/guesser-$1.count"
}

login_ms() { # HOW: the milliseconds a correct login and a command take
	local start end
	start=$(date +%s%N)
	[ "$($1 'echo in' 2>>"$WORK/login.err")" = in ] || return 1
	end=$(date +%s%N)
	echo $(((end - start) / 1000000))
}

base_plain=$(login_ms ssh_plain) || fail "no login before the attack: $(cat "$WORK/login.err")"
base_tunnel=$(login_ms ssh_tunnel) || fail "no tunnel login before the attack: $(cat "$WORK/login.err")"

touch "$WORK/attacking"
for g in 1 2 3 4 5 6 7 8; do bg guesser "$g"; done
start=$(date +%s)
: >"$WORK/latencies"
while [ $(($(date +%s) - start)) -lt "$DURATION" ]; do
	ms=$(login_ms ssh_plain) || fail "the right password was refused during the attack: $(tail -n 3 "$WORK/login.err")"
	echo "plain $ms" >>"$WORK/latencies"
	ms=$(login_ms ssh_tunnel) || fail "the tunnel login failed during the attack: $(tail -n 3 "$WORK/login.err")"
	echo "tunnel $ms" >>"$WORK/latencies"
	sleep 2
done
rm -f "$WORK/attacking"
elapsed=$(($(date +%s) - start))
for g in 1 2 3 4 5 6 7 8; do
	wait_until 120 "guesser $g to stop" test -e "$WORK/guesser-$g.count" || true
done
cat "$WORK"/guesser-*.err >"$WORK/guessers.err"
grep -q GUESSED "$WORK/guessers.err" && fail "a guesser logged in"
connections=$(cat "$WORK"/guesser-*.count | awk '{ n += $1 } END { print n }')
guesses=$(grep -c "authentication failed (password root) from ssh 127.0.0.2" "$WORK/recovery.log" || true)
refused=$(grep -c "kex_exchange_identification" "$WORK/guessers.err" || true)
rate=$(awk -v g="$guesses" -v t="$elapsed" 'BEGIN { printf "%.2f", g / t }')
read -r plain_med plain_max < <(awk '$1 == "plain" { print $2 }' "$WORK/latencies" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)], a[NR] }')
read -r tunnel_med tunnel_max < <(awk '$1 == "tunnel" { print $2 }' "$WORK/latencies" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)], a[NR] }')
logins=$(wc -l <"$WORK/latencies")
echo "# $connections guessing connections, $guesses wrong passwords in $elapsed s ($rate/s), $refused connections refused outright"
echo "# correct logins during the attack: $logins; plain SSH median $plain_med ms, max $plain_max ms (before: $base_plain ms); tunnel median $tunnel_med ms, max $tunnel_max ms (before: $base_tunnel ms)"

[ "$guesses" -ge 10 ] || fail "only $guesses guesses reached the daemon: the attack did not happen"
# 30 a minute per address; one more window may open before the end, and
# connections under way finish their tries.
[ "$guesses" -le $((30 * (elapsed / 60 + 1) + 3 * 3)) ] || fail "$guesses guesses in $elapsed s: more than 30 a minute got through"
[ "$plain_max" -le 15000 ] || fail "a correct plain SSH login took $plain_max ms during the attack"
[ "$tunnel_max" -le 15000 ] || fail "a correct tunnel login took $tunnel_max ms during the attack"
[ "$(grep -c "Session .* opened.* from ssh 127.0.0.2" "$WORK/recovery.log" || true)" = 0 ] || fail "a guesser's session opened"
kill -0 "$RECOVERY_PID" || fail "the daemon died"
pass "$guesses guesses in $elapsed s ($rate/s) from 8 parallel clients, $refused connections refused; $logins correct logins meanwhile, plain median $plain_med ms max $plain_max ms, tunnel median $tunnel_med ms max $tunnel_max ms"
