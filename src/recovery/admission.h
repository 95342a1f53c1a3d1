/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Admission before authentication: which connection a stranger may cost us,
 * and which one goes when too many wait. Pure policy, no I/O: sessions.c
 * asks, and carries out the answer.
 *
 * Noise NNpsk0 has no stateless cookie, so the connections that have
 * proven nothing are what a stranger attacks. The rules, in
 * kairos-recovery(8):
 *  - connections are counted by stage: connected (nothing received yet: a
 *    tunnel connection waits for its first handshake message before any
 *    helper starts, and costs only its socket), spoken (that message is in
 *    and a helper works on it, which takes it a few milliseconds either
 *    way), proven (the message decrypted: the peer holds the secret, or
 *    replays a message it saw), established (key confirmed), authenticated.
 *    Plain SSH connections get their helper at once and stay "connected"
 *    until they authenticate: the password is their only proof;
 *  - the first three stages are "waiting"; each path (the direct port, the
 *    relay, plain SSH) has its own budget of waiting connections, so that
 *    the abuse of one path never reaches another;
 *  - one source (an IPv4 address, an IPv6 /64, a relay slot) holds at most
 *    a few of a path's waiting connections;
 *  - a newcomer beyond its source's share, or on a path whose budget is
 *    full, pushes out a connection that is still only "connected": its own
 *    source's when over its share, else the one from the source holding
 *    the most, the oldest of those. A connection that has spoken is never
 *    pushed out (its helper is about to decide, and a real user's burst of
 *    connections would otherwise push out its own): when nothing silent can
 *    go, the newcomer is told "busy" and its bridge tries again;
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
        ADMISSION_SPOKEN,
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
        unsigned per_path;   /* waiting connections on one path (MaxStartups=) */
        unsigned per_source; /* of them from one source */
};

#define ADMISSION_PER_SOURCE 3

const char *admission_path_name(enum admission_path p);
bool admission_waiting(enum admission_stage s);

/* The source of a peer address: IPv4 (also mapped into IPv6) whole, IPv6
 * by its /64, which one subscriber usually holds whole. */
void admission_source(const struct sockaddr *sa, socklen_t len, char *out, size_t size);

/* What admission_pick_victim answers besides an entry's index. */
#define ADMISSION_FITS (-1)
#define ADMISSION_REFUSE (-2) /* nothing silent can go: tell the newcomer "busy" */

/* The index of the entry to drop so that a newcomer on path from source
 * can be admitted, ADMISSION_FITS, or ADMISSION_REFUSE. entries are the
 * connections held now. */
int admission_pick_victim(const struct admission_entry *entries, size_t n, enum admission_path path,
                          const char *source, const struct admission_limits *limits);

/* Failures per path, source and minute: password failures and failed
 * tunnel handshakes (including silent connections dropped for a newcomer). Per path: a
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
