/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "admission.h"

const char *admission_path_name(enum admission_path p) {
        switch (p) {
        case ADMISSION_DIRECT: return "direct";
        case ADMISSION_RELAY: return "relay";
        case ADMISSION_SSH: return "ssh";
        default: return "?";
        }
}

bool admission_waiting(enum admission_stage s) {
        return s == ADMISSION_CONNECTED || s == ADMISSION_SPOKEN || s == ADMISSION_PROVEN;
}

void admission_source(const struct sockaddr *sa, socklen_t len, char *out, size_t size) {
        char a[INET6_ADDRSTRLEN] = "?";

        if (sa && sa->sa_family == AF_INET && len >= (socklen_t) sizeof(struct sockaddr_in))
                inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, a, sizeof a);
        else if (sa && sa->sa_family == AF_INET6 && len >= (socklen_t) sizeof(struct sockaddr_in6)) {
                const struct in6_addr *in = &((const struct sockaddr_in6 *) sa)->sin6_addr;

                if (IN6_IS_ADDR_V4MAPPED(in))
                        inet_ntop(AF_INET, &in->s6_addr[12], a, sizeof a);
                else {
                        struct in6_addr prefix = *in;

                        memset(&prefix.s6_addr[8], 0, 8);
                        inet_ntop(AF_INET6, &prefix, a, sizeof a);
                        snprintf(out, size, "%s/64", a);
                        return;
                }
        }
        snprintf(out, size, "%s", a);
}

static unsigned waiting_from(const struct admission_entry *e, size_t n, enum admission_path path, const char *source) {
        unsigned k = 0;

        for (size_t i = 0; i < n; i++)
                k += e[i].path == path && admission_waiting(e[i].stage) && !strcmp(e[i].source, source);
        return k;
}

/* Is a a better victim than b (both silent)? The source holding more, then
 * the older. */
static bool worse(const struct admission_entry *e, size_t n, size_t a, size_t b) {
        unsigned ca = waiting_from(e, n, e[a].path, e[a].source), cb = waiting_from(e, n, e[b].path, e[b].source);

        if (ca != cb)
                return ca > cb;
        return e[a].started < e[b].started;
}

int admission_pick_victim(const struct admission_entry *e, size_t n, enum admission_path path, const char *source,
                          const struct admission_limits *limits) {
        bool own = waiting_from(e, n, path, source) >= limits->per_source;
        unsigned on_path = 0;
        int victim = ADMISSION_FITS;

        for (size_t i = 0; i < n; i++)
                on_path += e[i].path == path && admission_waiting(e[i].stage);
        if (!own && on_path < limits->per_path)
                return ADMISSION_FITS;
        /* Only the silent go; over its own share, a source only ever
         * replaces its own. */
        for (size_t i = 0; i < n; i++) {
                if (e[i].path != path || e[i].stage != ADMISSION_CONNECTED || (own && strcmp(e[i].source, source)))
                        continue;
                if (victim < 0 || worse(e, n, i, (size_t) victim))
                        victim = (int) i;
        }
        return victim < 0 ? ADMISSION_REFUSE : victim;
}

static struct admission_failures *lookup(struct admission_penalties *p, enum admission_path path, const char *source,
                                         usec_t now, bool create) {
        struct admission_failures *stalest = &p->table[0];

        for (size_t i = 0; i < ADMISSION_PENALTY_SOURCES; i++) {
                struct admission_failures *f = &p->table[i];

                if (f->source[0] && f->path == path && !strcmp(f->source, source)) {
                        if (now - f->window_start > ADMISSION_PENALTY_WINDOW) {
                                f->window_start = now;
                                f->failures = 0;
                                f->refusal_told = false;
                        }
                        return f;
                }
                if (f->window_start < stalest->window_start)
                        stalest = f;
        }
        if (!create)
                return NULL;
        /* Forgetting the stalest source lets it start over: the table
         * bounds our memory, and a penalty only slows a guesser down. */
        *stalest = (struct admission_failures) { .path = path, .window_start = now };
        snprintf(stalest->source, sizeof stalest->source, "%s", source);
        return stalest;
}

void admission_penalty_note(struct admission_penalties *p, enum admission_path path, const char *source, usec_t now) {
        lookup(p, path, source, now, true)->failures++;
}

unsigned admission_penalty_count(struct admission_penalties *p, enum admission_path path, const char *source,
                                 usec_t now) {
        struct admission_failures *f = lookup(p, path, source, now, false);

        return f ? f->failures : 0;
}

bool admission_penalty_first_refusal(struct admission_penalties *p, enum admission_path path, const char *source,
                                     usec_t now) {
        struct admission_failures *f = lookup(p, path, source, now, false);

        if (!f || f->refusal_told)
                return false;
        f->refusal_told = true;
        return true;
}
