# Sourced after tests/integration/lib.sh by the boot tests and
# bench/initramfs: a staged `make install`, a private copy of dracut with the
# module from that install (never the one in /usr), and initramfs images.
[ "$(id -u)" = 0 ] || skip "needs root (dracut, unshare)"
need dracut lsinitrd

# The newest kernel that has both its image and its modules.
KVER=""
for k in $(ls -v /lib/modules 2>/dev/null); do
	[ -e "/boot/vmlinuz-$k" ] && KVER=$k
done
[ -n "$KVER" ] || skip "no kernel in /boot with modules (apt-get install linux-image-amd64)"
KERNEL=/boot/vmlinuz-$KVER

# make install DESTDIR=$STAGE; sets STAGE, PREFIX (under make distcheck, a
# prefix of its own), MODULE_DIR (the installed dracut module).
stage_install() {
	STAGE="$WORK/stage"
	make -C "$builddir" install DESTDIR="$STAGE" >"$WORK/install.log" 2>&1 || fail "make install DESTDIR=$STAGE failed (see install.log)"
	local daemon setup
	daemon=$(find "$STAGE" -path '*/sbin/kairos-recovery' -type f | head -n 1)
	setup=$(find "$STAGE" -path '*/90kairos-recovery/module-setup.sh' -type f | head -n 1)
	[ -n "$daemon" ] || fail "make install did not install kairos-recovery"
	[ -n "$setup" ] || fail "make install did not install the dracut module"
	PREFIX=$(dirname "$(dirname "${daemon#"$STAGE"}")")
	MODULE_DIR=$(dirname "$setup")
}

# A copy of dracut with our module added; dracut runs from it.
dracut_tree() {
	DRACUT_BASE="$WORK/dracut"
	cp -a /usr/lib/dracut "$DRACUT_BASE" || fail "cannot copy /usr/lib/dracut"
	rm -rf "$DRACUT_BASE/modules.d/90kairos-recovery"
	cp -a "$MODULE_DIR" "$DRACUT_BASE/modules.d/90kairos-recovery"
	mkdir -p "$WORK/dracut.conf.d"
}

# A small initramfs for qemu (virtio drivers, dracut's network) with the
# given extra modules, zstd-compressed, without the host's dracut
# configuration. The network stack is among the modules given: network-legacy
# (dhclient, dracut's hooks) or systemd-networkd (dracut's own choice on a
# Debian with systemd-networkd). DRACUT_EXTRA_ARGS: more dracut options.
build_initramfs() { # OUTPUT [MODULE...]
	local out=$1
	shift
	dracutbasedir="$DRACUT_BASE" kairos_destdir="$STAGE" dracut --force --no-hostonly --no-hostonly-cmdline \
		--conf /dev/null --confdir "$WORK/dracut.conf.d" --zstd --kver "$KVER" ${DRACUT_EXTRA_ARGS:-} \
		-m "base systemd systemd-initrd dracut-systemd qemu qemu-net network $*" "$out" \
		>"$WORK/dracut-$(basename "$out").log" 2>&1 ||
		fail "dracut failed to build $(basename "$out") (see dracut-$(basename "$out").log)"
}

# grub-mkconfig with the installed 42_kairos-recovery (and 00_header) bound
# over /etc/grub.d and a copy of /etc/default, in a private mount namespace:
# nothing is written to /boot or /etc. Sets GRUB_CFG. GRUB_BOOT_DIR: see below.
#   grub_mkconfig NAME SETTINGS [LINE-FOR-/etc/default/grub...]
grub_mkconfig() {
	local name=$1 settings=$2 script
	shift 2
	script=$(find "$STAGE" -path '*/grub.d/42_kairos-recovery' | head -n 1)
	[ -x "$script" ] || fail "make install did not install an executable grub.d/42_kairos-recovery"
	mkdir -p "$WORK/$name/grub.d" "$WORK/$name/default"
	cp "$script" "$WORK/$name/grub.d/"
	# the header too, as on a real system (and so that the output is never empty)
	[ ! -e /etc/grub.d/00_header ] || cp /etc/grub.d/00_header "$WORK/$name/grub.d/"
	cp -a /etc/default/. "$WORK/$name/default/"
	{
		echo "GRUB_DISABLE_OS_PROBER=true"
		for l in "$@"; do echo "$l"; done
	} >>"$WORK/$name/default/grub"
	printf '%s\n' "$settings" >"$WORK/$name/default/kairos-recovery"
	GRUB_CFG="$WORK/$name/grub.cfg"
	# GRUB_BOOT_DIR: a folder of (fake) kernels to bind over /boot, on the
	# root's file system so that grub-probe still finds a device for it.
	unshare --mount sh -c "mount --make-rprivate / &&
		mount --bind '$WORK/$name/grub.d' /etc/grub.d && mount --bind '$WORK/$name/default' /etc/default &&
		${GRUB_BOOT_DIR:+mount --bind '$GRUB_BOOT_DIR' /boot &&}
		kairos_destdir='$STAGE' grub-mkconfig -o '$GRUB_CFG'" >"$WORK/grub-$name.out" 2>&1 || fail "grub-mkconfig failed: $(tail -n 5 "$WORK/grub-$name.out")"
}

# --- the qemu boot tests' shared pieces (also for later boot tests) -------

# shared_initramfs OUTPUT [MODULE...]: the kairos initramfs for qemu, with
# the HTTPS sender (kairos_notify=yes), built once per `make check-boot` and
# reused by every boot test: $KAIROS_BOOT_IMAGES (a folder check-boot makes
# afresh) holds one image per module list, built under a lock; OUTPUT is a
# link to it. Without KAIROS_BOOT_IMAGES (a test run alone) it is built into
# $WORK. Needs stage_install and dracut_tree. Per-test files go on top with
# initramfs_with_files.
shared_initramfs() {
	local out=$1 dir key img
	shift
	key=$(echo "$*" | tr ' ' '-')
	dir=${KAIROS_BOOT_IMAGES:-$WORK/images}
	mkdir -p "$dir"
	img="$dir/kairos-$key.img"
	(
		flock 9
		[ -s "$img" ] && exit 0
		echo "kairos_notify=yes" >"$WORK/dracut.conf.d/kairos-notify.conf"
		build_initramfs "$img.tmp" "$@"
		rm -f "$WORK/dracut.conf.d/kairos-notify.conf"
		mv "$img.tmp" "$img"
	) 9>"$dir/.lock-$key" || fail "cannot build the shared initramfs $img"
	ln -sf "$img" "$out"
}

# initramfs_with_files BASE DIR OUTPUT: BASE with the files under DIR added,
# e.g. DIR/etc/kairos/recovery.conf: an uncompressed cpio put before BASE,
# as early microcode is (the kernel unpacks both; after BASE's zstd stream
# it would not find another archive). BASE's files win where both have one.
initramfs_with_files() {
	local base=$1 dir=$2 out=$3
	need cpio
	(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out" ||
		fail "cannot make a cpio of $dir"
	cat "$base" >>"$out" || fail "cannot copy $base"
}

# qemu_boot NAME INITRD CMDLINE [QEMU-OPTIONS...]: boots the kernel under
# qemu (TCG, one CPU, no reboot) in the background, its serial console in
# $WORK/serial-NAME.txt; sets QEMU_PID, SERIAL, BOOT_T0 (date +%s.%N).
qemu_boot() {
	local name=$1 initrd=$2 cmdline=$3
	shift 3
	SERIAL="$WORK/serial-$name.txt"
	: >"$SERIAL"
	BOOT_T0=$(date +%s.%N)
	bg qemu-system-x86_64 -accel tcg -display none -monitor none -serial "file:$SERIAL" -no-reboot \
		-m 1024 -smp 1 -kernel "$KERNEL" -initrd "$initrd" -append "$cmdline" "$@" >"$WORK/qemu-$name.out" 2>&1
	QEMU_PID=$LAST_PID
}

# wait_serial PATTERN SECONDS WHAT: until the serial console holds a line
# matching PATTERN (grep -E); fails with the console's last lines if qemu
# ends or SECONDS pass.
wait_serial() {
	local i=0
	while ! grep -aqE -- "$1" "$SERIAL"; do
		kill -0 "$QEMU_PID" 2>/dev/null || fail "qemu ended while waiting for $3: $(tail -n 20 "$SERIAL")"
		i=$((i + 1))
		[ "$i" -lt $(($2 * 2)) ] || fail "no $3 on the serial console within $2 s: $(grep -av '[█▀▄]' "$SERIAL" | tail -n 30)"
		sleep 0.5
	done
}

# Seconds since BOOT_T0, one decimal.
since_boot() {
	python3 -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):.1f}')" "$(date +%s.%N)" "$BOOT_T0"
}

# --- the recovery screen on the serial console (qemu-nm.sh; qemu-boot.sh
# has older copies of its own) -----------------------------------------------

# The serial console without the QR rows, and the last complete screen, on
# stderr; then fail. For a boot that went wrong.
serial_fail() {
	if [ -n "${SERIAL:-}" ] && [ -f "$SERIAL" ]; then
		echo "--- the serial console ($(basename "$SERIAL")), without the QR rows, last 40 lines:" >&2
		grep -av '[█▀▄]' "$SERIAL" | tail -n 40 >&2
		echo "--- the last screen:" >&2
		python3 "$srcdir/tests/boot/screen-frame.py" "$SERIAL" >&2 || echo "(none complete)" >&2
	fi
	fail "$@"
}

# Whether the last complete recovery screen matches PATTERN (grep -E); it is
# left in $WORK/screen.txt. Fails when qemu has ended.
serial_screen_shows() { # PATTERN WHAT
	kill -0 "$QEMU_PID" 2>/dev/null || serial_fail "qemu ended while waiting for $2"
	python3 "$srcdir/tests/boot/screen-frame.py" "$SERIAL" >"$WORK/screen.txt" 2>/dev/null &&
		grep -qE -- "$1" "$WORK/screen.txt"
}

# Until the last complete screen matches PATTERN, for at most SECONDS.
wait_serial_screen() { # PATTERN SECONDS WHAT
	wait_until "$2" "$3 on the serial console" serial_screen_shows "$1" "$3" ||
		serial_fail "no $3 on the serial console within $2 s"
}

# The QR code of one of the last three complete screens as a PNG picture, as
# a camera would see the console (halfblock-to-png), checked with zbarimg.
serial_qr_png() { # PNG
	local n h2p="$builddir/tests/tools/halfblock-to-png"
	[ -x "$h2p" ] || fail "$h2p is not built (make check builds it)"
	for n in 1 2 3; do
		python3 "$srcdir/tests/boot/screen-frame.py" "$SERIAL" "$n" >"$WORK/frame.txt" || continue
		"$h2p" "$WORK/frame.txt" "$1" || fail "halfblock-to-png failed"
		zbarimg --nodbus --raw -q -Sdisable -Sqrcode.enable "$1" >/dev/null 2>>"$WORK/zbar.txt" && return 0
	done
	serial_fail "zbarimg read no QR code from the last three screens on the serial console"
}

# The kernel command line of the GRUB entry that grub_mkconfig made, as
# GRUB passes it (without BOOT_IMAGE=).
grub_entry_cmdline() {
	local linux
	linux=$(grep -P '^\tlinux\t' "$GRUB_CFG") || fail "the GRUB entry has no linux line: $(cat "$GRUB_CFG")"
	echo "$linux" | cut -f 3 | cut -d' ' -f 2-
}

# qemu_monitor SOCKET COMMAND: one command to qemu's human monitor on a Unix
# socket (qemu_boot ... -monitor unix:SOCKET,server=on,wait=off), e.g.
# "set_link net0 off" to pull the cable. Waits up to 60 s for the socket.
qemu_monitor() {
	python3 - "$1" "$2" <<'PY' || fail "qemu's monitor did not take '$2'"
import socket, sys, time
path, command = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 60
while True:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.1)
s.settimeout(30)
def until_prompt(buf=b""):
    while b"(qemu)" not in buf:
        data = s.recv(4096)
        if not data:
            sys.exit(1)
        buf += data
until_prompt()
s.sendall(command.encode() + b"\n")
until_prompt()
PY
}

# --- encrypted roots (qemu-unlock.sh) ------------------------------------

# luks_root_image OUTPUT TREE PASSPHRASE: an ext4 file system holding TREE,
# encrypted in place into a LUKS2 volume (the KDF kept cheap, pbkdf2 with
# 1000 iterations: a TCG guest would spend minutes in argon2). Offline
# encryption in user space: no device mapper needed on this host (luksFormat
# and open would need one to fill the volume). Sets LUKS_UUID.
luks_root_image() {
	local out=$1 tree=$2 pass=$3 kib
	need cryptsetup mkfs.ext4
	kib=$(du -sk "$tree" | cut -f1)
	rm -f "$out"
	truncate -s $((kib * 13 / 10 / 1024 + 32))M "$out" || fail "cannot make $out"
	mkfs.ext4 -q -L kairos-root -d "$tree" "$out" >"$WORK/mkfs.log" 2>&1 || fail "mkfs.ext4 -d failed: $(cat "$WORK/mkfs.log")"
	# the LUKS2 header goes before the data, which moves by 32 MiB
	truncate -s +32M "$out" || fail "cannot grow $out"
	printf '%s' "$pass" | cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 32M \
		--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --batch-mode --key-file - "$out" >"$WORK/luks.log" 2>&1 ||
		fail "cryptsetup reencrypt --encrypt failed: $(cat "$WORK/luks.log")"
	LUKS_UUID=$(cryptsetup luksUUID "$out") || fail "no LUKS UUID in $out"
}

# initramfs_tree IMAGE DIR: the files of a dracut image (after any early
# cpio), unpacked into DIR: a small but complete systemd root to boot into.
initramfs_tree() {
	local img=$1 dir=$2
	need cpio zstd
	mkdir -p "$dir"
	/usr/lib/dracut/skipcpio "$img" | zstd -d -q -c | (cd "$dir" && cpio -id --quiet --no-absolute-filenames) ||
		fail "cannot unpack $img"
}

# qemu_boot_console NAME INITRD CMDLINE [QEMU-OPTIONS...]: qemu_boot with
# a serial console that can also be typed on (console_type); its output in
# $WORK/serial-NAME.txt all the same.
qemu_boot_console() {
	local name=$1 initrd=$2 cmdline=$3
	shift 3
	SERIAL="$WORK/serial-$name.txt"
	SERIAL_SOCK="$WORK/serial-$name.sock"
	: >"$SERIAL"
	BOOT_T0=$(date +%s.%N)
	bg qemu-system-x86_64 -accel tcg -display none -monitor none -no-reboot \
		-chardev "socket,id=ser0,path=$SERIAL_SOCK,server=on,wait=off,logfile=$SERIAL" -serial chardev:ser0 \
		-m 1024 -smp 1 -kernel "$KERNEL" -initrd "$initrd" -append "$cmdline" "$@" >"$WORK/qemu-$name.out" 2>&1
	QEMU_PID=$LAST_PID
	wait_until 30 "qemu's serial socket" test -S "$SERIAL_SOCK" || fail "qemu made no serial socket: $(cat "$WORK/qemu-$name.out")"
}

# console_type TEXT: types TEXT and Enter on the serial console.
console_type() {
	python3 - "$SERIAL_SOCK" "$1" <<'PY' || fail "cannot type on the serial console"
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
for ch in sys.argv[2] + "\r":
    s.sendall(ch.encode())
    time.sleep(0.02)
time.sleep(0.5)
s.close()
PY
}

# serial_qr PNG: the token of the last complete recovery screen on the
# serial console that zbarimg reads (the three last, as drawn), or fails.
serial_qr() {
	local n h2p="$builddir/tests/tools/halfblock-to-png" frame="$srcdir/tests/boot/screen-frame.py"
	need zbarimg
	[ -x "$h2p" ] || fail "$h2p is not built (make check builds it)"
	for n in 1 2 3; do
		python3 "$frame" "$SERIAL" "$n" >"$WORK/frame.txt" || continue
		"$h2p" "$WORK/frame.txt" "$1" || fail "halfblock-to-png failed"
		zbarimg --nodbus --raw -q -Sdisable -Sqrcode.enable "$1" 2>>"$WORK/zbar.txt" && return 0
	done
	fail "zbarimg read no QR code from the last three screens on the serial console"
}
