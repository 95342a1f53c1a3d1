#!/bin/bash
# The installed units are what systemd accepts: `systemd-analyze verify` on
# a staged `make install` (with systemd's own units beside them, and the
# binaries the units start) says nothing at all on stderr; an unknown key or
# a missing ExecStart= binary is only a warning there, so any output fails.
# It must also fail when a unit is broken: a copy with a misspelled key is
# checked the same way and must be reported.
KAIROS_SIDES="recovery"
. "$(dirname "$0")/../integration/lib.sh"
need systemd-analyze
[ -d /lib/systemd/system ] || skip "systemd's units are not installed"

root="$WORK/root"
make -C "$builddir" install DESTDIR="$root" >"$WORK/install.log" 2>&1 || fail "make install DESTDIR failed (see install.log)"
unitdir=$(dirname "$(find "$root" -name kairos-recovery.target | head -n 1)")
[ -n "$unitdir" ] && [ -d "$unitdir" ] || fail "make install installed no kairos-recovery.target"
# systemd's stock units, where systemd looks in the root.
mkdir -p "$root/usr/lib/systemd"
cp -a /lib/systemd/system "$root/usr/lib/systemd/" || fail "cannot copy systemd's units"
# The system's programs the units name besides ours (ExecReload=/bin/kill),
# as on a merged-/usr Debian.
mkdir -p "$root/usr/bin" "$root/usr/sbin"
ln -sfn usr/bin "$root/bin"
ln -sfn usr/sbin "$root/sbin"
cp /bin/kill "$root/usr/bin/kill"
command -v sulogin >/dev/null || PATH=$PATH:/sbin:/usr/sbin
cp "$(command -v sulogin)" "$root/usr/sbin/sulogin" || fail "no sulogin here (util-linux) for the local shell unit"
# kairos-boot-complete.service's grub-editenv
[ ! -x /usr/bin/grub-editenv ] || cp /usr/bin/grub-editenv "$root/usr/bin/grub-editenv"
# Under make distcheck the units go under a prefix of their own: copy them
# where systemd looks (an absolute symlink would point outside the root).
mkdir -p "$root/etc/systemd/system"
units=""
for u in kairos-recovery.target kairos-recovery.service kairos-recovery.socket kairos-recovery-ssh.socket \
	kairos-recovery-shell@.service kairos-boot-complete.service; do
	[ -f "$unitdir/$u" ] || fail "make install did not install $u"
	[ "$unitdir" = "$root/usr/lib/systemd/system" ] || [ "$unitdir" = "$root/lib/systemd/system" ] ||
		cp "$unitdir/$u" "$root/etc/systemd/system/$u"
	units="$units $u"
done
# The dracut module's unlock units (they run in the initramfs only; the
# netdown unit's ExecStart= is /bin/sh).
moddir=$(find "$root" -type d -name 90kairos-recovery | head -n 1)
[ -n "$moddir" ] || fail "make install did not install the dracut module"
for u in kairos-unlock.path kairos-unlock-netdown.service; do
	[ -f "$moddir/$u" ] || fail "make install did not install $u in the dracut module"
	cp "$moddir/$u" "$root/etc/systemd/system/$u"
	units="$units $u"
done
cp /bin/sh "$root/usr/bin/sh"
# A template is verified through the instance the target starts.
units="${units/kairos-recovery-shell@.service/kairos-recovery-shell@tty2.service}"
# ExecStart= names the daemon where make install put it.
grep -q "^ExecStart=/.*/sbin/kairos-recovery$" "$unitdir/kairos-recovery.service" ||
	fail "ExecStart= is not an absolute path to kairos-recovery: $(grep ExecStart= "$unitdir/kairos-recovery.service")"
daemon=$(sed -n 's/^ExecStart=//p' "$unitdir/kairos-recovery.service")
[ -x "$root$daemon" ] || fail "ExecStart=$daemon is not what make install installed"

verify() { # ROOT UNIT... -> stderr in $WORK/verify.err
	(cd "$1" && systemd-analyze verify --man=no --root="$1" "${@:2}") >"$WORK/verify.out" 2>"$WORK/verify.err"
}
# shellcheck disable=SC2086
verify "$root" $units || fail "systemd-analyze verify failed: $(cat "$WORK/verify.err")"
[ ! -s "$WORK/verify.err" ] || fail "systemd-analyze verify complains: $(cat "$WORK/verify.err")"

# The properties the recovery depends on, as systemd reads them.
for want in "AllowIsolate=yes"; do
	grep -q "^$want" "$unitdir/kairos-recovery.target" || fail "kairos-recovery.target lacks $want"
done
for dep in kairos-recovery.service kairos-recovery.socket network-online.target; do
	grep -q "^Wants=.*$dep" "$unitdir/kairos-recovery.target" || fail "kairos-recovery.target does not want $dep"
done
for want in "Type=notify" "Restart=always" "StartLimitIntervalSec=0" "OOMPolicy=continue" "RuntimeDirectoryPreserve=yes"; do
	grep -q "^$want" "$unitdir/kairos-recovery.service" || fail "kairos-recovery.service lacks $want"
done
grep -q "^After=.*network" "$unitdir/kairos-recovery.service" && fail "kairos-recovery.service is ordered after the network: the QR code would wait for it"
# Units without the default dependencies stop at shutdown all the same.
for u in "$unitdir"/kairos-recovery*; do
	grep -q "^DefaultDependencies=no" "$u" || continue
	grep -q "^Conflicts=.*shutdown.target" "$u" || fail "$(basename "$u") has DefaultDependencies=no but no Conflicts=shutdown.target"
	grep -q "^Before=.*shutdown.target" "$u" || fail "$(basename "$u") has DefaultDependencies=no but no Before=shutdown.target"
done
# As systemd reads them: the service is stopped by shutdown.target, and does
# not restart when restarting cannot help (no helper 72, no host key 73).
grep -q "^RestartPreventExitStatus=72 73" "$unitdir/kairos-recovery.service" || fail "kairos-recovery.service restarts on 72/73"
# The local shell: on tty2, sulogin for that terminal only, wanted by the target.
grep -q "^Wants=.*kairos-recovery-shell@tty2.service" "$unitdir/kairos-recovery.target" || fail "the target offers no local shell on tty2"
grep -q "^ExecStart=-/sbin/sulogin /dev/%I$" "$unitdir/kairos-recovery-shell@.service" || fail "the local shell does not run sulogin on its own terminal"
grep -q "^Environment=KAIROS_LOCAL_SHELL=tty2$" "$unitdir/kairos-recovery.service" || fail "the daemon is not told where the local shell is (the screen hint)"
grep -q "^FileDescriptorName=tunnel" "$unitdir/kairos-recovery.socket" || fail "the tunnel socket is not named tunnel"
grep -q "^FileDescriptorName=ssh" "$unitdir/kairos-recovery-ssh.socket" || fail "the ssh socket is not named ssh"

# The check can fail: a misspelled key in a copy is reported.
bad="$WORK/bad"
cp -a "$root" "$bad"
find "$bad" -name kairos-recovery.service -type f -exec sed -i 's/^Restart=always/Restrat=always/' {} +
# shellcheck disable=SC2086
verify "$bad" $units || true
grep -q "Restrat" "$WORK/verify.err" || fail "systemd-analyze verify did not report a misspelled key: the check proves nothing"

pass "systemd-analyze verify is silent on the installed units; target and service have what recovery needs"
