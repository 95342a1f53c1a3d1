#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# systemd generator, in the initramfs only: with rd.kairos.recovery on the
# kernel command line, the initramfs boots into kairos-recovery.target
# instead of initrd.target (which would wait for the root file system and
# switch to it). systemd starts initrd.target in an initramfs whatever
# default.target says, so initrd.target becomes an alias of ours, in the
# "early" directory, which overrides every other unit directory.
# (rd.systemd.unit= would do it too, but on an initramfs without this module
# it would end in the rescue target; rd.kairos.recovery alone is harmless.)
# Generators get the normal, early and late directories, in that order.
early="${2:-/run/systemd/generator.early}"

want=no
read -r cmdline </proc/cmdline
for word in $cmdline; do
	case "$word" in
	rd.kairos.recovery | rd.kairos.recovery=1 | rd.kairos.recovery=yes | rd.kairos.recovery=true) want=yes ;;
	rd.kairos.recovery=0 | rd.kairos.recovery=no | rd.kairos.recovery=false) want=no ;;
	esac
done
[ "$want" = yes ] || exit 0

for dir in /etc/systemd/system /usr/lib/systemd/system /lib/systemd/system; do
	if [ -e "$dir/kairos-recovery.target" ]; then
		mkdir -p "$early"
		ln -sf "$dir/kairos-recovery.target" "$early/initrd.target"
		# The alias brings initrd.target's wants with it, dracut's steps
		# toward the root file system among them. They run once the
		# initqueue is done (the network up and the root device there), and
		# none has work in recovery mode, where the root is never mounted
		# nor switched to (pre-pivot's hooks hand plymouth over to the new
		# root, for one). That the target does not wait for them, or for the
		# root device, is kairos-recovery-initrd.conf's DefaultDependencies=no.
		for unit in dracut-pre-mount.service dracut-mount.service dracut-pre-pivot.service; do
			ln -sf /dev/null "$early/$unit"
		done
		exit 0
	fi
done
echo "kairos-recovery-generator: rd.kairos.recovery given, but kairos-recovery.target is not in the initramfs" >/dev/kmsg
exit 0
