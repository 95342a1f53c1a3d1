/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kairos-recovery-session: one connection, from the first byte to the end.
 * kairos-recovery fork+execs it with the connection on fd 3 and a control
 * socket on fd 4 (session-protocol.h): the Noise responder when the
 * transport is the tunnel, then the libssh server and its children. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <libssh/libssh.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "keygen.h"
#include "log.h"
#include "server.h"
#include "session-protocol.h"
#include "tunnel-transport.h"

#define CONFIG_TIMEOUT_SEC 10
/* After the SSH connection ended: time for the tunnel to pass on the last
 * bytes and its close. */
#define TUNNEL_LINGER_SEC 2

/* Children get fresh 0, 1, 2; but if we were started without them, the
 * first fds we open would take their place and be clobbered by dup2(). */
static void ensure_std_fds(void) {
        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_GETFD) < 0) {
                        int n = open("/dev/null", O_RDWR);
                        if (n >= 0 && n != fd) {
                                dup2(n, fd);
                                close(n);
                        }
                }
}

static int check_fds(void) {
        for (int fd = SESSION_FD_CONNECTION; fd <= SESSION_FD_CONTROL; fd++)
                if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                        return log_error_errno(-EBADF,
                                               "fd %d is not open: this program is started by kairos-recovery "
                                               "with the connection on fd 3 and its control socket on fd 4.",
                                               fd);
        /* Nothing else is ours to pass on. */
        close_range(SESSION_FD_CONTROL + 1, ~0U, CLOSE_RANGE_CLOEXEC);
        return 0;
}

int main(int argc, char **argv) {
        struct session_config c = {};
        struct tunnel_transport tt = {};
        char reason[160] = "ended";
        usec_t deadline;
        sigset_t mask;
        int fd, r;

        ensure_std_fds();
        log_open();
        if (getenv("KAIROS_SESSION_DEBUG"))
                log_set_max_level(LOG_DEBUG);
        if (argc == 3 && !strcmp(argv[1], "--generate-host-key"))
                return (!strcmp(argv[2], "-") ? keygen_host_key_stdout() : keygen_host_key(argv[2])) < 0 ? 1 : 0;
        if (argc > 1) {
                fprintf(stderr, "%s takes no arguments; kairos-recovery starts it for each connection.\n",
                        program_invocation_short_name);
                return 64;
        }
        if (check_fds() < 0)
                return 64;
        /* The password is in our memory until authentication: no core
         * dumps, no ptrace by non-root. Children are exec'ed, which resets
         * this for them. */
        prctl(PR_SET_DUMPABLE, 0);
        signal(SIGPIPE, SIG_IGN);
        /* Before any thread exists, so that all inherit the mask and these
         * arrive only through the loop's signalfd. SIGTERM and the like
         * keep their default (the end) until there is something to end
         * gracefully: the SSH server blocks them when it starts. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGUSR1);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if (sodium_init() < 0 || ssh_init() < 0) {
                log_error("Cannot initialize the crypto libraries.");
                return 1;
        }

        control_set_fd(SESSION_FD_CONTROL);
        r = control_read_config(SESSION_FD_CONTROL, &c, deadline_after(CONFIG_TIMEOUT_SEC * USEC_PER_SEC));
        if (r < 0) {
                control_event("closed bad configuration");
                ssh_finalize();
                return 1;
        }
        deadline = deadline_after(c.auth_timeout * USEC_PER_SEC);
        /* A peer that vanished (NAT timeout, pulled cable) ends the session
         * within about three minutes instead of leaving it for ever; a
         * shorter network hiccup does not end a repair in progress. */
        (void) socket_set_keepalive(SESSION_FD_CONNECTION, 60, 15, 8);
        /* Small packets go out at once: keystrokes, sftp requests, key
         * re-exchanges (each would otherwise wait for a delayed ACK). */
        (void) setsockopt(SESSION_FD_CONNECTION, IPPROTO_TCP, TCP_NODELAY, &(int) { 1 }, sizeof(int));
        /* The main process logs what matters, aggregated: a flood of
         * connections must not push real events out of the journal. */
        log_debug("Connection from %s (%s).", c.peer, c.transport == SESSION_TRANSPORT_TUNNEL ? "tunnel" : "ssh");

        if (c.transport == SESSION_TRANSPORT_TUNNEL) {
                fd = tunnel_transport_start(&tt, SESSION_FD_CONNECTION, &c, deadline);
                /* Needed for the handshake only: not kept for a session's life. */
                sodium_memzero(c.retired_secret, sizeof c.retired_secret);
                c.have_retired_secret = false;
                if (fd == -EKEYREVOKED) {
                        config_done(&c);
                        ssh_finalize();
                        return 0; /* served: the peer was told */
                }
                if (fd < 0) {
                        /* tunnel-failed was final; after tunnel-established,
                         * closed is. */
                        if (tt.established)
                                control_event("closed tunnel: %s", record_strerror(fd));
                        config_done(&c);
                        ssh_finalize();
                        return 1;
                }
        } else
                fd = SESSION_FD_CONNECTION;

        r = server_run(&c, fd, deadline, reason, sizeof reason);

        if (c.transport == SESSION_TRANSPORT_TUNNEL) {
                int p = tunnel_transport_finish(&tt, TUNNEL_LINGER_SEC * USEC_PER_SEC);

                /* A broken tunnel looks like a plain disconnect to SSH. */
                if (p < 0 && p != -ECANCELED && !strcmp(reason, "client disconnected"))
                        snprintf(reason, sizeof reason, "tunnel: %s", record_strerror(p));
                close(SESSION_FD_CONNECTION);
        }
        control_event("closed %s", reason);
        log_debug("Connection from %s closed: %s.", c.peer, reason);
        config_done(&c);
        ssh_finalize();
        return r < 0 ? 1 : 0;
}
