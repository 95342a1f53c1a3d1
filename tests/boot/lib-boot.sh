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
