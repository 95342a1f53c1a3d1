/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which volume an asker unlocks, and whether it is open: systemd-cryptsetup
 * exits after its last allowed try as it does after a success, so the
 * asker's end alone does not tell an unlocked volume from one given up on.
 * The kernel does: an open volume is a device-mapper device of that name. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define VOLUME_NAME_MAX 128

/* From a process's command line (NUL-separated, as /proc/PID/cmdline
 * holds it): the volume of "systemd-cryptsetup attach NAME ...". -ENOENT
 * for any other command. */
int volume_from_cmdline(const char *cmdline, size_t len, char *name, size_t size);
/* The same for a running process. */
int volume_of_asker(pid_t pid, char *name, size_t size);
/* Whether a device-mapper device called name exists (/sys/class/block/dm-N/dm/name). */
bool volume_open(const char *name);
