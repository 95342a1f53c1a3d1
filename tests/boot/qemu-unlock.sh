#!/bin/bash
# Unlock mode, the proof (issue 17): a real kernel under qemu (TCG) whose
# root is a LUKS2 volume, and an initramfs made by dracut with its crypt
# module and kairos. The real root is a small systemd system (the same
# initramfs' files, booted as a normal system) with a unit that writes
# markers to the serial console and reboots (ending qemu). One image, two boots:
#  1. Unlock=yes in /etc/kairos/recovery.conf (copied into the initramfs):
#     while systemd-cryptsetup asks for the passphrase, the QR code appears
#     on the serial console; the bridge reads it from there (zbarimg), a
#     login shell's banner names kairos-unlock, and `ssh ... kairos-unlock`
#     gives a wrong passphrase (reported: asked again), then the right one
#     ("Unlocked"); a second session, open meanwhile, is told that the
#     initramfs ends and closes; the guest boots into its real root, where
#     kairos-recovery is inactive, no kairos process runs, the token's
#     directory is gone, no global address is left on the interfaces, and
#     the journal keeps "unlocked by a kairos session from direct ...".
#  2. kairos.recovery.unlock on the kernel command line instead (the file
#     without Unlock=): kairos-unlock waits for a passphrase in the session
#     while the right one is typed at the serial console: kairos-unlock says
#     the request was answered elsewhere (exit 75), and the guest boots on.
# Prints the benchmark: from the passphrase prompt to the QR code on the
# serial console (host clock, TCG).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/lib-recovery.sh"
. "$(dirname "$0")/lib-boot.sh"
need qemu-system-x86_64 ssh sshpass cpio zstd cryptsetup mkfs.ext4 zbarimg python3

BRIDGE="$builddir/kairos-bridge"
export XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
T0=$(date +%s)
RIGHT="open-$RANDOM-sesame-$RANDOM"
WRONG="not-$RANDOM-it"
UNLOCKED_ID=$(sed -n 's/^#define MESSAGE_ID_UNLOCKED "\(.*\)"/\1/p' "$srcdir/src/shared/log.h")

boot_fail() {
	if [ -n "${SERIAL:-}" ] && [ -f "$SERIAL" ]; then
		echo "--- the serial console ($(basename "$SERIAL")), without the QR rows, last 40 lines:" >&2
		grep -av '[█▀▄]' "$SERIAL" | tail -n 40 >&2
	fi
	fail "$@"
}

stage_install
dracut_tree
DRACUT_EXTRA_ARGS="--add-drivers=ext4" build_initramfs "$WORK/base.img" network-legacy crypt kairos-recovery
echo "# initramfs (network-legacy, crypt, kairos) built in $(($(date +%s) - T0)) s ($(($(stat -L -c %s "$WORK/base.img") / 1024)) KiB)"

# The real root: the initramfs' own files booted as a normal system
# (systemd.unit= counts only there; rd.systemd.unit= would be the initrd's).
ROOT="$WORK/root"
initramfs_tree "$WORK/base.img" "$ROOT"
rm -f "$ROOT/etc/initrd-release" "$ROOT/usr/lib/initrd-release" "$ROOT/etc/os-release"
printf 'ID=kairos-test\nNAME="kairos test root"\n' >"$ROOT/usr/lib/os-release"
cp "$ROOT/usr/lib/os-release" "$ROOT/etc/os-release"
mkdir -p "$ROOT/etc/systemd/system"
cat >"$ROOT/etc/systemd/system/kairos-marker.target" <<'UNIT'
[Unit]
Description=kairos test: the real root
Wants=kairos-marker.service
UNIT
cat >"$ROOT/etc/systemd/system/kairos-marker.service" <<'UNIT'
[Unit]
Description=kairos test: markers on the serial console
DefaultDependencies=no
After=systemd-journald.service
[Service]
Type=oneshot
ExecStart=/bin/sh /etc/kairos-marker.sh
UNIT
cat >"$ROOT/etc/kairos-marker.sh" <<SCRIPT
exec >/dev/console 2>&1
echo "KAIROS-MARKER real root reached"
[ -e /etc/initrd-release ] && echo "KAIROS-MARKER initrd-release present"
echo "KAIROS-MARKER kairos-recovery \$(systemctl is-active kairos-recovery.service kairos-recovery.socket kairos-unlock.path | tr '\n' ' ')"
n=0
for f in /proc/[0-9]*/comm; do
	read -r c <"\$f" 2>/dev/null || continue
	case "\$c" in kairos*) n=\$((n + 1)) ;; esac
done
echo "KAIROS-MARKER kairos processes \$n"
echo "KAIROS-MARKER runtime directory \$([ -e /run/kairos-recovery ] && echo present || echo absent)"
echo "KAIROS-MARKER addresses [\$(ip -4 -o addr show scope global | sed 's/.* inet \([^ ]*\).*/\1/' | tr '\n' ' ')]"
journalctl -b -q --no-pager -o cat MESSAGE_ID=$UNLOCKED_ID | sed 's/^/KAIROS-MARKER journal: /'
echo "KAIROS-MARKER done"
# qemu runs with -no-reboot: a reboot ends it. (SuccessAction=poweroff-immediate
# left qemu running: no power-off happened in 60 s.)
systemctl reboot --force --force
SCRIPT
luks_root_image "$WORK/root.img" "$ROOT" "$RIGHT"
echo "# LUKS2 root image ($(($(stat -c %s "$WORK/root.img") / 1048576)) MiB, UUID $LUKS_UUID) ready after $(($(date +%s) - T0)) s"

# No relay (never a public one): the bridge takes the forwarded port.
mkdir -p "$WORK/extra1/etc/kairos" "$WORK/extra2/etc/kairos"
printf '[Recovery]\nRelay=\nUnlock=yes\n' >"$WORK/extra1/etc/kairos/recovery.conf"
printf '[Recovery]\nRelay=\n' >"$WORK/extra2/etc/kairos/recovery.conf"
initramfs_with_files "$WORK/base.img" "$WORK/extra1" "$WORK/initrd1.img"
initramfs_with_files "$WORK/base.img" "$WORK/extra2" "$WORK/initrd2.img"
CMDLINE="console=ttyS0,115200 rd.luks.uuid=$LUKS_UUID root=/dev/mapper/luks-$LUKS_UUID ro rd.neednet=1 ip=dhcp rd.retry=900 systemd.unit=kairos-marker.target"
UNLOCK="$PREFIX/sbin/kairos-unlock"

# boot NAME INITRD EXTRA-CMDLINE: until the QR code is read and the bridge
# reaches the machine; sets PW, SSH_CMD, T_PROMPT, T_QR.
boot() {
	FWD=$(free_port)
	qemu_boot_console "$1" "$2" "$CMDLINE $3" -drive "file=$WORK/root.img,format=raw,if=virtio" \
		-nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$FWD-:7140"
	wait_serial 'Please enter passphrase for disk' 600 "the passphrase prompt"
	T_PROMPT=$(date +%s.%N)
	wait_until 300 "a complete QR code on the serial console" python3 "$srcdir/tests/boot/screen-frame.py" "$SERIAL" ||
		boot_fail "no QR code on the serial console within 300 s of the passphrase prompt"
	T_QR=$(date +%s.%N)
	echo "# $1: passphrase prompt $(since_boot) s after qemu started; benchmark: prompt to QR code on the serial console $(python3 -c "print(f'{$T_QR - $T_PROMPT:.1f}')") s"
	serial_qr "$WORK/qr-$1.png" >"$WORK/token-$1"
	LISTEN_PORT=$(free_port)
	bg "$BRIDGE" --token-file "$WORK/token-$1" --direct "127.0.0.1:$FWD" --direct-only \
		--listen "127.0.0.1:$LISTEN_PORT" --timeout 300 >"$WORK/bridge-$1.log" 2>&1
	BRIDGE_PID=$LAST_PID
	wait_log "$WORK/bridge-$1.log" "SSH server reachable at" 320
	PW=$(sed -n 's/.*SSH access password is //p' "$WORK/bridge-$1.log")
	SSH_CMD=$(printed_ssh_command "$WORK/bridge-$1.log")
	[ -n "$PW" ] && [ -n "$SSH_CMD" ] || fail "the bridge printed no password or ssh command: $(cat "$WORK/bridge-$1.log")"
}
on_guest() { # ARGS... (stdin passed on)
	# shellcheck disable=SC2086
	sshpass -p "$PW" $SSH_CMD -o StrictHostKeyChecking=yes -o ConnectTimeout=120 "$@"
}
# Until the real root's marker unit has written everything.
real_root() { # NAME
	wait_serial 'KAIROS-MARKER done' 600 "the real root's markers ($1)"
	grep -a 'KAIROS-MARKER' "$SERIAL" | tr -d '\r' >"$WORK/markers-$1.txt"
	grep -q "initrd-release present" "$WORK/markers-$1.txt" && fail "the marker ran in the initramfs, not the real root"
	grep -q "^KAIROS-MARKER kairos-recovery inactive inactive inactive" "$WORK/markers-$1.txt" ||
		fail "kairos units are not inactive in the real root: $(grep 'kairos-recovery' "$WORK/markers-$1.txt")"
	grep -qx "KAIROS-MARKER kairos processes 0" "$WORK/markers-$1.txt" ||
		fail "kairos processes run in the real root: $(grep processes "$WORK/markers-$1.txt")"
	grep -qx "KAIROS-MARKER runtime directory absent" "$WORK/markers-$1.txt" ||
		fail "/run/kairos-recovery (the token) reached the real root"
	grep -qx "KAIROS-MARKER addresses \[\]" "$WORK/markers-$1.txt" ||
		fail "the initramfs network reached the real root: $(grep addresses "$WORK/markers-$1.txt")"
	# The marker script reboots, which ends qemu; it is stopped anyway, the
	# markers said all.
	wait_until 60 "qemu to end" sh -c "! kill -0 $QEMU_PID 2>/dev/null" || kill "$QEMU_PID" 2>/dev/null || true
	wait "$QEMU_PID" 2>/dev/null || true
	kill -TERM "$BRIDGE_PID" 2>/dev/null || true
	wait "$BRIDGE_PID" 2>/dev/null || true
}

# --- 1. Unlock=yes: wrong, then right, from the session -------------------
boot unlock1 "$WORK/initrd1.img" ""
printf 'exit\n' | on_guest -tt >"$WORK/banner.out" 2>&1 || true
grep -q "A passphrase is being asked for (cryptsetup:.*): type kairos-unlock" "$WORK/banner.out" ||
	fail "the login banner does not name kairos-unlock: $(head -c 600 "$WORK/banner.out")"
on_guest "$UNLOCK --list" >"$WORK/list.out" 2>&1 || fail "kairos-unlock --list failed: $(cat "$WORK/list.out")"
grep -q "^cryptsetup:.*Please enter passphrase for disk" "$WORK/list.out" || fail "kairos-unlock --list: $(cat "$WORK/list.out")"
# A second session stays open over the unlock: it must hear that the
# initramfs ends, and close.
on_guest 'echo held; sleep 900' >"$WORK/held.out" 2>&1 &
HELD=$!
wait_log "$WORK/held.out" "^held" 120
t=$(date +%s)
rc=0
printf '%s\n%s\n' "$WRONG" "$RIGHT" | on_guest "$UNLOCK" >"$WORK/unlock1.out" 2>&1 || rc=$?
grep -q "Wrong passphrase: cryptsetup:.* asks again" "$WORK/unlock1.out" || boot_fail "the wrong passphrase was not reported (ssh $rc): $(cat "$WORK/unlock1.out")"
grep -q "^Unlocked: cryptsetup:" "$WORK/unlock1.out" || boot_fail "kairos-unlock did not say 'Unlocked' (ssh $rc): $(cat "$WORK/unlock1.out")"
echo "# wrong then right passphrase through the session: $(($(date +%s) - t)) s"
real_root unlock1
wait_until 60 "the held session to close" sh -c "! kill -0 $HELD 2>/dev/null" || fail "the session held over the unlock is still open in the real root"
wait "$HELD" 2>/dev/null || true
grep -q "kairos: the initramfs ends, the machine goes on to its real system: this session closes." "$WORK/held.out" ||
	fail "the open session was not told that the initramfs ends: $(cat "$WORK/held.out")"
grep -q "^KAIROS-MARKER journal: cryptsetup:.* unlocked by a kairos session from direct .* (kairos-unlock): the boot goes on.$" "$WORK/markers-unlock1.txt" ||
	fail "the real root's journal lacks who unlocked: $(grep journal "$WORK/markers-unlock1.txt")"
grep -aq -e "$RIGHT" -e "$WRONG" "$SERIAL" && fail "a passphrase showed on the serial console"
echo "# boot 1 (remote unlock) done in $(since_boot) s"

# --- 2. kairos.recovery.unlock: the console answers first ---------------
boot unlock2 "$WORK/initrd2.img" "kairos.recovery.unlock"
mkfifo "$WORK/in2"
exec 8<>"$WORK/in2"
on_guest "$UNLOCK" <"$WORK/in2" >"$WORK/unlock2.out" 2>&1 &
U=$!
wait_log "$WORK/unlock2.out" "Please enter passphrase" 120
console_type "$RIGHT"
rc=0
wait_until 300 "kairos-unlock to end" sh -c "! kill -0 $U 2>/dev/null" || boot_fail "kairos-unlock still waits after the console answered: $(cat "$WORK/unlock2.out")"
wait "$U" || rc=$?
exec 8>&-
[ "$rc" = 75 ] || boot_fail "kairos-unlock, answered at the console, exited $rc, not 75: $(cat "$WORK/unlock2.out")"
grep -q "was answered elsewhere (at the machine's console) before yours: nothing sent" "$WORK/unlock2.out" ||
	fail "kairos-unlock does not say the console answered: $(cat "$WORK/unlock2.out")"
real_root unlock2
grep -q "journal:" "$WORK/markers-unlock2.txt" && fail "boot 2 was unlocked at the console, yet the journal says: $(grep journal: "$WORK/markers-unlock2.txt")"
pass "LUKS2 root under qemu: QR while the passphrase is asked → bridge → ssh kairos-unlock (wrong reported, right unlocks) → real root without kairos, with the journal's record; console first → kairos-unlock sees it; $(($(date +%s) - T0)) s in all"
