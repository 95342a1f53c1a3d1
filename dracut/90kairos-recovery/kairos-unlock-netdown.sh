#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# kairos-unlock-netdown.service: the interfaces the initramfs configured for
# the unlock session lose their addresses and go down before the switch to
# the real root. dracut itself only ends dhclient there and leaves the
# address and routes; a real system whose networking adds them again (ifup's
# "ip route add" of an existing default route fails, and with it
# networking.service) would trip over them. Kept when the root is on the
# network (root=nfs:, iscsi, nbd, netroot=): the real system needs that.
read -r cmdline </proc/cmdline
for word in $cmdline; do
	case "$word" in
	netroot=* | root=nfs* | root=/dev/nfs | root=iscsi* | root=nbd* | root=dhcp* | root=cifs* | rd.iscsi.* | ip=ibft)
		echo "kairos-unlock-netdown: the root is on the network ($word): its network stays" >/dev/kmsg
		exit 0
		;;
	esac
done
for dev in /sys/class/net/*; do
	name=${dev##*/}
	[ "$name" = lo ] || [ ! -e "$dev" ] && continue
	ip addr flush dev "$name" 2>/dev/null
	ip link set dev "$name" down 2>/dev/null
	echo "kairos-unlock-netdown: $name taken down: the real system configures its own network" >/dev/kmsg
done
exit 0
