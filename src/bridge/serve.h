/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The bridge's local side: 127.0.0.1:2200 (or --listen), one tunnel per
 * accepted TCP connection (simple, and TCP gives flow control), each in a
 * thread of its own; the path that won last is tried first next time. Also
 * --stdio: one connection on stdin/stdout, for ssh's ProxyCommand. */

#include <stdbool.h>
#include <sys/un.h>

#include "dial.h"

struct bridge;

struct bridge_callbacks {
        /* A connection opened or closed: counts for STATUS= and the log. */
        void (*changed)(void *userdata, unsigned connections, enum dial_path last_path, const char *last_where);
        /* A local connection could not be carried (and was closed at once);
         * res says why (res->rejected: the token is no longer accepted). */
        void (*failed)(void *userdata, const struct dial_result *res);
        /* A first Ctrl-C with connections open: the bridge goes on. */
        void (*interrupted)(void *userdata, unsigned connections);
};

/* A second Ctrl-C within this much of the first ends open sessions. */
#define BRIDGE_SIGINT_WINDOW_USEC (5 * USEC_PER_SEC)

struct bridge *bridge_new(const struct dial_options *o, const struct bridge_callbacks *cb, void *userdata);
void bridge_free(struct bridge *b);

/* --listen: "ADDR:PORT" ([v6]:port; port 0 for a free one) or, with a
 * slash in it, the path of a Unix socket (mode 0600). A non-loopback
 * address only with allow_remote. Returns the listening fd and what ssh
 * connects to in shown (the port read back), or -EADDRINUSE, -EPERM (not
 * loopback), -EINVAL, -EEXIST (a path that is not an old socket of ours). */
int bridge_listen(const char *spec, bool allow_remote, char *shown, size_t shown_size);
/* Only the form, for the options: 0 or -EINVAL. */
int bridge_listen_check(const char *spec);
bool bridge_listen_is_unix(const char *spec);
int connect_unix_probe(const struct sockaddr_un *sa);

/* SIGINT and SIGTERM stop the bridge from now on: dialing is cancelled,
 * and the tunnels are ended cleanly. With connections open, a first SIGINT
 * only calls cb.interrupted; a second within BRIDGE_SIGINT_WINDOW_USEC
 * stops, and so does the last connection ending within it. SIGTERM always
 * stops at once. */
void bridge_handle_signals(struct bridge *b);
/* The signal that stopped the bridge, 0 if none. */
int bridge_stopped_by(void);
unsigned bridge_connections(struct bridge *b);
/* The machine proved that the token was rotated (dial.h): bridge_serve()
 * has ended, or ends once the open connections have. */
bool bridge_rotated(struct bridge *b);

/* Accepts and serves until SIGINT or SIGTERM, or until the token was found
 * rotated and no connection is open any more (bridge_rotated()), then ends
 * every tunnel cleanly and returns 0. */
int bridge_serve(struct bridge *b, int listen_fd);

/* One connection on stdin/stdout; returns when it ends. ready, if not
 * NULL, is called once the machine is reached, before any byte is carried. */
int bridge_stdio(struct bridge *b, struct dial_result *res, void (*ready)(const struct dial_result *res, void *userdata),
                 void *userdata);

/* The first dial, to tell the user the machine is really reachable. Its
 * tunnel is kept for the first ssh connection for BRIDGE_SPARE_USEC, then
 * closed (each later SSH connection gets its own). */
#define BRIDGE_SPARE_USEC (60 * USEC_PER_SEC)
int bridge_probe(struct bridge *b, struct dial_result *res);
