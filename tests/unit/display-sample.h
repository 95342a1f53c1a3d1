/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What test-display and test-display-writer show on their screens: a
 * typical recovery (the default token with two IPv4 addresses, two
 * sessions) and the longest one (an IPv6 address too, a 253-character host
 * name, 40 sessions, a relay status as long as it can be). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"

#define FINGERPRINT "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"
#define LONG_V6 "2001:db8:1234:5678:9abc:def0:1234:5678"

static inline void add_address(struct kairos_token *t, const char *s) {
        struct kairos_address a = { .family = strchr(s, ':') ? AF_INET6 : AF_INET };

        if (inet_pton(a.family, s, a.bytes) != 1 || token_add_address(t, &a) < 0)
                abort();
}

/* The token of the last make_info(). */
static struct kairos_token token;

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline void make_info(struct display_info *i, bool longest) {
        *i = (struct display_info) {};
        token_new(&token);
        add_address(&token, "192.168.1.20");
        add_address(&token, "10.0.0.5");
        if (longest)
                add_address(&token, LONG_V6);
        if (display_info_set_token(i, &token) < 0)
                abort();
        strcpy(i->fingerprint, FINGERPRINT);
        strcpy(i->local_shell, "tty2");
        if (!longest) {
                strcpy(i->hostname, "rescue-me");
                strcpy(i->relay, "waiting on transit.magic-wormhole.io:4001");
                i->n_sessions = 2;
                strcpy(i->sessions[0], "192.0.2.50 (direct)");
                strcpy(i->sessions[1], "198.51.100.7 (relay)");
                return;
        }
        memset(i->hostname, 'h', 253);
        memset(i->relay, 'r', sizeof i->relay - 1);
        i->n_sessions = 40;
        for (unsigned k = 0; k < DISPLAY_SESSIONS_MAX; k++)
                snprintf(i->sessions[k], sizeof i->sessions[k], "[" LONG_V6 "]:%u (relay)", 60000 + k);
}

static inline unsigned count(const char *hay, const char *needle) {
        unsigned n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}
