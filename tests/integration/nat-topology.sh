#!/bin/bash
# The recovery machine behind a NAT router, the relay and the workstation
# elsewhere, each in a network namespace of its own (lib-netns.sh); the
# daemon started by systemd in systemd-nspawn inside the machine's namespace
# with the real units. Nothing outside can dial in; kairos-bridge on the
# outside workstation, reading the daemon's qr.png, gets through the relay,
# and ssh, scp, sftp and rsync work with the command it printed and
# OpenSSH's default host-key checking. On the machine's LAN the bridge takes
# the direct path.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
. "$(dirname "$0")/lib-nspawn.sh"
. "$(dirname "$0")/lib-netns.sh"
need scp sftp rsync sha256sum

started=$(date +%s)
netns_topology
netns_start_relay
netns_boot_machine

# Nothing dials in: the tunnel port answers on the LAN, and from outside
# neither the machine's address (the outside workstation even has a route
# to it) nor the router's public address opens a connection.
netns_can_connect "$NS_LANWS" "$MACHINE_IP" "$TUNNEL_PORT" 10 ||
	fail "the daemon's tunnel port $MACHINE_IP:$TUNNEL_PORT does not answer even on the LAN"
if netns_can_connect "$NS_WS" "$MACHINE_IP" "$TUNNEL_PORT" 3; then
	fail "the outside workstation connected to $MACHINE_IP:$TUNNEL_PORT through the NAT router"
fi
if netns_can_connect "$NS_WS" "$ROUTER_WAN_IP" "$TUNNEL_PORT" 3; then
	fail "the outside workstation connected to the router's address $ROUTER_WAN_IP:$TUNNEL_PORT"
fi

# The outside workstation: the token offers the machine's LAN address and
# the relay; the bridge tries both, and only the relay gets through.
start_bridge_in "$NS_WS" "$WORK/bridge-ws.log"
grep -q "trying direct $MACHINE_IP:$TUNNEL_PORT" "$WORK/bridge-ws.log" ||
	fail "the bridge did not try the machine's address from the QR code"
grep -q "SSH server reachable at 127.0.0.1:$BRIDGE_PORT (via relay $RELAY)" "$WORK/bridge-ws.log" ||
	fail "the bridge outside the NAT did not get through the relay: $(grep reachable "$WORK/bridge-ws.log")"
pw=$(sed -n 's/.*SSH access password is //p' "$WORK/bridge-ws.log")
[ "$pw" = "$PASSWORD" ] || fail "the bridge printed password '$pw', the machine shows '$PASSWORD'"
grep -q "Recovery machine $MACHINE_HOSTNAME " "$WORK/bridge-ws.log" || fail "the bridge does not name the machine $MACHINE_HOSTNAME"

# ssh: the printed command, nothing added but the password and the command.
out=$(ws_ssh "$NS_WS" 'id -un; hostname; systemctl is-active kairos-recovery' 2>"$WORK/ssh.err") ||
	fail "the printed ssh command failed on the outside workstation: $(cat "$WORK/ssh.err")"
[ "$out" = "$(printf 'root\n%s\nactive' "$MACHINE_HOSTNAME")" ] || fail "the machine's shell said '$out'"
machine_journal | grep -q "Session [0-9]* opened: root logged in with password from relay $RELAY slot" ||
	fail "the daemon did not log a session from the relay: $(machine_journal | tail -n 5)"

# scp (SFTP protocol and -O), sftp and rsync with the printed options.
head -c 8M /dev/urandom >"$WORK/blob"
mkdir -p "$WORK/tree/sub"
head -c 300K /dev/urandom >"$WORK/tree/a"
head -c 70K /dev/urandom >"$WORK/tree/sub/b"
sum=$(sha256sum <"$WORK/blob" | cut -d' ' -f1)
scp_opts="-P $BRIDGE_PORT $SSH_OPTS"
# shellcheck disable=SC2086
in_ns "$NS_WS" sshpass -p "$PASSWORD" scp -q $scp_opts "$WORK/blob" root@127.0.0.1:/root/blob.scp 2>"$WORK/scp.err" ||
	fail "scp to the machine failed: $(cat "$WORK/scp.err")"
# shellcheck disable=SC2086
in_ns "$NS_WS" sshpass -p "$PASSWORD" scp -O -q $scp_opts "$WORK/blob" root@127.0.0.1:/root/blob.scp-O 2>"$WORK/scp.err" ||
	fail "scp -O to the machine failed: $(cat "$WORK/scp.err")"
# shellcheck disable=SC2086
printf 'put %s /root/blob.sftp\nget /root/blob.scp %s\n' "$WORK/blob" "$WORK/blob.back" |
	in_ns "$NS_WS" sshpass -p "$PASSWORD" sftp -q -o BatchMode=no -b - $scp_opts root@127.0.0.1 >"$WORK/sftp.out" 2>&1 ||
	fail "sftp failed: $(tail -n 3 "$WORK/sftp.out")"
in_ns "$NS_WS" sshpass -p "$PASSWORD" rsync -a -e "ssh -p $BRIDGE_PORT $SSH_OPTS" "$WORK/tree/" root@127.0.0.1:/root/tree/ \
	2>"$WORK/rsync.err" || fail "rsync to the machine failed: $(cat "$WORK/rsync.err")"
for f in blob.scp blob.scp-O blob.sftp; do
	[ "$(nspawn_run sha256sum "/root/$f" | cut -d' ' -f1)" = "$sum" ] || fail "/root/$f on the machine differs from what was sent"
done
cmp -s "$WORK/blob" "$WORK/blob.back" || fail "the file fetched by sftp differs from the one sent"
[ "$(nspawn_run sh -c 'cd /root/tree && sha256sum a sub/b')" = "$(cd "$WORK/tree" && sha256sum a sub/b)" ] ||
	fail "the tree rsync sent differs on the machine"
stop_bridge
relay_done=$(($(date +%s) - started))

# A workstation on the machine's LAN: the same QR code, the direct path.
# On a loaded machine the direct path may not finish its handshake within
# its head start (250 ms): the relay is tried then, and may rightly win.
# Such a bridge says nothing of the preference: another is started (5 in
# all). A direct path that does not work still fails.
start_bridge_in "$NS_LANWS" "$WORK/bridge-lan.log"
tries=1
until grep -q "SSH server reachable at 127.0.0.1:$BRIDGE_PORT (via direct $MACHINE_IP:$TUNNEL_PORT)" "$WORK/bridge-lan.log"; do
	grep -q "trying relay" "$WORK/bridge-lan.log" && [ "$tries" -lt 5 ] ||
		fail "the bridge on the LAN did not take the direct path: $(grep reachable "$WORK/bridge-lan.log")"
	echo "# the head start ran out (loaded machine), another bridge: $(grep "reachable at" "$WORK/bridge-lan.log")" >&2
	stop_bridge
	tries=$((tries + 1))
	start_bridge_in "$NS_LANWS" "$WORK/bridge-lan.log"
done
out=$(ws_ssh "$NS_LANWS" 'echo direct' 2>"$WORK/ssh.err") ||
	fail "the printed ssh command failed on the LAN: $(cat "$WORK/ssh.err")"
[ "$out" = direct ] || fail "over the direct path the shell said '$out'"
machine_journal | grep -q "Session [0-9]* opened: root logged in with password from direct $LANWS_IP:" ||
	fail "the daemon did not log a session from $LANWS_IP directly"
stop_bridge
pass "nothing dials in through the NAT; outside: via relay, ssh, scp, scp -O, sftp (8 MiB each) and rsync byte-exact ($relay_done s from the start); on the LAN: via direct; $(($(date +%s) - started)) s in all"
