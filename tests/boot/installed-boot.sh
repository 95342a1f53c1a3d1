#!/bin/bash
# The GRUB entry on an installed system whose initramfs lacks the dracut
# module: systemd boots straight into kairos-recovery.target
# (systemd.unit=kairos-recovery.target, here as PID 1 in systemd-nspawn on a
# debootstrapped Debian 12 with the installed units). The daemon, its socket
# and the target are active, its lines are in the journal, the status says
# it waits; nothing failed; and neither sysinit.target nor local-fs.target
# was started, so no fstab entry, fsck or broken file system can stop it.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/lib-nspawn.sh"

stage_install_units() {
	dest="$WORK/dest"
	make -C "$builddir" install DESTDIR="$dest" >"$WORK/install.log" 2>&1 || fail "make install failed (see install.log)"
	service=$(find "$dest" -name kairos-recovery.service -type f | head -n 1)
	daemon=$(find "$dest" -path "*/sbin/kairos-recovery" -type f | head -n 1)
	[ -n "$service" ] && [ -n "$daemon" ] || fail "make install did not install the daemon and its units"
	unitdir=$(dirname "$service")
	prefix=$(dirname "$(dirname "${daemon#"$dest"}")")
}
stage_install_units
mkdir -p "$WORK/etc-kairos"
printf '[Recovery]\nRelay=\nConsole=null\nHostKey=\n' >"$WORK/etc-kairos/recovery.conf"
binds=(--private-network --bind-ro="$dest$prefix:$prefix" --bind-ro="$WORK/etc-kairos:/etc/kairos")
for u in kairos-recovery.target kairos-recovery.service kairos-recovery.socket kairos-recovery-ssh.socket \
	kairos-recovery-shell@.service; do
	binds+=(--bind-ro="$unitdir/$u:/etc/systemd/system/$u")
done
# Libraries the build links that the container lacks (the sanitizer runtimes).
for lib in $(ldd "$daemon" "$dest$prefix/libexec/kairos/kairos-recovery-session" | awk '/=> \// { print $3 }' | sort -u); do
	[ -e "$NSPAWN_ROOT$lib" ] || binds+=(--bind-ro="$lib:$lib")
done

# The argument after the options goes to the container's systemd, as the
# kernel command line's systemd.unit= does on a machine.
nspawn_boot "kairos-boot-$$" "${binds[@]}" systemd.unit=kairos-recovery.target
for u in kairos-recovery.target kairos-recovery.socket kairos-recovery.service systemd-journald.service; do
	state=$(nspawn_run systemctl is-active "$u" || true)
	[ "$state" = active ] || fail "$u is $state after booting into kairos-recovery.target: $(nspawn_run journalctl -b --no-pager | tail -n 15)"
done
for u in sysinit.target local-fs.target multi-user.target; do
	state=$(nspawn_run systemctl is-active "$u" || true)
	[ "$state" = inactive ] || fail "$u is $state: booting into kairos-recovery.target must not start it (a broken root could block it)"
done
failed=$(nspawn_run systemctl list-units --failed --plain --no-legend)
[ -z "$failed" ] || fail "units failed in recovery mode: $failed"
daemon_started() { nspawn_run journalctl -u kairos-recovery --no-pager 2>/dev/null | grep -q "kairos-recovery started"; }
wait_until 60 "'kairos-recovery started' in the journal" daemon_started || fail "the journal has no 'kairos-recovery started' line after 60 s"
status=$(nspawn_run systemctl show -p StatusText --value kairos-recovery)
case "$status" in "Waiting for bridge"*) ;; *) fail "the status line is '$status'" ;; esac
pass "booted into kairos-recovery.target: daemon, socket, journal active, nothing of the root file system started; status '$status'"
