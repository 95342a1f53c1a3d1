/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "helper-spawn.h"
#include "macro.h"
#include "session-protocol.h"

/* glibc's memcpy() copies with REP MOVSB from 2 KiB up. On AMD Zen 3 and 4
 * that instruction runs at 3.5 GB/s instead of 50 when the destination
 * lies 1 to 15 bytes past the source in their pages (measured here: as
 * slow as the cipher), and libssh copies every channel packet's 32 KiB
 * into a string at malloc() + 4, which lands there: in an sftp upload that
 * copy took 15 % of the helper's time. Above this threshold glibc takes
 * its vector loop, as fast for every alignment; sftp through the tunnel
 * got 7 % faster on average (bench/RESULTS.md). Later glibc releases
 * changed that choice for these processors (sourceware bug 30994); other C
 * libraries ignore the variable. Only on AMD processors, where it was
 * measured; an administrator's GLIBC_TUNABLES, even empty, is passed on
 * instead. Decided once, when the daemon starts. */
const char *helper_tunables(void) {
#if defined(__x86_64__) || defined(__i386__)
        unsigned vendor[3], eax;

        /* CPUID leaf 0: the vendor's 12 characters in EBX, EDX, ECX. */
        if (!getenv("GLIBC_TUNABLES") && __get_cpuid(0, &eax, &vendor[0], &vendor[2], &vendor[1]) &&
            memcmp(vendor, "AuthenticAMD", 12) == 0)
                return "GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=2147483648";
#endif
        return NULL;
}

/* Our environment without what systemd meant for the main process alone:
 * a helper (or anything it starts) must not notify systemd on our behalf
 * or take sockets it was never given; plus extra (when not NULL). Filled in
 * the child after fork, into static storage: no allocation there. */
static char **helper_environment(const char *extra) {
        static const char *const drop[] = { "NOTIFY_SOCKET=", "WATCHDOG_PID=", "WATCHDOG_USEC=", "LISTEN_PID=",
                                            "LISTEN_FDS=", "LISTEN_FDNAMES=" };
        static char *env[256];
        size_t n = 0;

        for (char **e = environ; *e && n < ELEMENTSOF(env) - 2; e++) {
                bool keep = true;
                for (size_t i = 0; i < ELEMENTSOF(drop); i++)
                        keep = keep && strncmp(*e, drop[i], strlen(drop[i])) != 0;
                if (keep)
                        env[n++] = *e;
        }
        if (extra)
                env[n++] = (char *) extra;
        env[n] = NULL;
        return env;
}

int helper_spawn(const char *path, int conn_fd, int ctrl_fd, int host_key_fd, const char *tunables, pid_t *ret) {
        pid_t pid, parent = getpid();

        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid > 0) {
                *ret = pid;
                return 0;
        }
        /* Only what the helper needs: the connection on 3, control on 4. */
        static const char oom[] = "0";
        sigset_t all;
        int o;

        if (dup2(conn_fd, 100) < 0 || dup2(ctrl_fd, 101) < 0 || (host_key_fd >= 0 && dup2(host_key_fd, 102) < 0) ||
            dup2(100, SESSION_FD_CONNECTION) < 0 || dup2(101, SESSION_FD_CONTROL) < 0 ||
            (host_key_fd >= 0 && dup2(102, SESSION_FD_HOST_KEY) < 0))
                _exit(127);
        close_range(host_key_fd >= 0 ? SESSION_FD_HOST_KEY + 1 : SESSION_FD_CONTROL + 1, ~0U, 0);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGPIPE, SIG_DFL);
        /* A session ends with the main process that lists it (under
         * systemd, KillMode=mixed does it too): SIGTERM ends the helper
         * gracefully, its jobs get SIGHUP. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                _exit(127);
        /* The main process is shielded from the OOM killer; sessions are not. */
        o = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (o >= 0) {
                (void) !write(o, oom, sizeof oom - 1);
                close(o);
        }
        execve(path, (char *[]) { (char *) "kairos-recovery-session", NULL }, helper_environment(tunables));
        _exit(127);
}
