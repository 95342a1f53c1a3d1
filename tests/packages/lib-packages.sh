# Sourced by the package tests after tests/integration/lib.sh: the fresh
# Debian 12 root they share, debootstrapped once per build tree and kept as
# a tarball (tests/packages/bookworm-minbase.tar; delete it to start afresh),
# and what systemd-nspawn leaves behind.
CACHE="$builddir/tests/packages"
BASE_TAR="$CACHE/bookworm-minbase.tar"
mkdir -p "$CACHE"

# The host's Debian mirror.
mirror() {
	sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1 | grep . ||
		awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null | grep . ||
		echo http://deb.debian.org/debian
}

# $BASE_TAR, made once (TESTING.md): minbase with systemd, the host's Debian
# sources, package lists fetched, no getty on the console. Under a lock: both
# package tests may want it at the same time.
base_root() {
	(
		flock 9
		[ -s "$BASE_TAR" ] && exit 0
		r="$CACHE/root.tmp"
		rm -rf "$r"
		echo "# debootstrapping a Debian 12 root for $BASE_TAR (once; about 2 minutes)" >&2
		debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$r" "$(mirror)" \
			>"$WORK/debootstrap.log" 2>&1 || { tail -n 20 "$WORK/debootstrap.log" >&2; exit 1; }
		ln -sf /dev/null "$r/etc/systemd/system/console-getty.service"
		if [ -f /etc/apt/sources.list.d/debian.sources ]; then
			rm -f "$r/etc/apt/sources.list"
			cp /etc/apt/sources.list.d/debian.sources "$r/etc/apt/sources.list.d/"
		fi
		chroot "$r" apt-get update -q >"$WORK/apt-update.log" 2>&1 || { tail -n 20 "$WORK/apt-update.log" >&2; exit 1; }
		tar -C "$r" -cf "$BASE_TAR.tmp" . && mv "$BASE_TAR.tmp" "$BASE_TAR" && rm -rf "$r"
	) 9>"$CACHE/bookworm-minbase.lock" || fail "cannot debootstrap the Debian 12 root (see debootstrap.log)"
}

# nspawn without machined leaves its cgroups beside itself: one container at
# a time on this machine (lib-nspawn.sh's lock), cleaned up after each.
nspawn_tidy() {
	local d top
	for d in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
		for top in payload supervisor; do
			[ -d "$d/$top" ] && find "$d/$top" -depth -type d -exec rmdir {} \; 2>/dev/null
		done
	done
	return 0
}
