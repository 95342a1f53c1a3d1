#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# dracut pre-trigger hook: in recovery mode (rd.kairos.recovery) the root
# file system is never mounted, so the initqueue would wait for it (or for a
# network that is not there) and after rd.retry (3 min) start an emergency
# shell over the recovery screen. Here it keeps waiting instead, quietly:
# the network may still come (a cable plugged in), and nothing else waits
# for the initqueue. A larger rd.retry on the command line is kept.
if getargbool 0 rd.kairos.recovery && [ -z "$(getarg rd.retry -d rd_retry=)" ]; then
	mkdir -p /etc/cmdline.d
	echo "rd.retry=864000" >/etc/cmdline.d/90-kairos-recovery.conf
fi
