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

# A small initramfs for qemu (virtio drivers, the network) with the given
# extra modules, zstd-compressed, without the host's dracut configuration.
build_initramfs() { # OUTPUT [MODULE...]
	local out=$1
	shift
	dracutbasedir="$DRACUT_BASE" kairos_destdir="$STAGE" dracut --force --no-hostonly --no-hostonly-cmdline \
		--conf /dev/null --confdir "$WORK/dracut.conf.d" --zstd --kver "$KVER" \
		-m "base systemd systemd-initrd dracut-systemd qemu qemu-net network $*" "$out" \
		>"$WORK/dracut-$(basename "$out").log" 2>&1 ||
		fail "dracut failed to build $(basename "$out") (see dracut-$(basename "$out").log)"
}
