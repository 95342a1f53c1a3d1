#!/bin/bash
# The GRUB entry on an installed system whose network is NetworkManager's,
# without the dracut module: systemd (PID 1 in systemd-nspawn, Debian 12)
# boots into kairos-recovery.target, and kairos-recovery-network-generator
# has it start NetworkManager (enabled in multi-user.target) and the D-Bus it
# talks through, without sysinit.target or local-fs.target, which would
# mount (and could be stopped by) every file system of /etc/fstab. Here
# NetworkManager is a stand-in unit that asks D-Bus for its names (the
# container has no NetworkManager package); the real daemon is not run.
# The generator reads the kernel command line from KAIROS_PROC_CMDLINE
# here: in a container /proc/cmdline is the host's.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/lib-nspawn.sh"

dest="$WORK/dest"
make -C "$builddir" install DESTDIR="$dest" >"$WORK/install.log" 2>&1 || fail "make install failed (see install.log)"
service=$(find "$dest" -name kairos-recovery.service -type f | head -n 1)
daemon=$(find "$dest" -path "*/sbin/kairos-recovery" -type f | head -n 1)
gen=$(find "$dest" -name kairos-recovery-network-generator -type f | head -n 1)
[ -n "$service" ] && [ -n "$daemon" ] && [ -n "$gen" ] || fail "make install did not install the daemon, its units and the generator"
unitdir=$(dirname "$service")
prefix=$(dirname "$(dirname "${daemon#"$dest"}")")
mkdir -p "$WORK/etc-kairos"
printf '[Recovery]\nRelay=\nConsole=null\nHostKey=\n' >"$WORK/etc-kairos/recovery.conf"
echo "BOOT_IMAGE=/vmlinuz root=/dev/vda ro rd.kairos.recovery systemd.unit=kairos-recovery.target rd.neednet=1 ip=dhcp quiet" \
	>"$WORK/etc-kairos/cmdline"
cat >"$WORK/NetworkManager.service" <<'UNIT'
[Unit]
Description=NetworkManager stand-in (kairos test)
Requires=dbus.socket
After=dbus.socket
Wants=network.target
Before=network.target

[Service]
ExecStart=/bin/sh -c 'busctl --system list --no-pager >/run/nm-saw-dbus && exec sleep infinity'

[Install]
WantedBy=multi-user.target
UNIT
binds=(--private-network --bind-ro="$dest$prefix:$prefix" --bind-ro="$WORK/etc-kairos:/etc/kairos"
	--bind-ro="$WORK/NetworkManager.service:/etc/systemd/system/NetworkManager.service"
	--bind-ro="$WORK/NetworkManager.service:/etc/systemd/system/multi-user.target.wants/NetworkManager.service"
	--bind-ro="$gen:/etc/systemd/system-generators/kairos-recovery-network-generator"
	--setenv=KAIROS_PROC_CMDLINE=/etc/kairos/cmdline)
for u in kairos-recovery.target kairos-recovery.service kairos-recovery.socket kairos-recovery-ssh.socket kairos-recovery-shell@.service; do
	binds+=(--bind-ro="$unitdir/$u:/etc/systemd/system/$u")
done
for lib in $(ldd "$daemon" "$dest$prefix/libexec/kairos/kairos-recovery-session" | awk '/=> \// { print $3 }' | sort -u); do
	[ -e "$NSPAWN_ROOT$lib" ] || binds+=(--bind-ro="$lib:$lib")
done

nspawn_boot "kairos-nm-$$" "${binds[@]}" systemd.unit=kairos-recovery.target
i=0
until [ "$(nspawn_run systemctl is-active NetworkManager.service 2>/dev/null)" = active ]; do
	i=$((i + 1))
	[ "$i" -lt 300 ] || fail "NetworkManager.service is $(nspawn_run systemctl is-active NetworkManager.service) in recovery: $(nspawn_run journalctl -b --no-pager | tail -n 15)"
	sleep 0.1
done
for u in kairos-recovery.target kairos-recovery.service dbus.socket; do
	state=$(nspawn_run systemctl is-active "$u" || true)
	[ "$state" = active ] || fail "$u is $state after booting into kairos-recovery.target"
done
i=0
until nspawn_run grep -q org.freedesktop.DBus /run/nm-saw-dbus 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 300 ] || fail "the NetworkManager stand-in did not reach D-Bus"
	sleep 0.1
done
for u in sysinit.target local-fs.target multi-user.target basic.target; do
	state=$(nspawn_run systemctl is-active "$u" || true)
	[ "$state" = inactive ] || fail "$u is $state: NetworkManager in recovery must not pull it in"
done
nspawn_run systemctl cat NetworkManager.service | grep -q "^DefaultDependencies=no" ||
	fail "NetworkManager.service has no drop-in from the generator"
failed=$(nspawn_run systemctl list-units --failed --plain --no-legend)
[ -z "$failed" ] || fail "units failed in recovery mode: $failed"
pass "recovery on a NetworkManager machine: NetworkManager and D-Bus started, sysinit/local-fs/basic not"
