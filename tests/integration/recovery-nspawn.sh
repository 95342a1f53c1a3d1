#!/bin/bash
# kairos-recovery under a real systemd (PID 1 in systemd-nspawn, Debian 12)
# with the real units: "systemctl start kairos-recovery.target" brings up the
# socket and the daemon, "systemctl status" shows the status line, ssh from
# outside the container gets a root shell (plain SSH socket enabled by the
# administrator, and the tunnel), a SIGKILLed daemon is restarted by systemd
# and shows the same token, and "kairos-recovery rotate" changes it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-nspawn.sh"
need ip sshpass ssh

nspawn_install_kairos
prefix=$KAIROS_PREFIX
recovery=$KAIROS_RECOVERY

# The container on a network namespace of its own, one veth to this host.
ns="kairos-ns-$$"
n=$(( ($$ % 200) + 20 ))
host_ip="10.231.$n.1"
guest_ip="10.231.$n.2"
ip netns add "$ns" || fail "cannot create network namespace $ns"
at_cleanup "ip netns del $ns; ip link del kh$n"
ip link add "kh$n" type veth peer name "kg$n" netns "$ns"
ip addr add "$host_ip/24" dev "kh$n"
ip link set "kh$n" up
ip -n "$ns" addr add "$guest_ip/24" dev "kg$n"
ip -n "$ns" link set "kg$n" up
ip -n "$ns" link set lo up
ip -n "$ns" route add default via "$host_ip"

# The relay on the host's side of the veth: the container reaches it there.
need twist3
RELAY_PORT=$(free_port)
RELAY="tcp:$host_ip:$RELAY_PORT"
bg twist3 transitrelay --port="tcp:$RELAY_PORT:interface=$host_ip" >"$WORK/relay.log" 2>&1
relay_listens() { (exec 3<>"/dev/tcp/$host_ip/$RELAY_PORT") 2>/dev/null; }
wait_until 60 "the relay to listen" relay_listens || fail "the relay did not listen on $host_ip:$RELAY_PORT within 60 s"

printf '[Recovery]\nRelay=%s\nConsole=null\nHostKey=\n' "$RELAY" >"$WORK/etc-kairos/recovery.conf"

nspawn_boot "kairos-$$" --network-namespace-path="/run/netns/$ns" "${NSPAWN_BINDS[@]}"
nspawn_run systemctl enable kairos-recovery-ssh.socket >/dev/null 2>&1 || fail "cannot enable the plain SSH socket"
nspawn_run systemctl start kairos-recovery.target || fail "systemctl start kairos-recovery.target failed: $(nspawn_run journalctl -u kairos-recovery -n 20 --no-pager)"
nspawn_run systemctl is-active -q kairos-recovery.service || fail "kairos-recovery.service is not active"
relay_connected() {
	status=$(nspawn_run systemctl show -p StatusText --value kairos-recovery)
	case "$status" in *"relay $RELAY connected"*) true ;; *) false ;; esac
}
wait_until 90 "the status 'relay connected'" relay_connected || true
case "$status" in
"Waiting for bridge · relay $RELAY connected · 0 sessions") ;;
*) fail "status line is '$status'" ;;
esac
nspawn_run systemctl status kairos-recovery --no-pager >"$WORK/status.out" 2>&1 || true
grep -q "Status: \"Waiting for bridge" "$WORK/status.out" || fail "systemctl status does not show the status line: $(head -n 5 "$WORK/status.out")"

password=$(nspawn_run "$recovery" show | sed -n 's/^Password: *//p')
[ -n "$password" ] || fail "kairos-recovery show printed no password in the container"
nspawn_run cat /run/kairos-recovery/token >"$WORK/token"
chmod 600 "$WORK/token"
echo "[$guest_ip]:2222 $(nspawn_run cut -d' ' -f1,2 /run/kairos-recovery/host_ed25519_key.pub)" >"$WORK/known_hosts"
echo "kairos-recovery $(nspawn_run cut -d' ' -f1,2 /run/kairos-recovery/host_ed25519_key.pub)" >>"$WORK/known_hosts"

out=$(sshpass -p "$password" ssh -o UserKnownHostsFile="$WORK/known_hosts" -o ConnectTimeout=20 -p 2222 \
	"root@$guest_ip" 'systemctl is-active kairos-recovery; id -un' 2>"$WORK/ssh.err") ||
	fail "ssh to the container's plain SSH socket failed: $(cat "$WORK/ssh.err")"
[ "$out" = "$(printf 'active\nroot')" ] || fail "the container's shell said '$out'"
out=$(sshpass -p "$password" ssh -o UserKnownHostsFile="$WORK/known_hosts" -o HostKeyAlias=kairos-recovery \
	-o ProxyCommand="$TUNNEL initiate --token-file $WORK/token --no-relay --timeout 60" root@recovery 'echo tunnel ok' \
	2>"$WORK/ssh.err") || fail "ssh through the tunnel (direct) failed: $(cat "$WORK/ssh.err")"
[ "$out" = "tunnel ok" ] || fail "through the tunnel the shell said '$out'"
out=$(sshpass -p "$password" ssh -o UserKnownHostsFile="$WORK/known_hosts" -o HostKeyAlias=kairos-recovery \
	-o ProxyCommand="$TUNNEL initiate --token-file $WORK/token --no-token-addresses --timeout 60" root@recovery \
	'echo relay ok' 2>"$WORK/ssh.err") || fail "ssh through the relay failed: $(cat "$WORK/ssh.err")"
[ "$out" = "relay ok" ] || fail "through the relay the shell said '$out'"

# kairos-bridge under systemd: systemd-run returns once the tunnel is up,
# the status shows in systemctl, the journal gets structured entries and
# never the password, which goes to a 0600 file instead.
nspawn_run systemd-run -q -p Type=notify -p TimeoutStartSec=60 --unit=kairos-bridge-test \
	"$prefix/bin/kairos-bridge" --token-file /run/kairos-recovery/token --direct-only \
	--direct 127.0.0.1:7140 --listen 127.0.0.1:2200 || fail "systemd-run of kairos-bridge did not start it: $(nspawn_run journalctl -u kairos-bridge-test --no-pager | tail -n 5)"
nspawn_run systemctl is-active -q kairos-bridge-test || fail "kairos-bridge is not active after systemd-run returned"
bstatus=$(nspawn_run systemctl show -p StatusText --value kairos-bridge-test)
case "$bstatus" in "Reachable via direct 127.0.0.1:7140"*) ;; *) fail "kairos-bridge's status is '$bstatus'" ;; esac
nspawn_run journalctl -u kairos-bridge-test -o json --no-pager >"$WORK/bridge-journal.json"
grep -q '"MESSAGE_ID":"b5b3b3e221294f968ec879be031c6923"' "$WORK/bridge-journal.json" || fail "no 'reachable' entry with its MESSAGE_ID in the journal"
grep -q '"KAIROS_LISTEN":"127.0.0.1:2200"' "$WORK/bridge-journal.json" || fail "the journal entry lacks KAIROS_LISTEN"
grep -q '"KAIROS_PATH":"direct 127.0.0.1:7140"' "$WORK/bridge-journal.json" || fail "the journal entry lacks KAIROS_PATH"
grep -q "\"KAIROS_HOSTNAME\":\"$(nspawn_run hostname)\"" "$WORK/bridge-journal.json" || fail "the journal entry lacks KAIROS_HOSTNAME"
if grep -q "$password" "$WORK/bridge-journal.json"; then
	fail "kairos-bridge put the password in the journal"
fi
pwfile=$(sed -n 's/.*SSH access password is in \([^"]*\)".*/\1/p' "$WORK/bridge-journal.json" | head -n 1)
[ -n "$pwfile" ] || fail "the journal does not say where the password is"
[ "$(nspawn_run stat -c %a "$pwfile")" = 600 ] || fail "the password file $pwfile is not 0600"
[ "$(nspawn_run cat "$pwfile")" = "$password" ] || fail "the password file does not hold the password"
nspawn_run systemctl stop kairos-bridge-test
nspawn_journal_wait kairos-bridge-test json '"MESSAGE_ID":"c7d4a0c792484d61b3d3016c4566678f"' ||
	fail "kairos-bridge did not log its clean stop"
nspawn_run test -e "$pwfile" && fail "the password file $pwfile outlived the bridge"

# The watchdog is fed, and a reload re-reads the configuration and keeps the token.
[ "$(nspawn_run systemctl show -p WatchdogTimestampMonotonic --value kairos-recovery)" != 0 ] ||
	fail "systemd never got WATCHDOG=1 from the daemon"
printf '[Recovery]\nRelay=%s\nConsole=null\nHostKey=\nMaxStartups=5\n' "$RELAY" >"$WORK/etc-kairos/recovery.conf"
nspawn_run systemctl reload kairos-recovery || fail "systemctl reload kairos-recovery failed"
nspawn_journal_wait kairos-recovery cat "Configuration reloaded; the token is kept" || fail "the reload did not take the new configuration"
cmp -s "$WORK/token" <(nspawn_run cat /run/kairos-recovery/token) || fail "the reload changed the token"

pid_before=$(nspawn_run systemctl show -p MainPID --value kairos-recovery)
nspawn_run systemctl kill -s KILL kairos-recovery
pid_after=$pid_before
restarted() {
	pid_after=$(nspawn_run systemctl show -p MainPID --value kairos-recovery)
	[ "$pid_after" != 0 ] && [ "$pid_after" != "$pid_before" ] &&
		nspawn_run systemctl is-active -q kairos-recovery
}
wait_until 120 "systemd to restart the killed daemon" restarted || true
[ "$pid_after" != "$pid_before" ] && [ "$pid_after" != 0 ] || fail "systemd did not restart the killed daemon"
cmp -s "$WORK/token" <(nspawn_run cat /run/kairos-recovery/token) || fail "the restarted daemon shows another token"
[ "$(nspawn_run "$recovery" show | sed -n 's/^Password: *//p')" = "$password" ] ||
	fail "the restarted daemon shows another password"

nspawn_run "$recovery" rotate >/dev/null || fail "kairos-recovery rotate failed in the container"
if cmp -s "$WORK/token" <(nspawn_run cat /run/kairos-recovery/token); then
	fail "rotate did not change the token"
fi
nspawn_journal_wait kairos-recovery json '"MESSAGE_ID":"8af372594a2444c5b0ff6019c6151638"' || fail "no token-rotated entry in the journal"
nspawn_run journalctl -u kairos-recovery -o json --no-pager >"$WORK/journal.json"
grep -q '"MESSAGE_ID":"3d98442d61de4d9fb66cfc73ad37c1fb"' "$WORK/journal.json" || fail "no session-opened entry in the journal"
if grep -q "$password" "$WORK/journal.json"; then
	fail "the password is in the journal"
fi
# Stopped at shutdown although it has no default dependencies.
deps=$(nspawn_run systemctl show -p Conflicts -p Before kairos-recovery.service kairos-recovery.socket)
[ "$(echo "$deps" | grep -c 'shutdown.target')" = 4 ] || fail "the service and socket are not ordered against shutdown.target: $deps"
[ "$(nspawn_run systemctl show -p LoadState --value kairos-recovery-shell@tty2.service)" = loaded ] ||
	fail "the local shell unit does not load"
grep -q '"SYSLOG_IDENTIFIER":"kairos-recovery"' "$WORK/journal.json" || fail "the daemon's entries have no SYSLOG_IDENTIFIER=kairos-recovery"

# Without its session helper the daemon stops with 72, systemd does not
# restart it (restarting cannot help), and journalctl -x says what to do.
nspawn_run journalctl --update-catalog || fail "journalctl --update-catalog failed in the container"
nspawn_run mkdir -p /run/systemd/system/kairos-recovery.service.d
nspawn_run sh -c 'printf "[Service]\nEnvironment=KAIROS_SESSION_HELPER=/nonexistent/helper\n" >/run/systemd/system/kairos-recovery.service.d/test.conf'
nspawn_run systemctl daemon-reload
nspawn_run systemctl restart kairos-recovery.service 2>/dev/null || true
for _ in $(seq 300); do
	[ "$(nspawn_run systemctl show -p ActiveState --value kairos-recovery)" = failed ] && break
	sleep 0.1
done
props=$(nspawn_run systemctl show -p ActiveState -p ExecMainStatus -p NRestarts kairos-recovery)
echo "$props" | grep -qx NRestarts=0 && echo "$props" | grep -qx ExecMainStatus=72 && echo "$props" | grep -qx ActiveState=failed ||
	fail "without its helper the unit is not failed with 72 and no restart: $(echo "$props" | tr '\n' ' ')"
nspawn_journal_wait kairos-recovery cat "The session helper /nonexistent/helper cannot be run" ||
	fail "the journal does not name the missing helper"
nspawn_run journalctl -x -u kairos-recovery --no-pager >"$WORK/journal-x.txt"
grep -q "Subject: kairos-recovery cannot run its session helper and stops" "$WORK/journal-x.txt" ||
	fail "journalctl -x does not explain the failure: $(tail -n 20 "$WORK/journal-x.txt")"
nspawn_run rm /run/systemd/system/kairos-recovery.service.d/test.conf
nspawn_run systemctl daemon-reload

pass "target started, status '$status', ssh plain/tunnel/relay from outside, kairos-bridge under systemd-run (status, journal fields, no password), watchdog fed, reload keeps the token, restart keeps the token, rotate changes it; shutdown ordering; no helper: failed 72, not restarted, explained by journalctl -x"
