#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# dracut pre-udev hook, unlock mode only (kairos-unlock-generator enabled
# kairos-unlock.path): dracut's crypt module has udev queue
# "systemctl start systemd-cryptsetup@...service" in the initqueue, and
# that call waits until the volume is open, that is until someone types the
# passphrase. The initqueue runs its jobs one after the other, so meanwhile
# nothing else it holds runs: network-legacy's ifup, and with it the
# network kairos-recovery needs to be reached. With --no-block the job only
# queues the start (systemd-cryptsetup asks as before, and the initqueue
# still waits for the root device to finish); the network comes up beside
# the prompt. Sourced by dracut: no exit.
if [ -e /run/systemd/generator/sysinit.target.wants/kairos-unlock.path ]; then
	for rules in /etc/udev/rules.d/70-luks.rules; do
		[ -f "$rules" ] && sed -i 's|systemctl start systemd-cryptsetup@|systemctl --no-block start systemd-cryptsetup@|g' "$rules"
	done
fi
