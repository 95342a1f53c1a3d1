#!/bin/bash
# The Debian packages, installed as a user installs them (make check-packages;
# root, the Debian archive, about 5 minutes):
# - built with dpkg-buildpackage from a copy of the release tree (make
#   distdir), lintian-clean (no error, no warning);
# - kairos-recovery installed with `apt-get install ./kairos-recovery_*.deb`
#   in a fresh Debian 12 root booted with systemd (systemd-nspawn -b):
#   update-grub runs and its grub.cfg holds "kairos (remote recovery mode)",
#   nothing is started, no unit is enabled (the plain SSH socket stays off);
# - where dracut is installed, dracut's trigger runs, and dracut's image has
#   the module once dracut-network is there (and dracut works without it);
#   `systemctl start kairos-recovery.target` brings the daemon up and
#   `systemctl status kairos-recovery` shows it waiting;
# - kairos-bridge installed the same way in a second fresh root (only its own
#   dependencies come along), run there in another network namespace, reads
#   the QR code the daemon made and reaches the machine; ssh through it runs
#   a command there;
# - `apt-get remove` takes the entry out of grub.cfg, `apt-get purge` leaves
#   no kairos file, unit or runtime directory behind.
# The fresh root is debootstrapped once and kept as a tarball in the build
# tree (tests/packages/bookworm-minbase.tar); delete it to start afresh.
. "$(dirname "$0")/../integration/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, systemd-nspawn, network namespaces)"
need dpkg-buildpackage dh lintian debootstrap systemd-nspawn nsenter flock ip ssh sshpass

. "$(dirname "$0")/lib-packages.sh"

# The packages, from a copy of what make dist ships: nothing is built in
# (or left over in) the source tree.
version=$(sed -n 's/^PACKAGE_VERSION=.\(.*\).$/\1/p' "$builddir/configure" 2>/dev/null || true)
[ -n "$version" ] || version=$(sed -n 's/^AC_INIT(\[kairos\], \[\([^]]*\)\].*/\1/p' "$srcdir/configure.ac")
head -n 1 "$srcdir/debian/changelog" | grep -q "^kairos ($version)" ||
	fail "debian/changelog's version is not the project's ($version): $(head -n 1 "$srcdir/debian/changelog")"
mkdir -p "$WORK/src"
make -C "$builddir" distdir distdir="$WORK/src/kairos-$version" >"$WORK/distdir.log" 2>&1 ||
	fail "make distdir failed (see distdir.log)"
(cd "$WORK/src/kairos-$version" && DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1 ||
	fail "dpkg-buildpackage failed: $(tail -n 20 "$WORK/build.log")"
DEBS="$WORK/debs"
arch=$(dpkg --print-architecture)
mkdir -p "$DEBS"
lintian --fail-on error,warning "$WORK"/src/kairos_"$version"_*.changes >"$WORK/lintian.log" 2>&1 ||
	fail "lintian: $(grep -v '^N:' "$WORK/lintian.log" | head -n 20)"
grep '^[EW]:' "$WORK/lintian.log" && fail "lintian reports errors or warnings"
mv "$WORK"/src/kairos-recovery_"$version"_*.deb "$WORK"/src/kairos-bridge_"$version"_*.deb "$DEBS/" ||
	fail "dpkg-buildpackage made no kairos-recovery and kairos-bridge packages"
# Each side's package holds that side only.
dpkg-deb -c "$DEBS"/kairos-bridge_*.deb | grep -q 'sbin/kairos-recovery\|grub.d\|dracut' &&
	fail "kairos-bridge holds the daemon's side"
dpkg-deb -c "$DEBS"/kairos-recovery_*.deb | grep -q 'bin/kairos-bridge' && fail "kairos-recovery holds the bridge"
dpkg-deb -f "$DEBS"/kairos-recovery_*.deb Depends Pre-Depends Recommends | grep -q 'dracut\|initramfs-tools' &&
	fail "kairos-recovery depends on an initramfs generator: $(dpkg-deb -f "$DEBS"/kairos-recovery_*.deb Depends)"

base_root

# A command in ROOT (not booted), on this host's network (the archive).
in_root() { # ROOT CMD...
	local root=$1 rc=0
	shift
	# --console=pipe: output as written (a terminal would end lines with CR LF).
	flock /run/kairos-nspawn.lock systemd-nspawn -q -D "$root" --register=no --keep-unit --machine="kpkg-$$" \
		--console=pipe --bind-ro="$DEBS:/debs" --setenv=DEBIAN_FRONTEND=noninteractive "$@" </dev/null || rc=$?
	nspawn_tidy
	rm -rf "/run/systemd/nspawn/propagate/kpkg-$$" "/run/systemd/nspawn/unix-export/kpkg-$$"
	return $rc
}
new_root() { # DIR
	mkdir -p "$1" && tar -C "$1" -xf "$BASE_TAR" || fail "cannot unpack $BASE_TAR"
}

# The workstation: a fresh root, and what `apt-get install ./kairos-bridge`
# brings along (bench/RESULTS.md compares it with magic-wormhole).
WS="$WORK/ws"
new_root "$WS"
in_root "$WS" apt-get install --simulate -q /debs/kairos-bridge_"${version}"_"$arch".deb >"$WORK/bridge-simulate.log" 2>&1 ||
	fail "apt-get install --simulate kairos-bridge failed: $(tail -n 5 "$WORK/bridge-simulate.log")"
in_root "$WS" apt-get install --simulate -q magic-wormhole >"$WORK/wormhole-simulate.log" 2>&1 ||
	fail "apt-get install --simulate magic-wormhole failed: $(tail -n 5 "$WORK/wormhole-simulate.log")"
n_bridge=$(grep -c '^Inst ' "$WORK/bridge-simulate.log")
n_wormhole=$(grep -c '^Inst ' "$WORK/wormhole-simulate.log")
in_root "$WS" apt-get install --simulate -q --no-install-recommends /debs/kairos-bridge_"${version}"_"$arch".deb >"$WORK/bridge-simulate-nr.log" 2>&1
in_root "$WS" apt-get install --simulate -q --no-install-recommends magic-wormhole >"$WORK/wormhole-simulate-nr.log" 2>&1
echo "# into a fresh Debian 12 root, apt-get install pulls $n_bridge packages for ./kairos-bridge, $n_wormhole for magic-wormhole"
echo "# (without Recommends: $(grep -c '^Inst ' "$WORK/bridge-simulate-nr.log") and $(grep -c '^Inst ' "$WORK/wormhole-simulate-nr.log"))"
[ "$n_bridge" -lt "$n_wormhole" ] || fail "kairos-bridge pulls $n_bridge packages, magic-wormhole only $n_wormhole"
in_root "$WS" apt-get install -y -q --no-install-recommends /debs/kairos-bridge_"${version}"_"$arch".deb \
	>"$WORK/bridge-install.log" 2>&1 || fail "apt-get install ./kairos-bridge failed: $(tail -n 10 "$WORK/bridge-install.log")"
in_root "$WS" dpkg-query -W -f '${Package}\n' >"$WORK/ws-packages"
grep -q '^kairos-recovery$\|^openssh-server$\|^libssh-4$\|^libqrencode4$' "$WORK/ws-packages" &&
	fail "the workstation got the daemon's side: $(grep 'kairos\|ssh\|qrencode' "$WORK/ws-packages" | tr '\n' ' ')"

# Where dracut makes the initramfs: installing kairos-recovery has dracut
# rebuild the images (its trigger), the package's request takes the module in
# once dracut's network support is there, and never stops dracut without it.
kver=6.1.0-99-amd64
D="$WORK/dracut-root"
new_root "$D"
in_root "$D" apt-get install -y -q --no-install-recommends dracut >"$WORK/dracut-install.log" 2>&1 ||
	fail "apt-get install dracut failed: $(tail -n 10 "$WORK/dracut-install.log")"
in_root "$D" apt-get install -y -q --no-install-recommends /debs/kairos-recovery_"${version}"_"$arch".deb \
	>"$WORK/dracut-kairos-install.log" 2>&1 || fail "apt-get install ./kairos-recovery beside dracut failed: $(tail -n 10 "$WORK/dracut-kairos-install.log")"
grep -q "Processing triggers for dracut" "$WORK/dracut-kairos-install.log" ||
	fail "installing kairos-recovery beside dracut did not have dracut rebuild the images: $(tail -n 5 "$WORK/dracut-kairos-install.log")"
in_root "$D" dracut -q --force --no-kernel --no-hostonly --kver "$kver" /root/plain.img >"$WORK/dracut-plain.log" 2>&1 ||
	fail "with dracut but without dracut-network, kairos-recovery stops dracut: $(grep -v 'will not be installed' "$WORK/dracut-plain.log" | tail -n 5)"
in_root "$D" apt-get install -y -q --no-install-recommends dracut-network >"$WORK/dracut-network-install.log" 2>&1 ||
	fail "apt-get install dracut-network failed: $(tail -n 10 "$WORK/dracut-network-install.log")"
in_root "$D" dracut -q --force --no-kernel --no-hostonly --kver "$kver" /root/kairos.img >"$WORK/dracut-kairos.log" 2>&1 ||
	fail "dracut failed with kairos-recovery and dracut-network: $(grep -v 'will not be installed' "$WORK/dracut-kairos.log" | tail -n 5)"
in_root "$D" lsinitrd /root/kairos.img >"$WORK/lsinitrd.txt" 2>&1 || fail "lsinitrd failed: $(tail -n 5 "$WORK/lsinitrd.txt")"
for f in usr/sbin/kairos-recovery usr/libexec/kairos/kairos-recovery-session kairos-recovery.target kairos-recovery.service; do
	grep -q "$f\$" "$WORK/lsinitrd.txt" || fail "the initramfs dracut made lacks $f (the package's module was not taken)"
done
rm -rf "$D"

# The machine: a fresh root with GRUB's tools, a kernel in /boot (a stand-in:
# nothing boots it) and a grub.cfg, so that GRUB counts as in use. Package
# files are fetched now, on this host's network; the machine then boots on
# a network of its own and installs from its cache.
M="$WORK/machine"
new_root "$M"
in_root "$M" apt-get install -y -q --no-install-recommends grub2-common >"$WORK/grub-install.log" 2>&1 ||
	fail "apt-get install grub2-common failed: $(tail -n 10 "$WORK/grub-install.log")"
in_root "$M" apt-get install -y -q --download-only --no-install-recommends /debs/kairos-recovery_"${version}"_"$arch".deb \
	>"$WORK/recovery-download.log" 2>&1 || fail "cannot fetch kairos-recovery's dependencies: $(tail -n 10 "$WORK/recovery-download.log")"
: >"$M/boot/vmlinuz-$kver"
: >"$M/boot/initrd.img-$kver"
mkdir -p "$M/boot/grub"
: >"$M/boot/grub/grub.cfg"
# grub-probe finds no disk under a container's root: a stand-in names one.
in_root "$M" dpkg-divert --quiet --local --rename --add /usr/sbin/grub-probe || fail "cannot divert grub-probe"
cat >"$M/usr/sbin/grub-probe" <<'EOF'
#!/bin/sh
# Test stand-in: the container's root is not a disk grub-probe could see.
target=device
for a; do case $a in --target=*) target=${a#--target=} ;; esac; done
case $target in
device) echo /dev/vda1 ;;
fs) echo ext2 ;;
fs_uuid) echo 2f9d4c1e-5b1a-4c7e-9d3e-6a1b2c3d4e5f ;;
partmap) echo msdos ;;
drive) echo '(hd0,msdos1)' ;;
compatibility_hint) echo hd0,msdos1 ;;
esac
exit 0
EOF
chmod 755 "$M/usr/sbin/grub-probe"

# Two namespaces joined by a veth pair: the machine's, and the workstation's.
n=$((($$ % 200) + 20))
NS_M="kpkg-m-$$" NS_W="kpkg-w-$$"
M_IP="10.233.$n.2" W_IP="10.233.$n.1"
ip netns add "$NS_M" && ip netns add "$NS_W" || fail "cannot create the network namespaces"
at_cleanup "ip netns del $NS_M; ip netns del $NS_W"
ip -n "$NS_W" link add "kw$n" type veth peer name "km$n" netns "$NS_M" || fail "cannot create the veth pair"
ip -n "$NS_W" addr add "$W_IP/24" dev "kw$n"
ip -n "$NS_M" addr add "$M_IP/24" dev "km$n"
for ns in "$NS_M" "$NS_W"; do
	ip -n "$ns" link set lo up
done
ip -n "$NS_W" link set "kw$n" up
ip -n "$NS_M" link set "km$n" up
ip -n "$NS_M" route add default via "$W_IP"

# Boot the machine (systemd as PID 1) on its namespace.
. "$srcdir/tests/integration/lib-nspawn.sh"
NSPAWN_ROOT=$M
nspawn_boot "kpkg-$$" --network-namespace-path="/run/netns/$NS_M" --bind-ro="$DEBS:/debs"
in_m() { nspawn_run env DEBIAN_FRONTEND=noninteractive "$@"; }
snapshot() { # FILE: every path of the machine but the kernel's and the package caches
	in_m find / /run -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /var/cache/apt -o -path /var/lib/apt/lists \
		-o -path /var/log/journal \) -prune -o -print | sort >"$1"
}
snapshot "$WORK/files-before"

in_m apt-get install -y -q --no-install-recommends /debs/kairos-recovery_"${version}"_"$arch".deb >"$WORK/recovery-install.log" 2>&1 ||
	fail "apt-get install ./kairos-recovery failed: $(tail -n 10 "$WORK/recovery-install.log")"
grep -q "Generating grub configuration file" "$WORK/recovery-install.log" ||
	fail "installing kairos-recovery did not run update-grub: $(tail -n 10 "$WORK/recovery-install.log")"
grep -q "^menuentry 'kairos (remote recovery mode)'" "$M/boot/grub/grub.cfg" 2>/dev/null ||
	in_m grep -q "^menuentry 'kairos (remote recovery mode)'" /boot/grub/grub.cfg ||
	fail "update-grub's grub.cfg has no entry \"kairos (remote recovery mode)\": $(in_m grep menuentry /boot/grub/grub.cfg)"
in_m grep -A15 "^menuentry 'kairos (remote recovery mode)'" /boot/grub/grub.cfg | grep -q "vmlinuz-$kver.*systemd.unit=kairos-recovery.target" ||
	fail "the entry does not boot the kernel into kairos-recovery.target: $(in_m grep -A15 kairos /boot/grub/grub.cfg)"
for p in dracut dracut-core; do
	in_m dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^i' && fail "installing kairos-recovery brought $p along"
done

# Nothing started, nothing enabled: the recovery is for the recovery boot.
for u in kairos-recovery.service kairos-recovery.socket kairos-recovery-ssh.socket kairos-recovery.target; do
	in_m systemctl is-active -q "$u" && fail "$u runs after installation"
	state=$(in_m systemctl is-enabled "$u" 2>/dev/null || true)
	case "$state" in enabled*) fail "$u is enabled after installation" ;; esac
done
[ -z "$(in_m find /etc/systemd -name 'kairos*')" ] || fail "installation enabled units: $(in_m find /etc/systemd -name 'kairos*')"

# The recovery target, as the GRUB entry boots into it. Here with no relay
# (the test reaches nothing outside), the QR code on no console.
printf '[Recovery]\nRelay=\nConsole=null\n' >"$WORK/recovery.conf"
in_m sh -c 'cat >/etc/kairos/recovery.conf' <"$WORK/recovery.conf"
in_m systemctl start kairos-recovery.target ||
	fail "systemctl start kairos-recovery.target failed: $(in_m journalctl -u kairos-recovery -n 20 --no-pager)"
for _ in $(seq 200); do
	status=$(in_m systemctl show -p StatusText --value kairos-recovery)
	case "$status" in "Waiting for bridge"*) break ;; esac
	sleep 0.1
done
in_m systemctl status kairos-recovery --no-pager >"$WORK/status.out" 2>&1 || true
grep -q 'Active: active (running)' "$WORK/status.out" && grep -q 'Status: "Waiting for bridge' "$WORK/status.out" ||
	fail "systemctl status kairos-recovery does not show it waiting: $(head -n 8 "$WORK/status.out")"
in_m systemctl is-active -q kairos-recovery-ssh.socket && fail "the recovery target started the plain SSH socket"

# The helper's side: the packaged kairos-bridge in the workstation's root and
# namespace, given the QR code as a photo would give it.
in_m cat /run/kairos-recovery/qr.png >"$WS/tmp/qr.png" || fail "the daemon made no /run/kairos-recovery/qr.png"
ip netns exec "$NS_W" chroot "$WS" env XDG_RUNTIME_DIR=/tmp kairos-bridge --qr-code-image /tmp/qr.png \
	--listen 127.0.0.1:2200 >"$WORK/bridge.log" 2>&1 &
bridge=$!
PIDS="$PIDS $bridge"
wait_log "$WORK/bridge.log" "SSH server reachable at 127.0.0.1:2200" 60
password=$(sed -n 's/.*SSH access password is //p' "$WORK/bridge.log" | head -n 1)
[ -n "$password" ] || fail "kairos-bridge printed no password: $(cat "$WORK/bridge.log")"
out=$(ip netns exec "$NS_W" sshpass -p "$password" ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o ConnectTimeout=30 -p 2200 root@127.0.0.1 'echo "$(id -un) on $(hostname)"; systemctl is-active kairos-recovery' \
	2>"$WORK/ssh.err") || fail "ssh through the packaged kairos-bridge failed: $(cat "$WORK/ssh.err")"
[ "$out" = "$(printf 'root on %s\nactive' "$(in_m hostname)")" ] || fail "the recovery shell said '$out'"
kill -INT "$bridge"
wait "$bridge" || fail "kairos-bridge did not stop cleanly on SIGINT: $(tail -n 5 "$WORK/bridge.log")"

# Removal: the recovery stops, the entry leaves grub.cfg (its script, a
# conffile, stays until purge and adds nothing); purge leaves nothing.
in_m apt-get remove -y -q kairos-recovery >"$WORK/remove.log" 2>&1 || fail "apt-get remove failed: $(tail -n 10 "$WORK/remove.log")"
in_m systemctl is-active -q kairos-recovery && fail "kairos-recovery still runs after apt-get remove"
in_m grep -q "kairos (remote recovery mode)" /boot/grub/grub.cfg && fail "grub.cfg still has the kairos entry after apt-get remove"
grep -q "Generating grub configuration file" "$WORK/remove.log" || fail "apt-get remove did not run update-grub: $(cat "$WORK/remove.log")"
in_m apt-get purge -y -q kairos-recovery >"$WORK/purge.log" 2>&1 || fail "apt-get purge failed: $(tail -n 10 "$WORK/purge.log")"
snapshot "$WORK/files-after"
left=$(comm -13 "$WORK/files-before" "$WORK/files-after" | grep -i 'kairos\|^/etc/systemd/\|deb-systemd' || true)
[ -z "$left" ] || fail "apt-get purge left behind: $left"
[ -z "$(in_m systemctl list-unit-files --no-legend 'kairos*')" ] || fail "units are left: $(in_m systemctl list-unit-files 'kairos*')"
in_m dpkg -l kairos-recovery 2>/dev/null | grep -q '^[a-z][a-z] *kairos' && fail "dpkg still knows kairos-recovery: $(in_m dpkg -l kairos-recovery | tail -n 1)"

pass "debs built and lintian-clean; beside dracut: trigger run, dracut works without dracut-network, lsinitrd shows the module with it; kairos-recovery installed with apt in a booted Debian 12 root (update-grub entry, nothing started or enabled, target up and waiting); the packaged kairos-bridge from another root and namespace reached it and ssh ran a command; remove drops the GRUB entry, purge leaves nothing"
