/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What must hold after any input to the configuration parsers (conf.h),
 * shared by fuzz-conf.c and fuzz-cmdline.c:
 *  - every diagnostic is a bounded line of valid UTF-8 without control
 *    characters (it goes to a terminal and the journal), with a source;
 *  - the configuration is within its limits: every relay parses, ports are
 *    not 0, paths are absolute or empty, numbers in their ranges;
 *  - its rendering (show-config) read back onto the defaults gives the same
 *    configuration, with no problem reported.
 * The UTF-8 check here is written apart from conf-report.c's, so that a bug
 * there is not shared. */

#include <string.h>
#include <syslog.h>

#include "conf.h"
#include "fuzz.h"

static inline bool fuzz_clean_text(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                size_t n = *p < 0x80 ? 1 : *p >= 0xc2 && *p <= 0xdf ? 2 : *p >= 0xe0 && *p <= 0xef ? 3
                         : *p >= 0xf0 && *p <= 0xf4 ? 4 : 0;
                if (n == 0 || *p < 0x20 || *p == 0x7f)
                        return false;
                for (size_t i = 1; i < n; i++)
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                if (n == 2 && p[1] < 0xa0 && p[0] == 0xc2)
                        return false; /* C1 controls */
                if ((n == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (n == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
                    (n == 4 && p[0] == 0xf0 && p[1] < 0x90) || (n == 4 && p[0] == 0xf4 && p[1] >= 0x90))
                        return false; /* overlong, surrogate, beyond U+10FFFF */
                p += n;
        }
        return true;
}

static unsigned fuzz_diag_count;

static inline void fuzz_diag(int level, const char *source, unsigned line, const char *message, void *userdata) {
        FUZZ_ASSERT(level >= LOG_EMERG && level <= LOG_DEBUG);
        FUZZ_ASSERT(source && *source);
        FUZZ_ASSERT(message && *message);
        FUZZ_ASSERT(strlen(message) < 512);
        FUZZ_ASSERT(fuzz_clean_text(message));
        fuzz_diag_count++;
}

static inline bool fuzz_terminated(const char *s, size_t size) {
        return memchr(s, '\0', size) != NULL;
}

static inline void fuzz_check_config(const struct recovery_config *c) {
        char host[256];
        uint16_t port;

        FUZZ_ASSERT(c->n_relays <= CONF_MAX_RELAYS);
        for (size_t i = 0; i < c->n_relays; i++) {
                FUZZ_ASSERT(fuzz_terminated(c->relays[i], sizeof c->relays[i]));
                FUZZ_ASSERT(relay_parse(c->relays[i], host, sizeof host, &port) == 0);
        }
        FUZZ_ASSERT(c->n_consoles <= CONF_MAX_CONSOLES);
        for (size_t i = 0; i < c->n_consoles; i++) {
                FUZZ_ASSERT(fuzz_terminated(c->consoles[i], sizeof c->consoles[i]));
                FUZZ_ASSERT(c->consoles[i][0] && !strchr(c->consoles[i], '/'));
                FUZZ_ASSERT(fuzz_clean_text(c->consoles[i]));
        }
        FUZZ_ASSERT(c->tunnel_port != 0 && c->plain_ssh_port != 0);
        FUZZ_ASSERT(c->plymouth == CONF_PLYMOUTH_AUTO || c->plymouth == CONF_PLYMOUTH_YES ||
                    c->plymouth == CONF_PLYMOUTH_NO);
        FUZZ_ASSERT(fuzz_terminated(c->host_key, sizeof c->host_key));
        FUZZ_ASSERT(fuzz_terminated(c->authorized_keys, sizeof c->authorized_keys));
        FUZZ_ASSERT(!c->host_key[0] || c->host_key[0] == '/');
        FUZZ_ASSERT(!c->authorized_keys[0] || c->authorized_keys[0] == '/');
        FUZZ_ASSERT(c->max_startups >= 1 && c->max_startups <= 1000);
        FUZZ_ASSERT(c->max_auth_tries >= 1 && c->max_auth_tries <= 100);
        FUZZ_ASSERT(c->auth_timeout_sec >= 1 && c->auth_timeout_sec <= 3600);
        FUZZ_ASSERT(c->waiter_replace_sec >= 30 && c->waiter_replace_sec <= 86400);
        FUZZ_ASSERT(c->log_level >= LOG_EMERG && c->log_level <= LOG_DEBUG);
}

/* show-config's text is a recovery.conf that gives c again, cleanly. */
static inline void fuzz_check_render(const struct recovery_config *c) {
        struct recovery_config *again = malloc(sizeof *again);
        char *text = NULL;
        unsigned before = fuzz_diag_count;

        FUZZ_ASSERT(again);
        FUZZ_ASSERT(conf_render(c, &text) == 0);
        FUZZ_ASSERT(text);
        conf_init_defaults(again);
        FUZZ_ASSERT(conf_parse_text(again, text, strlen(text), "rendered", fuzz_diag, NULL) == 0);
        FUZZ_ASSERT(fuzz_diag_count == before);
        FUZZ_ASSERT(conf_equal(c, again));
        free(text);
        free(again);
}
