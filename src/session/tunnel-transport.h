/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* transport=tunnel: the Noise responder on the connection, then the SSH
 * server speaks through a socketpair whose other end a thread pumps
 * through the tunnel. */

#include <pthread.h>
#include <stdbool.h>

#include "control.h"
#include "tunnel.h"

struct tunnel_transport {
        struct tunnel tunnel;
        int pump_fd;     /* the pump's end of the socketpair */
        int stop_fd[2];  /* written to end the pump */
        int done_fd[2];  /* closed by the pump thread when it returns */
        pthread_t thread;
        bool running;
        bool established;  /* tunnel-established was reported */
        int result;      /* tunnel_pump()'s, once done */
};

/* Handshake (reporting tunnel-established or tunnel-failed), hello, pump.
 * Returns the fd for the SSH server, or negative. */
int tunnel_transport_start(struct tunnel_transport *tt, int conn_fd, const struct session_config *c,
                           usec_t deadline);
/* After the SSH server closed its end: gives the pump up to linger to pass
 * on the last bytes and the close, then stops it. Returns the pump's
 * result (0: both directions closed cleanly). */
int tunnel_transport_finish(struct tunnel_transport *tt, usec_t linger);
