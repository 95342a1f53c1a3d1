#!/bin/bash
# Network faults around the recovery machine behind a NAT (lib-netns.sh),
# the daemon under systemd in systemd-nspawn with the real units:
#  - the NAT forgets its connections while the daemon waits at the relay
#    (conntrack flushed in the router's namespace): the relay still holds
#    the daemon's waiters, now ghosts; the bridge gets through within a
#    bounded time and is never told its token was rejected;
#  - the machine's network cut (interface down) and restored: the daemon
#    says so at once, and registers at the relay again when it is back;
#  - the machine's address changed (a new address that the route then
#    uses, the old one removed later): the QR code is redrawn with it, the
#    daemon registers from it, and the relay path works throughout: a
#    session open across the change survives; then renumbered at once
#    (the address gone): the waiters left on it are reset at the relay, so
#    no bridge connection meets a ghost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
. "$(dirname "$0")/lib-nspawn.sh"
. "$(dirname "$0")/lib-netns.sh"
need conntrack

started=$(date +%s)
netns_topology
netns_start_relay
netns_boot_machine

now_ms() { echo $(($(date +%s%N) / 1000000)); }
connected_count() { machine_journal | grep -c "Relay $RELAY connected" || true; }

# The addresses the QR code on the machine's screen offers now.
qr_addresses() {
	fetch_qr "$WORK/qr-now.png"
	"$BRIDGE" --show-token --qr-code-image "$WORK/qr-now.png" | sed -n 's/^address: *//p' | tr '\n' ' '
}

qr_offers() { [ "$(qr_addresses)" = "$1" ]; }
wait_qr_addresses() { # EXPECTED SECONDS
	wait_until "$2" "the QR code to offer $1" qr_offers "$1" ||
		fail "the QR code offers '$(qr_addresses)', expected '$1'"
}

# --- The NAT forgets the daemon's connections to the relay.
waiting=$(in_ns "$NS_ROUTER" conntrack -L -p tcp --dport "$RELAY_PORT" 2>/dev/null | grep -c ESTABLISHED || true)
[ "$waiting" -ge 4 ] || fail "the router tracks $waiting connections to the relay, expected the daemon's 4 waiters"
in_ns "$NS_ROUTER" conntrack -F 2>/dev/null || fail "conntrack -F failed in the router's namespace"
t0=$(now_ms)
start_bridge_in "$NS_WS" "$WORK/bridge-flush.log" --verbose
flush_ms=$(($(now_ms) - t0))
# Measured: about 10 s (the waiters' keepalive); 29-36 s before it was
# shortened, and the bridge took the ghost for a wrong token.
[ "$flush_ms" -le 20000 ] || fail "after the NAT forgot its connections the bridge needed $flush_ms ms (bound 20 s)"
if grep -q "rejected\|does not hold this token" "$WORK/bridge-flush.log"; then
	fail "a stale waiter at the relay was reported as a wrong token: $(grep "rejected\|does not hold" "$WORK/bridge-flush.log" | head -n 1)"
fi
if grep -q "paired with a stale waiter" "$WORK/bridge-flush.log"; then
	ghost=met
	# The daemon notices the dead waiter at its next keepalive probe.
	wait_journal_count "Relay $RELAY lost: the connection was reset" 1 60
else
	ghost="not met (a keepalive probe came first)"
fi
[ "$(ws_ssh "$NS_WS" 'echo after flush' 2>"$WORK/ssh.err")" = "after flush" ] ||
	fail "ssh after the NAT flush failed: $(cat "$WORK/ssh.err")"
stop_bridge

# --- The machine's network cut and restored.
wait_status "*relay $RELAY connected*" 60
before=$(connected_count)
ip -n "$NS_MACHINE" link set eth0 down
t0=$(now_ms)
wait_journal_count "Relay $RELAY lost: no route to it" 1 60
cut_said_ms=$(($(now_ms) - t0))
wait_status "Waiting for bridge · relay $RELAY not reachable · no address · 0 sessions" 60
rc=0
XDG_RUNTIME_DIR="$WORK/xdg-cut" in_ns "$NS_WS" "$BRIDGE" --qr-code-image "$WORK/qr.png" --timeout 4 >"$WORK/bridge-cut.log" 2>&1 || rc=$?
[ "$rc" = 69 ] || fail "during the cut the bridge exited with $rc, expected 69 (not reachable): $(tail -n 1 "$WORK/bridge-cut.log")"
ip -n "$NS_MACHINE" link set eth0 up
# What DHCP or networkd would do on the link's return.
ip -n "$NS_MACHINE" route replace default via "$ROUTER_LAN_IP"
t0=$(now_ms)
wait_journal_count "Relay $RELAY connected" $((before + 1)) 60
back_ms=$(($(now_ms) - t0))
wait_status "Waiting for bridge · relay $RELAY connected · 0 sessions" 60
start_bridge_in "$NS_WS" "$WORK/bridge-cut-back.log"
[ "$(ws_ssh "$NS_WS" 'echo after cut' 2>"$WORK/ssh.err")" = "after cut" ] ||
	fail "ssh after the network came back failed: $(cat "$WORK/ssh.err")"
stop_bridge

# --- The machine's address changed. A bridge runs throughout, and a
# session through the relay stays open across the change.
new_ip=192.168.77.9
wait_qr_addresses "$MACHINE_IP:$TUNNEL_PORT " 60
start_bridge_in "$NS_WS" "$WORK/bridge-renumber.log" --relay-only
mkfifo "$WORK/session.in"
# shellcheck disable=SC2086
in_ns "$NS_WS" sshpass -p "$PASSWORD" $SSH_CMD 'echo before; read x; echo "after $x"' <"$WORK/session.in" \
	>"$WORK/session.out" 2>"$WORK/session.err" &
session_pid=$!
PIDS="$PIDS $session_pid"
exec 7>"$WORK/session.in"
wait_log "$WORK/session.out" "^before$" 60
# A new address, which the route to the relay then takes (the old one
# stays a while, as when a DHCP lease is renumbered).
in_ns "$NS_MACHINE" sysctl -q -w net.ipv4.conf.eth0.promote_secondaries=1
ip -n "$NS_MACHINE" addr add "$new_ip/24" dev eth0
ip -n "$NS_MACHINE" route replace default via "$ROUTER_LAN_IP" src "$new_ip"
wait_journal_count "Relay $RELAY: the network changed; registering .* again from $new_ip" 1 60
wait_qr_addresses "$MACHINE_IP:$TUNNEL_PORT $new_ip:$TUNNEL_PORT " 60
[ "$(ws_ssh "$NS_WS" 'echo during' 2>"$WORK/ssh.err")" = during ] ||
	fail "ssh through the relay after the new address came failed: $(cat "$WORK/ssh.err")"
echo go >&7
exec 7>&-
rc=0
wait "$session_pid" || rc=$?
[ "$rc" = 0 ] && [ "$(cat "$WORK/session.out")" = "$(printf 'before\nafter go')" ] ||
	fail "the session open across the address change did not survive (exit $rc): $(cat "$WORK/session.out" "$WORK/session.err")"
# The old address goes: the QR code offers the new one alone, and the
# relay path still works (the waiters already left from the new address).
ip -n "$NS_MACHINE" addr del "$MACHINE_IP/24" dev eth0
ip -n "$NS_MACHINE" route replace default via "$ROUTER_LAN_IP" src "$new_ip"
wait_qr_addresses "$new_ip:$TUNNEL_PORT " 60
[ "$(ws_ssh "$NS_WS" 'echo renumbered' 2>"$WORK/ssh.err")" = renumbered ] ||
	fail "ssh through the relay after the old address went failed: $(cat "$WORK/ssh.err")"
# Renumbered at once, without overlap (a new lease): the waiters' address
# is gone, and the relay would keep them, and pair bridges with them, for
# minutes. The daemon resets them (the router sees each connection close)
# and registers from the new address; no ssh meets a ghost (10 s lost each).
third_ip=192.168.77.10
# The ssh above is over, but its session helper may still be closing its
# relay connection from $new_ip: gone with the address, its FIN would never
# leave and the router would keep that connection, which is no waiter.
wait_status "*· 0 sessions" 60
ip -n "$NS_MACHINE" addr del "$new_ip/24" dev eth0
ip -n "$NS_MACHINE" addr add "$third_ip/24" dev eth0
ip -n "$NS_MACHINE" route replace default via "$ROUTER_LAN_IP"
wait_journal_count "Relay $RELAY: the network changed; registering .* again from $third_ip" 1 60
wait_qr_addresses "$third_ip:$TUNNEL_PORT " 60
no_stale() {
	stale=$(in_ns "$NS_ROUTER" conntrack -L -p tcp -s "$new_ip" --dport "$RELAY_PORT" 2>/dev/null | grep -c ESTABLISHED || true)
	[ "$stale" = 0 ]
}
wait_until 60 "the connections from the vanished address to close" no_stale || true
[ "$stale" = 0 ] || fail "$stale connections from the vanished address $new_ip to the relay are still open at the router: the relay keeps ghost waiters"
slowest=0
for i in 1 2 3; do
	t0=$(now_ms)
	[ "$(ws_ssh "$NS_WS" "echo new lease $i" 2>"$WORK/ssh.err")" = "new lease $i" ] ||
		fail "ssh $i through the relay after the abrupt renumbering failed: $(cat "$WORK/ssh.err")"
	took=$(($(now_ms) - t0))
	[ "$took" -gt "$slowest" ] && slowest=$took
done
[ "$slowest" -le 8000 ] || fail "an ssh after the abrupt renumbering took $slowest ms: it met a ghost waiter at the relay"
grep -q "SSH server reachable at 127.0.0.1:$BRIDGE_PORT (via relay $RELAY)" "$WORK/bridge-renumber.log" ||
	fail "the bridge did not use the relay"
stop_bridge
pass "NAT flush: bridge through in $flush_ms ms (ghost waiter $ghost), no 'rejected'; cut: said in $cut_said_ms ms, registered again $back_ms ms after the link came back; new address: QR redrawn, waiters moved, a session across the change survived; abrupt renumbering: old waiters reset at the relay, 3 ssh, slowest $slowest ms; $(($(date +%s) - started)) s in all"
