#!/bin/bash
# The GRUB entry, as grub-mkconfig makes it from the installed script: in a
# private mount namespace, with only that script bound over /etc/grub.d and
# a copy of /etc/default (nothing is written to /boot or /etc). The entry is
# "kairos (remote recovery mode)" with a stable id, the newest kernel and its
# initramfs, root=, GRUB_CMDLINE_LINUX, rd.kairos.recovery,
# systemd.unit=kairos-recovery.target, rd.neednet=1 ip=dhcp, quiet and the
# settings of /etc/default/kairos-recovery (and nothing else from there);
# grub-script-check accepts the output; GRUB_DISABLE_KAIROS_RECOVERY=true
# leaves it out, and so does a removed daemon. With several kernels: the
# newest is the entry, the others are in a submenu newest first, each with
# the microcode initrds before its initramfs; a static ip= from
# /etc/default/kairos-recovery replaces ip=dhcp; a word that GRUB would read
# as a command is left out.
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
main_line=${*:3}

# Several kernels (fake ones, in a /boot of their own on the root's file
# system), microcode, a static address and a GRUB command in the settings.
boot="$WORK/boot"
mkdir -p "$boot"
for v in 6.1.0-9-amd64 6.1.0-10-amd64 6.1.0-11-amd64; do
	echo "not a kernel $v" >"$boot/vmlinuz-$v"
	echo "not an initramfs $v" >"$boot/initrd.img-$v"
done
echo "not a kernel" >"$boot/vmlinuz-5.10.0-30-amd64" # without an initramfs
echo microcode >"$boot/intel-ucode.img"
echo microcode >"$boot/amd-ucode.img"
static="ip=192.0.2.10::192.0.2.1:255.255.255.0:rescue:eth0:none nameserver=192.0.2.53
kairos.recovery.relay=tcp:192.0.2.99:4001
kairos.recovery.console=tty1;reboot"
GRUB_BOOT_DIR=$boot grub_mkconfig kernels "$static"
cfg=$GRUB_CFG
grub-script-check "$cfg" || fail "grub-script-check rejects the grub.cfg with several kernels"
main=$(awk '/^menuentry .kairos \(remote recovery mode\)./,/^}/' "$cfg")
echo "$main" | grep -qP "^\tlinux\t/.*vmlinuz-6.1.0-11-amd64 " || fail "the main entry is not the newest kernel (6.1.0-11): $(echo "$main" | grep -P '^\tlinux')"
echo "$main" | grep -qP "^\tinitrd\t\S*/intel-ucode.img \S*/amd-ucode.img \S*/initrd.img-6.1.0-11-amd64$" ||
	fail "the main entry does not load the microcode before the initramfs: $(echo "$main" | grep -P '^\tinitrd')"
grep -q "^submenu 'kairos (remote recovery mode), other kernels' \$menuentry_id_option 'kairos-recovery-others-" "$cfg" ||
	fail "no submenu for the other kernels"
sub=$(awk '/^submenu /,/^}/' "$cfg")
for v in 6.1.0-10-amd64 6.1.0-9-amd64 5.10.0-30-amd64; do
	echo "$sub" | grep -q "^	menuentry 'kairos (remote recovery mode), Linux $v' .*'kairos-recovery-$v-" ||
		fail "the submenu has no entry for $v"
	echo "$sub" | grep -qP "^\t\tlinux\t/.*vmlinuz-$v root=" || fail "the entry for $v does not boot it"
done
order=$(echo "$sub" | sed -n "s/^	menuentry 'kairos (remote recovery mode), Linux \([^']*\)'.*/\1/p" | tr '\n' ' ')
[ "$order" = "6.1.0-10-amd64 6.1.0-9-amd64 5.10.0-30-amd64 " ] || fail "the submenu is not newest first: $order"
echo "$sub" | grep -qP "^\t\tinitrd\t\S*/intel-ucode.img \S*/amd-ucode.img \S*/initrd.img-6.1.0-9-amd64$" ||
	fail "an older kernel's entry lacks microcode or its initramfs"
echo "$sub" | awk '/Linux 5.10.0-30/,/^\t}/' | grep -qP '^\t\tinitrd\t\S*/intel-ucode.img \S*/amd-ucode.img$' ||
	fail "a kernel without an initramfs does not get the microcode alone"
grep -q "no initramfs for /boot/vmlinuz-5.10.0-30-amd64" "$WORK/grub-kernels.out" || fail "a kernel without an initramfs is not reported"
[ "$(grep -c 'ip=192.0.2.10::192.0.2.1:255.255.255.0:rescue:eth0:none nameserver=192.0.2.53 quiet' "$cfg")" = 4 ] ||
	fail "the static address is not on every entry's command line"
grep -q "ip=dhcp" "$cfg" && fail "ip=dhcp is still there beside the static address"
grep -q "reboot" "$cfg" && fail "a word with a ';' reached grub.cfg"
grep -q 'kairos.recovery.console=tty1;reboot.*not allowed' "$WORK/grub-kernels.out" || fail "the word with a ';' is not reported"
GRUB_BOOT_DIR=$boot grub_mkconfig flat "" GRUB_DISABLE_SUBMENU=true
grep -q "^submenu" "$GRUB_CFG" && fail "GRUB_DISABLE_SUBMENU=true still makes a submenu"
[ "$(grep -c "^menuentry 'kairos" "$GRUB_CFG")" = 4 ] || fail "GRUB_DISABLE_SUBMENU=true: not 4 top-level entries"

# Removed but not purged (the script is a conffile, dpkg keeps it): the
# daemon is gone, so no entry.
daemon=$(find "$STAGE" -path '*/sbin/kairos-recovery' -type f | head -n 1)
mv "$daemon" "$daemon.removed"
grub_mkconfig removed "$settings"
mv "$daemon.removed" "$daemon"
grep -q "kairos (remote recovery mode)" "$GRUB_CFG" && fail "with the daemon removed, the script still makes the entry"
pass "grub-mkconfig makes the entry: $main_line; other kernels in a submenu, newest first; microcode; static ip=; no entry once the daemon is removed"
