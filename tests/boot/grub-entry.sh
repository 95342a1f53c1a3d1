#!/bin/bash
# The GRUB entry, as grub-mkconfig makes it from the installed script: in a
# private mount namespace, with only that script bound over /etc/grub.d and
# a copy of /etc/default (nothing is written to /boot or /etc). The entry is
# "kairos (remote recovery mode)" with a stable id, the newest kernel and its
# initramfs, root=, GRUB_CMDLINE_LINUX, rd.kairos.recovery,
# systemd.unit=kairos-recovery.target, rd.neednet=1 ip=dhcp, quiet and the
# settings of /etc/default/kairos-recovery (and nothing else from there);
# grub-script-check accepts the output; GRUB_DISABLE_KAIROS_RECOVERY=true
# leaves it out, and so does a removed daemon.
KAIROS_SIDES="recovery"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib-boot.sh"
need grub-mkconfig grub-script-check unshare

stage_install
newest=$(ls -v /boot/vmlinuz-* | tail -n 1)
version=${newest#/boot/vmlinuz-}
settings="# settings for the recovery entry
kairos.recovery.relay=tcp:relay.example.org:4001 kairos.recovery.console=ttyS0,tty1
init=/bin/sh   # not a kairos setting: must be left out"

grub_mkconfig on "$settings" 'GRUB_CMDLINE_LINUX="console=ttyS0,115200"'
cfg=$GRUB_CFG
grub-script-check "$cfg" || fail "grub-script-check rejects the generated grub.cfg"
grep -q "^menuentry 'kairos (remote recovery mode)' .*\$menuentry_id_option 'kairos-recovery-" "$cfg" ||
	fail "no menu entry \"kairos (remote recovery mode)\" with an id: $(grep menuentry "$cfg")"
[ "$(grep -c '^menuentry' "$cfg")" = 1 ] || fail "expected one menu entry, got $(grep -c '^menuentry' "$cfg")"
linux=$(grep -P '^\tlinux\t' "$cfg") || fail "the entry has no linux line"
# shellcheck disable=SC2086
set -- $linux
[ "$2" = "/boot/vmlinuz-$version" ] || fail "the entry boots $2, not the newest kernel /boot/vmlinuz-$version"
for w in "root=*" ro console=ttyS0,115200 rd.kairos.recovery systemd.unit=kairos-recovery.target rd.neednet=1 ip=dhcp quiet \
	kairos.recovery.relay=tcp:relay.example.org:4001 kairos.recovery.console=ttyS0,tty1; do
	found=no
	for a in "${@:3}"; do
		# shellcheck disable=SC2254
		case "$a" in $w) found=yes ;; esac
	done
	[ $found = yes ] || fail "the kernel command line lacks $w: ${*:3}"
done
case " ${*:3} " in *" init=/bin/sh "*) fail "a word from /etc/default/kairos-recovery that is not a kairos setting reached the command line" ;; esac
grep -q 'init=/bin/sh.*left out' "$WORK/grub-on.out" || fail "grub-mkconfig did not warn about the foreign word in /etc/default/kairos-recovery"
if ls "/boot/initrd.img-$version" >/dev/null 2>&1; then
	grep -qP "^\tinitrd\t/boot/initrd.img-$version$" "$cfg" || fail "the entry does not load /boot/initrd.img-$version"
fi

grub_mkconfig off "$settings" GRUB_DISABLE_KAIROS_RECOVERY=true
grep -q "kairos (remote recovery mode)" "$GRUB_CFG" && fail "GRUB_DISABLE_KAIROS_RECOVERY=true did not leave the entry out"
# Removed but not purged (the script is a conffile, dpkg keeps it): the
# daemon is gone, so no entry.
daemon=$(find "$STAGE" -path '*/sbin/kairos-recovery' -type f | head -n 1)
mv "$daemon" "$daemon.removed"
grub_mkconfig removed "$settings"
mv "$daemon.removed" "$daemon"
grep -q "kairos (remote recovery mode)" "$GRUB_CFG" && fail "with the daemon removed, the script still makes the entry"
pass "grub-mkconfig makes the entry: ${*:3}"
