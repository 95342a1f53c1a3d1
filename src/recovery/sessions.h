/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The session table of kairos-recovery's main process. Every connection (a
 * direct tunnel, a relay connection that paired, a plain SSH connection)
 * goes to a fresh fork+exec of the session helper with only its fd and a
 * control socket (session-protocol.h); a tunnel connection only once its
 * first handshake message is whole. The helper's reports keep the table
 * current; the limits that span connections live here, by the rules of
 * admission.h: a budget of waiting connections per path, a share per
 * source, a silent one pushed out for a newcomer (or the newcomer told to
 * come back when none is silent), a source whose handshakes or passwords
 * keep failing refused for a while. Refused and dropped tunnel connections
 * are told "busy" (tunnel.h), so that the bridge does not blame the token.
 * One crashing or hanging helper costs one session. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "admission.h"
#include "token.h"

enum session_transport {
        SESSION_TUNNEL,
        SESSION_SSH,
};

enum session_state {
        /* A tunnel waiting for its first message (no helper yet); plain
         * SSH: its helper running, not logged in. */
        SESSION_CONNECTED = ADMISSION_CONNECTED,
        SESSION_STARTING = ADMISSION_SPOKEN,    /* the tunnel's first message in, its helper at work */
        SESSION_PROVEN = ADMISSION_PROVEN,      /* the tunnel's first message decrypted */
        SESSION_ESTABLISHED = ADMISSION_ESTABLISHED, /* key confirmed, SSH not yet authenticated */
        SESSION_AUTHENTICATED = ADMISSION_AUTHENTICATED,
};

/* Where a connection came from. */
struct session_origin {
        enum admission_path path;
        char peer[300];                       /* "relay tcp:host:4001 slot 2", "direct 192.0.2.9:51234" */
        char source[ADMISSION_SOURCE_MAX];    /* admission_source(), or the relay slot */
        char relay[KAIROS_RELAY_TEXT_MAX];    /* a relay pairing: which relay and slot */
        unsigned slot;
        bool retired;                         /* paired on a channel of the code before the rotation */
};

struct session_info {
        unsigned id;
        enum session_transport transport;
        enum session_state state;
        const char *peer;
        const char *user, *method;
};

struct sessions;

struct sessions_callbacks {
        /* The helper's configuration datagram for a new session
         * (session-protocol.h), into buf; returns its length or -errno. */
        int (*config)(void *userdata, enum session_transport transport, const char *peer, char *buf, size_t size);
        /* Something changed that STATUS= or the screen shows. */
        void (*changed)(void *userdata);
        /* A tunnel's handshake ended: ok when the key was confirmed; not ok
         * when it failed, timed out, or its helper was dropped or died
         * first. Once per tunnel connection. May be NULL. */
        void (*handshake)(void *userdata, const struct session_origin *origin, bool ok);
};

int sessions_new(sd_event *event, const char *helper_path, unsigned max_startups,
                 const struct sessions_callbacks *cb, void *userdata, struct sessions **ret);
/* Sends SIGTERM to every helper, frees the table. */
struct sessions *sessions_free(struct sessions *s);

/* Takes fd (closed on error). -EBUSY when its source is refused for now
 * (too many failures), or when every connection waiting on its path (or
 * from its source) is already at work: the peer is told "busy". */
int sessions_start(struct sessions *s, int fd, const struct session_origin *origin);

/* Ends every session that has not authenticated, at once (rotate: the old
 * secret must open nothing more, not even a handshake under way). Returns
 * how many. */
unsigned sessions_end_unauthenticated(struct sessions *s);

/* The budget of waiting connections per path (MaxStartups=). */
void sessions_set_max_startups(struct sessions *s, unsigned max);
/* How long a tunnel connection may take to send its first message
 * (HandshakeTimeoutSec=; the helper then has as long again). */
void sessions_set_handshake_timeout(struct sessions *s, unsigned sec);
/* A host key in memory (host-key.h), given to every helper as
 * SESSION_FD_HOST_KEY; -EBADF for none. */
void sessions_set_host_key_fd(struct sessions *s, int fd);
unsigned sessions_count(const struct sessions *s);
unsigned sessions_authenticated(const struct sessions *s);
/* Sessions that authenticated since the start (for STATUS=). */
unsigned sessions_total(const struct sessions *s);
/* Connections dropped for a newcomer, and refused, since the start. */
unsigned sessions_dropped(const struct sessions *s);
/* i-th session, for the screen; false past the end. */
bool sessions_get(const struct sessions *s, size_t i, struct session_info *info);

static inline void sessions_freep(struct sessions **s) {
        if (*s)
                sessions_free(*s);
}
