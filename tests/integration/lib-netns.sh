# Sourced after lib.sh, lib-recovery.sh and lib-nspawn.sh by the tests across network
# namespaces: the recovery machine behind a NAT router, the relay and a
# workstation elsewhere on "the Internet", a second workstation on the
# machine's LAN. The machine's namespace is where systemd-nspawn boots the
# container with the real units.
#
#   ws     198.18.0.3 ─┐                          ┌─ machine 192.168.77.2
#   relay  198.18.0.2 ─┼─ wan0 198.18.0.1 ROUTER  │    (the container)
#                      │        192.168.77.1 lan0 ┼─ lanws   192.168.77.3
#           switch "inet"                          switch "lan"
#
# The router masquerades what leaves the LAN and forwards nothing else
# (policy drop): nothing outside can dial in, even with a route to the LAN.
# The switches are bridges in namespaces of their own with no rules (with
# br_netfilter loaded, a bridge in the router's namespace would put the LAN's
# own traffic through the router's forward chain).
#
# Every namespace is private to the test, so the fixed addresses and ports
# below collide with nothing; the namespaces' names carry the test's pid.

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
need ip nft twist3 timeout

NS_PREFIX="kn$$"
NS_INET="$NS_PREFIX-inet" NS_LAN="$NS_PREFIX-lan" NS_ROUTER="$NS_PREFIX-router"
NS_MACHINE="$NS_PREFIX-machine" NS_RELAY="$NS_PREFIX-relay" NS_WS="$NS_PREFIX-ws" NS_LANWS="$NS_PREFIX-lanws"
ROUTER_WAN_IP=198.18.0.1 RELAY_IP=198.18.0.2 WS_IP=198.18.0.3
ROUTER_LAN_IP=192.168.77.1 MACHINE_IP=192.168.77.2 LANWS_IP=192.168.77.3
RELAY_PORT=4001
RELAY="tcp:$RELAY_IP:$RELAY_PORT"
TUNNEL_PORT=7140 # the units' default
BRIDGE="$builddir/kairos-bridge"
BRIDGE_PORT=2200 # the bridge's default, on each workstation's own loopback

# CMD in namespace NS; nothing a test runs there may hang it for ever.
in_ns() { # NS CMD...
	local ns=$1
	shift
	timeout 120 ip netns exec "$ns" "$@"
}

netns_delete_all() {
	for ns in $NS_WS $NS_LANWS $NS_RELAY $NS_MACHINE $NS_ROUTER $NS_LAN $NS_INET; do
		ip netns del "$ns" 2>/dev/null || true
	done
}

# A port of a switch into NS, named IFNAME there, with ADDR/24.
netns_plug() { # SWITCH NS IFNAME ADDR
	local sw=$1 ns=$2 ifname=$3 addr=$4 port
	port="p$(ip -n "$sw" -o link show | wc -l)"
	ip -n "$sw" link add "$port" type veth peer name "$ifname" netns "$ns" || fail "cannot plug $ns into $sw"
	ip -n "$sw" link set "$port" master br0 up
	ip -n "$ns" addr add "$addr/24" dev "$ifname"
	ip -n "$ns" link set "$ifname" up
}

# netns_topology: builds the picture above; deleted at the end of the test.
netns_topology() {
	local ns
	at_cleanup netns_delete_all
	for ns in $NS_INET $NS_LAN $NS_ROUTER $NS_MACHINE $NS_RELAY $NS_WS $NS_LANWS; do
		ip netns add "$ns" || fail "cannot create network namespace $ns"
		ip -n "$ns" link set lo up
	done
	for ns in $NS_INET $NS_LAN; do
		ip -n "$ns" link add br0 type bridge && ip -n "$ns" link set br0 up || fail "cannot create a bridge in $ns"
	done
	netns_plug "$NS_INET" "$NS_ROUTER" wan0 "$ROUTER_WAN_IP"
	netns_plug "$NS_INET" "$NS_RELAY" eth0 "$RELAY_IP"
	netns_plug "$NS_INET" "$NS_WS" eth0 "$WS_IP"
	netns_plug "$NS_LAN" "$NS_ROUTER" lan0 "$ROUTER_LAN_IP"
	netns_plug "$NS_LAN" "$NS_MACHINE" eth0 "$MACHINE_IP"
	netns_plug "$NS_LAN" "$NS_LANWS" eth0 "$LANWS_IP"
	ip -n "$NS_MACHINE" route add default via "$ROUTER_LAN_IP"
	ip -n "$NS_LANWS" route add default via "$ROUTER_LAN_IP"
	# The outside workstation even knows the way to the LAN: only the
	# router's rules keep it out.
	ip -n "$NS_WS" route add 192.168.77.0/24 via "$ROUTER_WAN_IP"
	in_ns "$NS_ROUTER" sysctl -q -w net.ipv4.ip_forward=1
	in_ns "$NS_ROUTER" nft -f - <<'NFT' || fail "cannot load the router's nftables rules"
table ip kairos_nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade
	}
}
table ip kairos_filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" oifname "wan0" accept
	}
}
NFT
}

# Whether NS can open a TCP connection to ADDR:PORT within SECONDS.
netns_can_connect() { # NS ADDR PORT SECONDS
	in_ns "$1" timeout "$4" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null
}

netns_wait_port() { # NS ADDR PORT SECONDS
	wait_until "$4" "$2:$3 to listen in $1" netns_can_connect "$1" "$2" "$3" 2 ||
		fail "nothing listens on $2:$3 in $1 after $4 s"
}

# The real transit relay in its namespace, on the "Internet".
netns_start_relay() {
	bg ip netns exec "$NS_RELAY" twist3 transitrelay --port="tcp:$RELAY_PORT:interface=$RELAY_IP" >"$WORK/relay.log" 2>&1
	RELAY_PID=$LAST_PID
	netns_wait_port "$NS_RELAY" "$RELAY_IP" "$RELAY_PORT" 60
}

# The daemon's status line (what systemctl status shows).
machine_status() {
	nspawn_run systemctl show -p StatusText --value kairos-recovery
}

status_matches() { # PATTERN
	# shellcheck disable=SC2254
	case "$(machine_status)" in $1) true ;; *) false ;; esac
}

wait_status() { # PATTERN SECONDS: until the status line matches (case pattern)
	wait_until "$2" "the status line '$1'" status_matches "$1" ||
		fail "the status line did not become '$1' within $2 s: '$(machine_status)'; the daemon's journal ends: $(machine_journal | tail -n 8)"
}

# The journal of the daemon in the container, as text.
machine_journal() {
	nspawn_run journalctl -u kairos-recovery --no-pager -o cat
}

# Until PATTERN has appeared COUNT times in the daemon's journal.
journal_count_reached() { # PATTERN COUNT
	[ "$(machine_journal | grep -c -- "$1")" -ge "$2" ]
}

wait_journal_count() { # PATTERN COUNT SECONDS
	wait_until "$3" "\"$1\" x$2 in the daemon's journal" journal_count_reached "$1" "$2" ||
		fail "\"$1\" did not appear $2 time(s) in the daemon's journal within $3 s; it ends: $(machine_journal | tail -n 8)"
}

# The daemon's qr.png, as a photo of the screen would carry it, in FILE.
fetch_qr() { # FILE
	nspawn_run cat /run/kairos-recovery/qr.png >"$1" || fail "cannot read qr.png in the container"
}

# netns_boot_machine: installs kairos, boots the container in the machine's
# namespace with the real units and the relay in recovery.conf, starts
# kairos-recovery.target and waits until the daemon waits at the relay.
# Sets PASSWORD, MACHINE_HOSTNAME and fetches $WORK/qr.png.
netns_boot_machine() {
	need systemd-nspawn
	nspawn_install_kairos
	printf '[Recovery]\nRelay=%s\nConsole=null\nHostKey=\n' "$RELAY" >"$WORK/etc-kairos/recovery.conf"
	nspawn_boot "$NS_PREFIX" --network-namespace-path="/run/netns/$NS_MACHINE" "${NSPAWN_BINDS[@]}"
	nspawn_run systemctl start kairos-recovery.target ||
		fail "systemctl start kairos-recovery.target failed: $(nspawn_run journalctl -u kairos-recovery -n 20 --no-pager)"
	wait_status "Waiting for bridge · relay $RELAY connected · 0 sessions" 60
	PASSWORD=$(nspawn_run "$KAIROS_RECOVERY" show | sed -n 's/^Password: *//p')
	[ -n "$PASSWORD" ] || fail "kairos-recovery show printed no password in the container"
	MACHINE_HOSTNAME=$(nspawn_run hostname)
	fetch_qr "$WORK/qr.png"
}

# start_bridge_in NS LOG [ARGS]: kairos-bridge on a workstation, reading the
# daemon's qr.png; returns once it says "reachable". Sets BRIDGE_PID and
# SSH_OPTS (the options of the ssh command it printed, for scp, sftp and
# rsync too).
start_bridge_in() {
	local ns=$1 log=$2
	shift 2
	export XDG_RUNTIME_DIR="$WORK/xdg-$ns"
	mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
	bg ip netns exec "$ns" "$BRIDGE" --qr-code-image "$WORK/qr.png" --timeout 60 "$@" >"$log" 2>&1
	BRIDGE_PID=$LAST_PID
	wait_log "$log" "SSH server reachable at" 70
	SSH_CMD=$(printed_ssh_command "$log")
	case "$SSH_CMD" in
	"ssh -p $BRIDGE_PORT -o HostKeyAlias=kairos-"*" -o UserKnownHostsFile=$XDG_RUNTIME_DIR/kairos-bridge/known_hosts root@127.0.0.1") ;;
	*) fail "unexpected ssh command printed by the bridge: '$SSH_CMD'" ;;
	esac
	SSH_OPTS=${SSH_CMD#ssh -p "$BRIDGE_PORT" }
	SSH_OPTS=${SSH_OPTS% root@127.0.0.1}
}

stop_bridge() {
	kill -TERM "$BRIDGE_PID" 2>/dev/null || true
	wait "$BRIDGE_PID" 2>/dev/null || true
}

# The printed command on workstation NS, with the password by sshpass and
# OpenSSH's default host-key checking (nothing added).
ws_ssh() { # NS REMOTE-COMMAND
	# shellcheck disable=SC2086
	in_ns "$1" sshpass -p "$PASSWORD" $SSH_CMD -o ConnectTimeout=30 "$2"
}

