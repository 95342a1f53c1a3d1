/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The session table of kairos-recovery's main process. Every connection (a
 * direct tunnel, a relay connection that paired, a plain SSH connection)
 * goes to a fresh fork+exec of the session helper with only its fd and a
 * control socket (session-protocol.h). The helper's reports keep the table
 * current; the limits that span connections live here:
 *  - at most max_unauthenticated helpers that have not authenticated yet
 *    (a MaxStartups: a flood of half-open connections cannot starve the
 *    real user, and costs us at most that many processes);
 *  - plain SSH (the password's only open door): per source address, at
 *    most a few connections unauthenticated at once, and beyond a rate of
 *    password failures that address is refused for a while. Per source,
 *    so that a guesser slows itself down, not the real user.
 * One crashing or hanging helper costs one session. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

enum session_transport {
        SESSION_TUNNEL,
        SESSION_SSH,
};

enum session_state {
        SESSION_STARTING,      /* helper running, nothing proven yet */
        SESSION_ESTABLISHED,   /* tunnel key confirmed, SSH not yet authenticated */
        SESSION_AUTHENTICATED,
};

struct session_info {
        unsigned id;
        enum session_transport transport;
        enum session_state state;
        const char *peer;      /* "relay tcp:host:4001 slot 2", "direct 192.0.2.9:51234" */
        const char *user, *method;
};

struct sessions;

struct sessions_callbacks {
        /* The helper's configuration datagram for a new session
         * (session-protocol.h), into buf; returns its length or -errno. */
        int (*config)(void *userdata, enum session_transport transport, const char *peer, char *buf, size_t size);
        /* Something changed that STATUS= or the screen shows. */
        void (*changed)(void *userdata);
};

int sessions_new(sd_event *event, const char *helper_path, unsigned max_unauthenticated,
                 const struct sessions_callbacks *cb, void *userdata, struct sessions **ret);
/* Sends SIGTERM to every helper, frees the table. */
struct sessions *sessions_free(struct sessions *s);

/* Takes fd (closed on error). -EBUSY when at the limit of unauthenticated
 * connections or refusing plain SSH after too many password failures. */
int sessions_start(struct sessions *s, int fd, enum session_transport transport, const char *peer);

void sessions_set_max_unauthenticated(struct sessions *s, unsigned max);
/* A host key in memory (host-key.h), given to every helper as
 * SESSION_FD_HOST_KEY; -EBADF for none. */
void sessions_set_host_key_fd(struct sessions *s, int fd);
unsigned sessions_count(const struct sessions *s);
unsigned sessions_authenticated(const struct sessions *s);
/* Sessions that authenticated since the start (for STATUS=). */
unsigned sessions_total(const struct sessions *s);
/* i-th session, for the screen; false past the end. */
bool sessions_get(const struct sessions *s, size_t i, struct session_info *info);

static inline void sessions_freep(struct sessions **s) {
        if (*s)
                sessions_free(*s);
}
