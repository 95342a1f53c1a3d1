#!/bin/bash
# The proof: a real kernel boots a real initramfs with the kairos dracut
# module under qemu (TCG), with the kernel command line of the GRUB entry
# that grub-mkconfig made from the installed script, and a relay on this
# host's loopback (the guest reaches it as 10.0.2.2).
#  1. With a network: the QR code and the password appear on the serial
#     console; the QR code, drawn from that log as a console draws it and
#     read by zbarimg, gets kairos-bridge through the forwarded tunnel port
#     (--direct) and then through the relay only; both times
#     `ssh 'cat /proc/cmdline; systemctl is-active kairos-recovery'` says the
#     recovery command line and "active". `reboot` in the session ends qemu.
#  2. Without any network: the QR code and the password still appear, and
#     the screen says there is no address and no relay connected.
#  3. The same with systemd-networkd instead of network-legacy (dracut's
#     choice on Debian 12): the address and the relay connection appear, and
#     the QR code holds the address.
#  4. A static address (ip= from /etc/default/kairos-recovery through the
#     GRUB entry), with systemd-networkd and with network-legacy: the address
#     and the relay connection appear.
# In 1, the local root shell on tty2 is active too.
# Slow by nature (several minutes on two loaded cores): `make check-boot`.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/lib-recovery.sh"
. "$(dirname "$0")/lib-boot.sh"
need qemu-system-x86_64 zbarimg python3 grub-mkconfig unshare ssh sshpass

BRIDGE="$builddir/kairos-bridge"
H2P="$builddir/tests/tools/halfblock-to-png"
FRAME="$srcdir/tests/boot/screen-frame.py"
[ -x "$H2P" ] || fail "$H2P is not built (make check builds it)"
export XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
T0=$(date +%s)
elapsed() { echo $(($(date +%s) - ${1:-$T0})); }

# On failure: what the console said besides the QR code, and the last screen.
boot_fail() {
	if [ -n "${SERIAL:-}" ] && [ -f "$SERIAL" ]; then
		echo "--- the serial console ($(basename "$SERIAL")), without the QR rows, last 40 lines:" >&2
		grep -av '[█▀▄]' "$SERIAL" | tail -n 40 >&2
		echo "--- the last screen:" >&2
		python3 "$FRAME" "$SERIAL" >&2 || echo "(none complete)" >&2
	fi
	fail "$@"
}

stage_install
dracut_tree
shared_initramfs "$WORK/initrd.img" network-legacy kairos-recovery
echo "# initramfs with the module (network-legacy) ready in $(elapsed) s ($(($(stat -L -c %s "$WORK/initrd.img") / 1024)) KiB)"

start_relay
grub_mkconfig grub "kairos.recovery.relay=tcp:10.0.2.2:$RELAY_PORT" 'GRUB_CMDLINE_LINUX="console=ttyS0,115200"'
linux=$(grep -P '^\tlinux\t' "$GRUB_CFG") || fail "the GRUB entry has no linux line: $(cat "$GRUB_CFG")"
CMDLINE=$(echo "$linux" | cut -f 3 | cut -d' ' -f 2-)
case " $CMDLINE " in *" rd.kairos.recovery "*" kairos.recovery.relay=tcp:10.0.2.2:$RELAY_PORT "*) ;;
*) fail "unexpected command line from the GRUB entry: $CMDLINE" ;; esac
echo "# kernel command line from the GRUB entry: $CMDLINE"

boot() { # NAME INITRD QEMU-NETWORK-OPTIONS...
	local name=$1 initrd=$2
	shift 2
	SERIAL="$WORK/serial-$name.txt"
	: >"$SERIAL"
	BOOT_T0=$(date +%s)
	bg qemu-system-x86_64 -accel tcg -display none -monitor none -serial "file:$SERIAL" -no-reboot \
		-m 1024 -smp 1 -kernel "$KERNEL" -initrd "$initrd" -append "$CMDLINE" "$@" >"$WORK/qemu-$name.out" 2>&1
	QEMU_PID=$LAST_PID
}

# Until the last complete screen matches PATTERN (grep -E); SECONDS bound.
screen_shows() { # PATTERN WHAT
	kill -0 "$QEMU_PID" 2>/dev/null || boot_fail "qemu ended while waiting for $2: $(tail -n 3 "$WORK"/qemu-*.out)"
	python3 "$FRAME" "$SERIAL" >"$WORK/screen.txt" 2>/dev/null && grep -qE -- "$1" "$WORK/screen.txt"
}
wait_screen() { # PATTERN SECONDS WHAT
	wait_until "$2" "$3 on the serial console" screen_shows "$1" "$3" || boot_fail "no $3 on the serial console within $2 s"
}

# The QR code of a recent complete screen, as a picture, read by zbarimg.
read_qr() { # PNG -> prints the token
	local n
	for n in 1 2 3; do
		python3 "$FRAME" "$SERIAL" "$n" >"$WORK/frame.txt" || continue
		"$H2P" "$WORK/frame.txt" "$1" || fail "halfblock-to-png failed"
		if zbarimg --nodbus --raw -q -Sdisable -Sqrcode.enable "$1" 2>>"$WORK/zbar.txt"; then
			return 0
		fi
	done
	boot_fail "zbarimg read no QR code from the last three screens on the serial console"
}

# --- 1. with a network --------------------------------------------------
FWD=$(free_port)
boot net "$WORK/initrd.img" -nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$FWD-:7140"
wait_screen 'Password  [a-z0-9]{4}-' 300 "QR code and password"
echo "# with network: QR code and password on the serial console $(elapsed "$BOOT_T0") s after qemu started"
wait_screen 'Address   10\.0\.2\.15:7140' 300 "DHCP address 10.0.2.15 on the screen"
wait_screen 'Relay     1 of 1 relay connected' 120 "relay connection on the screen"
echo "# with network: address and relay on the screen after $(elapsed "$BOOT_T0") s"
screen_password=$(sed -n 's/.*Password  \([a-z0-9-]*\).*/\1/p' "$WORK/screen.txt" | head -n 1)
token=$(read_qr "$WORK/qr-net.png")
echo "$token" >"$WORK/token-net"
"$BRIDGE" --show-token --token-file "$WORK/token-net" >"$WORK/show-token.txt" 2>&1 || fail "kairos-bridge --show-token rejects the QR code's token: $(cat "$WORK/show-token.txt")"
grep -q "^address: *10.0.2.15:7140" "$WORK/show-token.txt" || fail "the QR code's token does not hold the guest's address: $(cat "$WORK/show-token.txt")"
grep -q "tcp:10.0.2.2:$RELAY_PORT" "$WORK/show-token.txt" || fail "the QR code's token does not name the relay: $(cat "$WORK/show-token.txt")"

# ssh_check LOG: the printed command, the password, the command line, active.
ssh_check() {
	local log=$1 pw cmd out
	pw=$(sed -n 's/.*SSH access password is //p' "$log")
	grep -q "Recovery machine $(hostname)" "$log" || fail "the bridge does not name the machine $(hostname) (the initramfs has its /etc/hostname): $(grep 'Recovery machine' "$log")"
	[ "$pw" = "$screen_password" ] || fail "the bridge says password '$pw', the console shows '$screen_password'"
	cmd=$(printed_ssh_command "$log")
	[ -n "$cmd" ] || fail "the bridge printed no ssh command"
	# shellcheck disable=SC2086
	out=$(sshpass -p "$pw" $cmd -o StrictHostKeyChecking=yes -o ConnectTimeout=120 \
		'cat /proc/cmdline; systemctl is-active kairos-recovery; systemctl is-active kairos-recovery-shell@tty2;
		 systemctl is-active kairos-recovery.target; systemctl list-jobs --no-legend | tr "\n" ";"; echo' 2>"$WORK/ssh.err") ||
		boot_fail "ssh through the bridge failed: $(cat "$WORK/ssh.err")"
	[ "$(echo "$out" | sed -n 1p)" = "$CMDLINE" ] || fail "the guest's /proc/cmdline is '$(echo "$out" | sed -n 1p)', the GRUB entry's '$CMDLINE'"
	[ "$(echo "$out" | sed -n 2p)" = active ] || fail "systemctl is-active kairos-recovery said '$(echo "$out" | sed -n 2p)'"
	[ "$(echo "$out" | sed -n 3p)" = active ] || fail "the local shell on tty2 is '$(echo "$out" | sed -n 3p)', not active"
	# The boot is done: nothing of the initramfs' own boot (the root file
	# system it never mounts) holds the target back.
	[ "$(echo "$out" | sed -n 4p)" = active ] ||
		fail "kairos-recovery.target is '$(echo "$out" | sed -n 4p)', not active; jobs: $(echo "$out" | sed -n 5p)"
}

start_boot_bridge() { # LOG ARGS...
	local log=$1
	shift
	LISTEN_PORT=$(free_port)
	bg "$BRIDGE" --qr-code-image "$WORK/qr-net.png" --listen "127.0.0.1:$LISTEN_PORT" --timeout 240 "$@" >"$log" 2>&1
	BRIDGE_PID=$LAST_PID
	wait_log "$log" "SSH server reachable at" 300
}

t=$(date +%s)
start_boot_bridge "$WORK/bridge-direct.log" --direct "127.0.0.1:$FWD" --direct-only
grep -q "via direct 127.0.0.1:$FWD" "$WORK/bridge-direct.log" || fail "the bridge did not use the forwarded port: $(grep reachable "$WORK/bridge-direct.log")"
ssh_check "$WORK/bridge-direct.log"
echo "# direct (forwarded port): reachable and ssh done in $(elapsed "$t") s"
kill -TERM "$BRIDGE_PID"
wait "$BRIDGE_PID" 2>/dev/null || true

t=$(date +%s)
# The token names the relay as the guest sees it (10.0.2.2); this host
# reaches the same relay on its loopback.
start_boot_bridge "$WORK/bridge-relay.log" --relay-only --relay "tcp:127.0.0.1:$RELAY_PORT"
grep -q "via relay" "$WORK/bridge-relay.log" || fail "the bridge did not go through the relay: $(grep reachable "$WORK/bridge-relay.log")"
ssh_check "$WORK/bridge-relay.log"
echo "# relay only: reachable and ssh done in $(elapsed "$t") s"

# reboot from the session ends the qemu run (-no-reboot).
t=$(date +%s)
pw=$(sed -n 's/.*SSH access password is //p' "$WORK/bridge-relay.log")
cmd=$(printed_ssh_command "$WORK/bridge-relay.log")
# shellcheck disable=SC2086
sshpass -p "$pw" $cmd -o StrictHostKeyChecking=yes -o ConnectTimeout=120 reboot >"$WORK/reboot.out" 2>&1 || true
qemu_ended() { ! kill -0 "$QEMU_PID" 2>/dev/null; }
wait_until 120 "qemu to end after 'reboot'" qemu_ended || boot_fail "qemu still runs 120 s after 'reboot' in the session: $(cat "$WORK/reboot.out")"
echo "# reboot from the session ended qemu after $(elapsed "$t") s; first boot took $(elapsed "$BOOT_T0") s in all"
kill -TERM "$BRIDGE_PID" 2>/dev/null || true
wait "$BRIDGE_PID" 2>/dev/null || true

# --- 2. without any network ---------------------------------------------
boot nonet "$WORK/initrd.img" -nic none
wait_screen 'Password  [a-z0-9]{4}-' 300 "QR code and password (no network)"
echo "# without network: QR code and password $(elapsed "$BOOT_T0") s after qemu started"
# Give the daemon time to try the relay (it cannot reach it): the screen
# must still say no address and no relay.
sleep 20
wait_screen 'Address   none yet' 60 "'no address' on the screen"
grep -q 'Relay     0 of 1 relay connected' "$WORK/screen.txt" || boot_fail "the screen does not say that no relay is connected: $(grep Relay "$WORK/screen.txt")"
token=$(read_qr "$WORK/qr-nonet.png")
echo "$token" >"$WORK/token-nonet"
"$BRIDGE" --show-token --token-file "$WORK/token-nonet" >"$WORK/show-token-nonet.txt" 2>&1 || fail "kairos-bridge --show-token rejects the token without network: $(cat "$WORK/show-token-nonet.txt")"
grep -q "^addresses: none" "$WORK/show-token-nonet.txt" || fail "the token should hold no address without any network: $(cat "$WORK/show-token-nonet.txt")"
grep -q "Password  [a-z0-9]" "$WORK/screen.txt" || fail "no password on the screen without network"
kill "$QEMU_PID"

# --- 3. systemd-networkd ------------------------------------------------
t=$(date +%s)
build_initramfs "$WORK/initrd-networkd.img" systemd-networkd kairos-recovery
echo "# initramfs with systemd-networkd built in $(elapsed "$t") s"
boot networkd "$WORK/initrd-networkd.img" -nic "user,model=virtio-net-pci"
wait_screen 'Address   10\.0\.2\.15:7140' 300 "DHCP address 10.0.2.15 through systemd-networkd"
wait_screen 'Relay     1 of 1 relay connected' 120 "relay connection (systemd-networkd)"
token=$(read_qr "$WORK/qr-networkd.png")
echo "$token" >"$WORK/token-networkd"
"$BRIDGE" --show-token --token-file "$WORK/token-networkd" >"$WORK/show-token-networkd.txt" 2>&1 || fail "kairos-bridge --show-token rejects the token (systemd-networkd): $(cat "$WORK/show-token-networkd.txt")"
grep -q "^address: *10.0.2.15:7140" "$WORK/show-token-networkd.txt" || fail "the QR code's token does not hold the address (systemd-networkd): $(cat "$WORK/show-token-networkd.txt")"
echo "# systemd-networkd: address and relay on the screen $(elapsed "$BOOT_T0") s after qemu started"
kill "$QEMU_PID"

# --- 4. a static address ------------------------------------------------
# From /etc/default/kairos-recovery through the GRUB entry: ip= in the
# kernel's syntax, on the NIC named by its MAC address; QEMU's user network
# takes any address in 10.0.2.0/24 (its DHCP would give 10.0.2.15).
grub_mkconfig static "kairos.recovery.relay=tcp:10.0.2.2:$RELAY_PORT ifname=kairos0:52:54:00:12:34:77
ip=10.0.2.77::10.0.2.2:255.255.255.0:rescue:kairos0:none" 'GRUB_CMDLINE_LINUX="console=ttyS0,115200"'
linux=$(grep -P '^\tlinux\t' "$GRUB_CFG") || fail "the GRUB entry has no linux line: $(cat "$GRUB_CFG")"
CMDLINE=$(echo "$linux" | cut -f 3 | cut -d' ' -f 2-)
case " $CMDLINE " in *" ip=dhcp "*) fail "ip=dhcp beside the static address: $CMDLINE" ;; esac
for img in networkd:"$WORK/initrd-networkd.img" legacy:"$WORK/initrd.img"; do
	name=${img%%:*}
	boot "static-$name" "${img#*:}" -nic "user,model=virtio-net-pci,mac=52:54:00:12:34:77"
	wait_screen 'Address   10\.0\.2\.77:7140' 300 "the static address 10.0.2.77 ($name)"
	wait_screen 'Relay     1 of 1 relay connected' 120 "relay connection with the static address ($name)"
	echo "# static ip= ($name): address and relay on the screen $(elapsed "$BOOT_T0") s after qemu started"
	kill "$QEMU_PID"
done
pass "booted the initramfs five times under qemu in $(elapsed) s: QR → zbarimg → bridge (direct and relay) → ssh → reboot; without network; with systemd-networkd; a static ip= (networkd, legacy)"
