/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text checks and problem reports for the configuration parsers: every
 * message is clean, bounded UTF-8, and a source full of garbage is reported
 * CONF_REPORT_MAX times, then counted. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "conf-internal.h"
#include "log.h"

/* ---- text ---- */

bool conf_utf8_valid(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s, *end = p + len;

        while (p < end) {
                uint32_t cp, min;
                size_t n;

                if (*p < 0x80) {
                        p++;
                        continue;
                }
                if ((*p & 0xe0) == 0xc0)
                        n = 2, cp = *p & 0x1f, min = 0x80;
                else if ((*p & 0xf0) == 0xe0)
                        n = 3, cp = *p & 0x0f, min = 0x800;
                else if ((*p & 0xf8) == 0xf0)
                        n = 4, cp = *p & 0x07, min = 0x10000;
                else
                        return false;
                if ((size_t) (end - p) < n)
                        return false;
                for (size_t i = 1; i < n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (p[i] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                p += n;
        }
        return true;
}

bool conf_has_control(const char *s, size_t len, bool allow_tab) {
        const unsigned char *p = (const unsigned char *) s;

        for (size_t i = 0; i < len; i++) {
                if ((p[i] < 0x20 && !(allow_tab && p[i] == '\t')) || p[i] == 0x7f)
                        return true;
                /* U+0080-U+009F: some terminals act on these too. */
                if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
                        return true;
        }
        return false;
}

void conf_excerpt(const char *s, char *buf, size_t size) {
        size_t len = strlen(s), n = MIN(len, MIN((size_t) CONF_EXCERPT_MAX, size - 4));

        if (n < len)
                while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80)
                        n--; /* not in the middle of a character */
        /* Values may hold tabs (and callers may pass anything): a message
         * is one line without control characters. */
        for (size_t i = 0; i < n; i++)
                buf[i] = s[i] == '\t' ? ' ' : ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
        strcpy(buf + n, n < len ? "..." : "");
}

/* ---- reporting ---- */

static void diag_log(int level, const char *source, unsigned line, const char *message, void *userdata) {
        char file[CONF_PATH_MAX + 16], lf[32];
        const char *fields[3] = { NULL };

        if (line > 0) {
                snprintf(file, sizeof file, "CONFIG_FILE=%s", source);
                snprintf(lf, sizeof lf, "CONFIG_LINE=%u", line);
                fields[0] = file;
                fields[1] = lf;
                log_struct(level, 0, NULL, fields, "%s:%u: %s", source, line, message);
        } else
                log_struct(level, 0, NULL, fields, "%s: %s", source, message);
}

static void emit(struct conf_ctx *x, int level, const char *message) {
        (x->diag ?: diag_log)(level, x->source, x->line, message, x->userdata);
}

_printf_(3, 0)
static void reportv(struct conf_ctx *x, int level, const char *format, va_list ap) {
        char msg[512];
        int n;

        if (++x->problems > CONF_REPORT_MAX)
                return; /* a file of garbage must not flood the journal */
        n = vsnprintf(msg, sizeof msg, format, ap);
        if (n >= (int) sizeof msg) {
                /* Cut: never leave half a character behind. */
                size_t l = sizeof msg - 1;
                while (l > 0 && ((unsigned char) msg[l] & 0xc0) == 0x80)
                        l--;
                msg[l] = '\0';
        }
        emit(x, level, msg);
}

void conf_report(struct conf_ctx *x, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        reportv(x, LOG_WARNING, format, ap);
        va_end(ap);
}

void conf_report_level(struct conf_ctx *x, int level, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        reportv(x, level, format, ap);
        va_end(ap);
}

void conf_ctx_init(struct conf_ctx *x, struct recovery_config *c, enum conf_source kind, const char *source,
                   conf_diag_t diag, void *userdata) {
        *x = (struct conf_ctx) {
                .c = c, .kind = kind, .source = source, .diag = diag, .userdata = userdata,
                .saved_n_relays = c->n_relays, .saved_n_consoles = c->n_consoles,
                .saved_origin = { c->origin[CONF_KEY_RELAY], c->origin[CONF_KEY_CONSOLE] },
        };
        memcpy(x->saved_relays, c->relays, sizeof x->saved_relays);
        memcpy(x->saved_consoles, c->consoles, sizeof x->saved_consoles);
}

int conf_ctx_finish(struct conf_ctx *x) {
        struct recovery_config *c = x->c;
        char now[512];

        if (c->n_relays == 0 && x->list_rejected[CONF_LIST_RELAY] > 0) {
                c->n_relays = x->saved_n_relays;
                memcpy(c->relays, x->saved_relays, sizeof c->relays);
                c->origin[CONF_KEY_RELAY] = x->saved_origin[CONF_LIST_RELAY];
                x->line = x->list_line[CONF_LIST_RELAY];
                conf_format_value(c, CONF_KEY_RELAY, now, sizeof now);
                conf_report(x, "no valid relay given — keeping %s", *now ? now : "no relay");
        }
        if (c->n_consoles == 0 && x->list_rejected[CONF_LIST_CONSOLE] > 0 && x->saved_n_consoles > 0) {
                c->n_consoles = x->saved_n_consoles;
                memcpy(c->consoles, x->saved_consoles, sizeof c->consoles);
                c->origin[CONF_KEY_CONSOLE] = x->saved_origin[CONF_LIST_CONSOLE];
                x->line = x->list_line[CONF_LIST_CONSOLE];
                conf_format_value(c, CONF_KEY_CONSOLE, now, sizeof now);
                conf_report(x, "no valid console given — keeping %s", now);
        }
        if (x->problems > CONF_REPORT_MAX) {
                snprintf(now, sizeof now, "%u more problems not shown", x->problems - CONF_REPORT_MAX);
                x->line = 0;
                emit(x, LOG_WARNING, now);
        }
        return (int) MIN(x->problems, (unsigned) INT32_MAX);
}

