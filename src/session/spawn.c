/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "spawn.h"

/* The child between fork and exec: the helper has a second thread (the
 * tunnel pump), so only async-signal-safe calls here. A failure is sent to
 * the parent as an errno on the report pipe, which exec closes otherwise. */
static _Noreturn void child(const struct spawn_spec *sp, int report) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        static const char oom[] = "0\n";
        sigset_t none;
        int e, fd;

        /* The helper ignores SIGPIPE and blocks SIGCHLD; a shell must start
         * with the defaults. */
        for (int sig = 1; sig < NSIG; sig++)
                sigaction(sig, &dfl, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);

        /* Its own session and process group: hangups and signals from the
         * client reach the whole job, and a pty becomes its terminal. */
        if (setsid() < 0)
                goto fail;
        if (sp->ctty >= 0 && ioctl(sp->ctty, TIOCSCTTY, 0) < 0)
                goto fail;
        for (int i = 0; i < 3; i++)
                if (dup2(sp->fds[i], i) < 0)
                        goto fail;

        /* The daemon protects itself from the OOM killer; a shell and what
         * it runs must not inherit that. */
        fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                if (write(fd, oom, sizeof oom - 1) < 0) {
                        /* not fatal: an older kernel, a read-only /proc */
                }
                close(fd);
        }
        umask(022);
        if (chdir(sp->cwd) < 0 && chdir("/") < 0)
                goto fail;
        /* Every fd of ours is close-on-exec already; this catches any a
         * library opened without it. The report pipe closes at exec. */
        close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        execve(sp->path, sp->argv, sp->envp);
fail:
        e = errno;
        if (write(report, &e, sizeof e) < 0) {
                /* nothing more to do */
        }
        _exit(127);
}

int spawn(const struct spawn_spec *sp, pid_t *ret_pid) {
        int report[2], e = 0;
        ssize_t k;
        pid_t pid;

        if (pipe2(report, O_CLOEXEC) < 0)
                return negative_errno();
        pid = fork();
        if (pid < 0) {
                int r = negative_errno();
                close(report[0]);
                close(report[1]);
                return r;
        }
        if (pid == 0) {
                close(report[0]);
                child(sp, report[1]);
        }
        close(report[1]);
        do
                k = read(report[0], &e, sizeof e);
        while (k < 0 && errno == EINTR);
        close(report[0]);
        if (k == (ssize_t) sizeof e) {
                /* The child is gone already; SIGCHLD reaps it. */
                return e > 0 ? -e : -EIO;
        }
        *ret_pid = pid;
        return 0;
}
