/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Admission before authentication: which connection a stranger may cost us,
 * and which one goes when too many wait. Pure policy, no I/O: sessions.c
 * asks, and carries out the answer.
 *
 * A connection costs a session helper from its first byte, and Noise
 * NNpsk0 has no stateless cookie, so the helpers that have proven nothing
 * are what a stranger attacks. The rules, in kairos-recovery(8):
 *  - helpers are counted by stage: connected (nothing proven), proven (the
 *    tunnel's first handshake message decrypted: the peer holds the secret,
 *    or replays a message it saw), established (key confirmed: it holds the
 *    secret), authenticated. Plain SSH connections stay "connected" until
 *    they authenticate: the password is their only proof;
 *  - the first two stages are "waiting"; each path (the direct port, the
 *    relay, plain SSH) has its own budget of waiting helpers, so that the
 *    abuse of one path never reaches another;
 *  - one source (an IPv4 address, an IPv6 /64, a relay slot) holds at most
 *    a few of a path's waiting helpers: a newcomer beyond that replaces
 *    that source's own oldest;
 *  - when a path's budget is full the newcomer is admitted and a waiting
 *    helper goes: one that has proven nothing before one that has, from
 *    the source holding the most, the oldest of those. A real user's
 *    connection, from a source of its own, proves itself one round trip
 *    after it connects; many strangers would have to fill the whole budget
 *    from as many sources within that round trip to push it out;
 *  - a source whose handshakes or passwords keep failing is refused for
 *    the rest of a minute (admission_penalty_*), before any helper starts. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "io.h"

enum admission_path {
        ADMISSION_DIRECT,
        ADMISSION_RELAY,
        ADMISSION_SSH,
        _ADMISSION_PATH_MAX,
};

enum admission_stage {
        ADMISSION_CONNECTED,
        ADMISSION_PROVEN,
        ADMISSION_ESTABLISHED,
        ADMISSION_AUTHENTICATED,
};

/* "192.0.2.9", "2001:db8:1:2::/64", "relay tcp:host:4001 slot 2" */
#define ADMISSION_SOURCE_MAX 96

struct admission_entry {
        enum admission_path path;
        enum admission_stage stage;
        const char *source;
        usec_t started;
};

struct admission_limits {
        unsigned per_path;   /* waiting helpers on one path (MaxStartups=) */
        unsigned per_source; /* of them from one source */
};

#define ADMISSION_PER_SOURCE 3

const char *admission_path_name(enum admission_path p);
bool admission_waiting(enum admission_stage s);

/* The source of a peer address: IPv4 (also mapped into IPv6) whole, IPv6
 * by its /64, which one subscriber usually holds whole. */
void admission_source(const struct sockaddr *sa, socklen_t len, char *out, size_t size);

/* The index of the entry to drop so that a newcomer on path from source
 * can be admitted, or -1 when it fits. entries are the helpers running now. */
int admission_pick_victim(const struct admission_entry *entries, size_t n, enum admission_path path,
                          const char *source, const struct admission_limits *limits);

/* Failures per path, source and minute: password failures and failed
 * tunnel handshakes (including helpers dropped for a newcomer). Per path: a
 * flood of the tunnel port does not close plain SSH to its source. */
#define ADMISSION_PENALTY_WINDOW (60 * USEC_PER_SEC)
#define ADMISSION_PENALTY_SOURCES 64

struct admission_penalties {
        struct admission_failures {
                enum admission_path path;
                char source[ADMISSION_SOURCE_MAX];
                usec_t window_start;
                unsigned failures;
                bool refusal_told; /* this window's refusal logged */
        } table[ADMISSION_PENALTY_SOURCES];
};

void admission_penalty_note(struct admission_penalties *p, enum admission_path path, const char *source, usec_t now);
/* Failures of source on path in the current minute (0 after it). */
unsigned admission_penalty_count(struct admission_penalties *p, enum admission_path path, const char *source,
                                 usec_t now);
/* true the first time in its window that source is refused: said once a
 * source and minute, however many strangers fill the journal otherwise. */
bool admission_penalty_first_refusal(struct admission_penalties *p, enum admission_path path, const char *source,
                                     usec_t now);
