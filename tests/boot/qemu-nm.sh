#!/bin/bash
# Recovery from an initramfs whose network stack is dracut's network-manager
# module (dracut's choice on a machine with NetworkManager installed): a real
# kernel boots it under qemu (TCG) with the GRUB entry's command line
# (rd.neednet=1 ip=dhcp, which nm-initrd-generator turns into a connection).
#  1. The machine starts with the cable out; once NetworkManager's start has
#     finished without it, the cable is plugged in, and the recovery screen
#     on the serial console then shows the DHCP address and a relay
#     connection.
#  2. kairos-bridge reads the QR code (drawn from the serial console as a
#     console draws it) and reaches the machine through the forwarded tunnel
#     port; ssh runs a command there.
#  3. In that session: NetworkManager (nm-initrd.service) runs and holds the
#     address as its own (nmcli: the device connected, IP4.ADDRESS and the
#     DHCP lease's ip_address), no dhclient or systemd-networkd runs,
#     network-online.target was reached and /etc/resolv.conf has the DHCP
#     name server.
# One boot, a few minutes on two loaded cores: `make check-boot`.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/lib-recovery.sh"
. "$(dirname "$0")/lib-boot.sh"
need qemu-system-x86_64 zbarimg python3 grub-mkconfig unshare ssh sshpass
[ -x /usr/sbin/NetworkManager ] || skip "NetworkManager is not installed (dracut's network-manager module takes it from the host: tools/install-deps boot)"

BRIDGE="$builddir/kairos-bridge"
export XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
T0=$(date +%s)

stage_install
dracut_tree
shared_initramfs "$WORK/initrd.img" network-manager kairos-recovery
echo "# initramfs with network-manager ready after $(($(date +%s) - T0)) s"
lsinitrd "$(readlink -f "$WORK/initrd.img")" >"$WORK/initrd.list" 2>/dev/null || fail "lsinitrd cannot read the initramfs"
grep -qE 'usr/sbin/NetworkManager$' "$WORK/initrd.list" || fail "the initramfs has no NetworkManager"
grep -qE 'bin/systemd-networkd$' "$WORK/initrd.list" && fail "the initramfs has systemd-networkd besides NetworkManager"

start_relay
grub_mkconfig grub "kairos.recovery.relay=tcp:10.0.2.2:$RELAY_PORT" 'GRUB_CMDLINE_LINUX="console=ttyS0,115200"'
CMDLINE=$(grub_entry_cmdline)
case " $CMDLINE " in *" rd.kairos.recovery "*" rd.neednet=1 ip=dhcp "*) ;;
*) fail "unexpected command line from the GRUB entry: $CMDLINE" ;; esac

# The cable is out at first (qemu's set_link, at once, long before the
# guest's kernel has its NIC): NetworkManager's start finishes without it
# (systemd's status lines on the console say when), and only then is it
# plugged in.
FWD=$(free_port)
MON="$WORK/monitor.sock"
qemu_boot nm "$WORK/initrd.img" "$CMDLINE systemd.show_status=1" \
	-netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$FWD-:7140" -device virtio-net-pci,netdev=net0 \
	-monitor "unix:$MON,server=on,wait=off"
qemu_monitor "$MON" "set_link net0 off"
wait_serial_screen 'Password  [a-z0-9]{4}-' 300 "QR code and password"
echo "# QR code and password on the serial console $(since_boot) s after qemu started"
wait_serial 'Finished .*nm-wait-online-initrd' 300 "NetworkManager's start finished (no cable)"
serial_screen_shows 'Address   none yet' "no address" || serial_fail "an address before the cable was plugged in: $(grep Address "$WORK/screen.txt")"
echo "# NetworkManager's start finished without a cable $(since_boot) s after qemu started; plugging it in"
qemu_monitor "$MON" "set_link net0 on"
wait_serial_screen 'Address   10\.0\.2\.15:7140' 300 "the DHCP address 10.0.2.15 (NetworkManager)"
wait_serial_screen 'Relay     1 of 1 relay connected' 120 "relay connection (NetworkManager)"
echo "# address and relay on the screen $(since_boot) s after qemu started"

serial_qr_png "$WORK/qr.png"
LISTEN_PORT=$(free_port)
bg "$BRIDGE" --qr-code-image "$WORK/qr.png" --direct "127.0.0.1:$FWD" --direct-only \
	--listen "127.0.0.1:$LISTEN_PORT" --timeout 240 >"$WORK/bridge.log" 2>&1
BRIDGE_PID=$LAST_PID
wait_log "$WORK/bridge.log" "SSH server reachable at" 300
pw=$(sed -n 's/.*SSH access password is //p' "$WORK/bridge.log")
cmd=$(printed_ssh_command "$WORK/bridge.log")
[ -n "$pw" ] && [ -n "$cmd" ] || fail "the bridge printed no password or ssh command: $(cat "$WORK/bridge.log")"

# What the machine says about its network, one line each, in the session
# (the initramfs has sed and grep, but no head).
# shellcheck disable=SC2016,SC2086
out=$(sshpass -p "$pw" $cmd -o StrictHostKeyChecking=yes -o ConnectTimeout=120 '
	dev=$(nmcli -t -f DEVICE,TYPE device | sed -n "s/:ethernet$//p" | sed -n 1p)
	echo "service=$(systemctl is-active nm-initrd.service)"
	echo "online=$(systemctl is-active network-online.target)"
	echo "device=$(nmcli -t -f DEVICE,TYPE,STATE device | grep ":ethernet:" | sed -n 1p)"
	echo "address=$(nmcli -g IP4.ADDRESS device show "$dev")"
	echo "lease=$(nmcli -g DHCP4.OPTION device show "$dev" | sed -e "s/ | /\n/g" | sed -n "s/^ *ip_address *= *//p")"
	echo "others=$(pgrep -x "dhclient|systemd-networkd|dhcpcd" | sed -n 1p)"
	echo "resolv=$(grep -m1 "^nameserver" /etc/resolv.conf)"
	echo "initramfs=$(test -e /etc/initrd-release && echo yes)"
	echo "first=$(journalctl -b -o cat -u nm-initrd.service | grep -o -e "startup complete" -e "carrier: link connected" | sed -n 1p)"
' 2>"$WORK/ssh.err") || serial_fail "ssh through the bridge failed: $(cat "$WORK/ssh.err")"
echo "$out" >"$WORK/guest-network.txt"
val() { sed -n "s/^$1=//p" "$WORK/guest-network.txt"; }
[ "$(val initramfs)" = yes ] || fail "the session is not in the initramfs: $out"
[ "$(val service)" = active ] || fail "nm-initrd.service (NetworkManager) is '$(val service)' in recovery: $out"
case "$(val device)" in *:ethernet:connected) ;; *) fail "nmcli does not list a connected ethernet device: $out" ;; esac
[ "$(val address)" = 10.0.2.15/24 ] || fail "NetworkManager's IP4.ADDRESS is '$(val address)', not 10.0.2.15/24: $out"
[ "$(val lease)" = 10.0.2.15 ] || fail "NetworkManager's DHCP lease says '$(val lease)', not 10.0.2.15: $out"
[ -z "$(val others)" ] || fail "another network client runs beside NetworkManager (pid $(val others)): $out"
[ "$(val online)" = active ] || fail "network-online.target is '$(val online)' with NetworkManager: $out"
[ "$(val first)" = "startup complete" ] || fail "NetworkManager saw the cable before its start finished ('$(val first)' first): the test did not pull it"
[ "$(val resolv)" = "nameserver 10.0.2.3" ] || fail "/etc/resolv.conf lacks the DHCP name server 10.0.2.3: '$(val resolv)'"
echo "# ssh through the bridge ran a command $(since_boot) s after qemu started: $(val device), $(val address)"

kill -TERM "$BRIDGE_PID" 2>/dev/null || true
kill "$QEMU_PID"
pass "network-manager in the initramfs: address and relay on the screen, QR → bridge → ssh; NetworkManager holds the DHCP address, network-online reached ($(($(date +%s) - T0)) s)"
