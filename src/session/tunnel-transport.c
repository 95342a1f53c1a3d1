/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostkeys.h"
#include "kdf.h"
#include "log.h"
#include "tunnel-transport.h"

static void report_proven(void *userdata) {
        control_event("tunnel-proven");
}

static void *pump_thread(void *userdata) {
        struct tunnel_transport *tt = userdata;

        tt->result = tunnel_pump(&tt->tunnel, tt->pump_fd, tt->pump_fd, tt->stop_fd[0], NULL);
        if (tt->result < 0 && tt->result != -ECANCELED)
                log_warning("Tunnel ended: %s.", record_strerror(tt->result));
        /* Whatever happened, the SSH server must see its connection end. */
        shutdown(tt->pump_fd, SHUT_RDWR);
        close(tt->done_fd[1]);
        tt->done_fd[1] = -EBADF;
        return NULL;
}

int tunnel_transport_start(struct tunnel_transport *tt, int conn_fd, const struct session_config *c,
                           usec_t deadline) {
        struct kairos_hello hello = { .version = KAIROS_PROTOCOL_VERSION };
        uint8_t psk[KAIROS_PSK_SIZE], retired_psk[KAIROS_PSK_SIZE];
        bool retired = false;
        sigset_t mask;
        int sp[2], r;

        *tt = (struct tunnel_transport) {
                .pump_fd = -EBADF,
                .stop_fd = { -EBADF, -EBADF },
                .done_fd = { -EBADF, -EBADF },
        };
        /* The hello needs the host keys: a broken key file is found before
         * the peer learns anything. */
        snprintf(hello.hostname, sizeof hello.hostname, "%s", c->hostname);
        r = hostkeys_public(c->hostkeys, c->n_hostkeys, &hello);
        if (r < 0) {
                control_event("tunnel-failed host keys unusable");
                return r;
        }

        kdf_psk(c->secret, psk);
        if (c->have_retired_secret)
                kdf_psk(c->retired_secret, retired_psk);
        /* Until the key is confirmed the peer may be anyone: it holds this
         * helper for the handshake's deadline only, not the login's. */
        r = tunnel_accept_retired(&tt->tunnel, conn_fd, psk, c->have_retired_secret ? retired_psk : NULL,
                                  MIN(deadline, deadline_after(c->handshake_timeout * USEC_PER_SEC)), report_proven,
                                  NULL, &retired);
        sodium_memzero(psk, sizeof psk);
        sodium_memzero(retired_psk, sizeof retired_psk);
        if (r >= 0 && retired) {
                /* The code before the last rotate, proven: say so, in a
                 * record only its holder can read, and nothing else. */
                (void) tunnel_send_rotated(&tt->tunnel, deadline_after(USEC_PER_SEC));
                tunnel_done(&tt->tunnel, false);
                control_event("tunnel-rotated");
                log_debug("Tunnel from %s: the code before the rotation; told so.", c->peer);
                return -EKEYREVOKED;
        }
        if (r < 0) {
                const char *why = record_strerror(r);

                if (r == -EBADMSG)
                        why = "the peer does not hold this token's secret";
                else if (r == -ETIMEDOUT)
                        why = "handshake timeout";
                else if (r == -ECONNRESET)
                        why = "the peer closed during the handshake";
                control_event("tunnel-failed %s", why);
                return log_debug_errno(r, "Tunnel from %s not established: %s.", c->peer, why);
        }
        /* Only now, after key confirmation, is there a tunnel: a replayed
         * first handshake message never gets this far. */
        control_event("tunnel-established");
        tt->established = true;
        /* Through a relay, acknowledge at once (see tunnel-pump.c). */
        tt->tunnel.quickack = !strncmp(c->peer, "relay", 5);
        log_info("Tunnel from %s established.", c->peer);

        r = tunnel_send_hello(&tt->tunnel, &hello, deadline);
        if (r < 0) {
                tunnel_done(&tt->tunnel, false);
                return log_warning_errno(r, "Cannot send the hello: %m");
        }

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
                r = log_error_errno(negative_errno(), "socketpair: %m");
                goto fail;
        }
        tt->pump_fd = sp[1];
        if (pipe2(tt->stop_fd, O_CLOEXEC) < 0 || pipe2(tt->done_fd, O_CLOEXEC) < 0) {
                r = log_error_errno(negative_errno(), "pipe2: %m");
                close(sp[0]);
                goto fail;
        }
        /* The pump thread must never take SIGTERM and the like: the loop
         * reads them from its signalfd and ends the sessions gracefully. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        r = -pthread_create(&tt->thread, NULL, pump_thread, tt);
        if (r < 0) {
                log_error_errno(r, "Cannot start the tunnel pump: %m");
                close(sp[0]);
                goto fail;
        }
        tt->running = true;
        return sp[0];
fail:
        closep(&tt->pump_fd);
        for (int i = 0; i < 2; i++) {
                closep(&tt->stop_fd[i]);
                closep(&tt->done_fd[i]);
        }
        tunnel_done(&tt->tunnel, false);
        return r;
}

int tunnel_transport_finish(struct tunnel_transport *tt, usec_t linger) {
        if (tt->running) {
                usec_t deadline = deadline_after(linger);

                /* The pump closes done_fd[1] when it returns: POLLHUP here. */
                if (fd_wait(tt->done_fd[0], POLLIN, deadline) < 0 && write(tt->stop_fd[1], "x", 1) < 0)
                        log_warning_errno(negative_errno(), "Cannot stop the tunnel pump: %m");
                pthread_join(tt->thread, NULL);
                tt->running = false;
        }
        closep(&tt->pump_fd);
        for (int i = 0; i < 2; i++) {
                closep(&tt->stop_fd[i]);
                closep(&tt->done_fd[i]);
        }
        tunnel_done(&tt->tunnel, false);
        return tt->result;
}
