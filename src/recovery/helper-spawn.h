/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* fork+exec of one session helper (session-protocol.h), with only what it
 * needs: the connection on fd 3, its control socket on fd 4, the host key
 * in memory on fd 5 when there is one. */

#include <sys/types.h>

/* GLIBC_TUNABLES for the helpers, or NULL: decided once, when the daemon
 * starts (see helper-spawn.c). */
const char *helper_tunables(void);

/* The child's pid in *ret, or -errno (EAGAIN at the unit's TasksMax=). The
 * caller's fds stay open in the caller. */
int helper_spawn(const char *path, int conn_fd, int ctrl_fd, int host_key_fd, const char *tunables, pid_t *ret);
