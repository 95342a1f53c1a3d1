/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The bridge's local side: 127.0.0.1:2200 (or --listen), one tunnel per
 * accepted TCP connection (simple, and TCP gives flow control), each in a
 * thread of its own; the path that won last is tried first next time. Also
 * --stdio: one connection on stdin/stdout, for ssh's ProxyCommand. */

#include <stdbool.h>

#include "dial.h"

struct bridge;

struct bridge_callbacks {
        /* A connection opened or closed: counts for STATUS= and the log. */
        void (*changed)(void *userdata, unsigned connections, enum dial_path last_path, const char *last_where);
};

struct bridge *bridge_new(const struct dial_options *o, const struct bridge_callbacks *cb, void *userdata);
void bridge_free(struct bridge *b);

/* "ADDR:PORT" ([v6]:port); a non-loopback address only with allow_remote.
 * Returns the listening fd, -EADDRINUSE, -EPERM (not loopback), -EINVAL. */
int bridge_listen(const char *spec, bool allow_remote);

/* SIGINT and SIGTERM stop the bridge from now on: dialing is cancelled,
 * and the tunnels are ended cleanly. */
void bridge_handle_signals(struct bridge *b);

/* Accepts and serves until SIGINT or SIGTERM, then ends every tunnel
 * cleanly and returns 0. */
int bridge_serve(struct bridge *b, int listen_fd);

/* One connection on stdin/stdout; returns when it ends. */
int bridge_stdio(struct bridge *b, struct dial_result *res);

/* The first dial, to tell the user the machine is really reachable; the
 * tunnel is closed again (each SSH connection gets its own). */
int bridge_probe(struct bridge *b, struct dial_result *res);
