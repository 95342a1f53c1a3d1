/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

struct spawn_spec {
        const char *path;
        char **argv;
        char **envp;
        int fds[3];       /* become the child's 0, 1, 2 */
        int ctty;         /* a pty slave to become its controlling terminal, or -1 */
        const char *cwd;
};

/* fork + exec in a new session, with the OOM score reset, default signal
 * handling and no fd but 0, 1, 2. Returns 0 once the exec succeeded, or the
 * child's errno (ENOENT: no such program). */
int spawn(const struct spawn_spec *sp, pid_t *ret_pid);
