/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the file parser (conf.c) and the command line parser (conf-cmdline.c)
 * share: one parse context, and one setter per key (conf-values.c), so that a
 * key means the same in both places and is reported the same way. */

#include "conf.h"
#include "macro.h"

enum { CONF_LIST_RELAY, CONF_LIST_CONSOLE, CONF_LIST_NOTIFY_KEY, _CONF_LIST_MAX };

struct conf_ctx {
        struct recovery_config *c;
        enum conf_source kind;
        const char *source; /* file name, or CONF_CMDLINE_SOURCE */
        unsigned line;
        conf_diag_t diag;
        void *userdata;
        unsigned problems;
        /* How the key being set is written in this source, for messages:
         * "TunnelPort" or "kairos.recovery.tunnel_port". */
        const char *key_text;

        /* The first assignment of a list in a source replaces the list the
         * source started with; later ones add to it. */
        bool list_assigned[_CONF_LIST_MAX];
        /* Entries rejected since the list was last replaced: if a source
         * leaves a list empty only because all its entries were bad, the
         * list it started with comes back (conf_ctx_finish()). */
        unsigned list_rejected[_CONF_LIST_MAX];
        unsigned list_line[_CONF_LIST_MAX]; /* of the last rejection */
        size_t saved_n_relays, saved_n_consoles;
        char saved_relays[CONF_MAX_RELAYS][KAIROS_RELAY_TEXT_MAX];
        char saved_consoles[CONF_MAX_CONSOLES][CONF_CONSOLE_NAME_MAX];
        struct conf_origin saved_origin[_CONF_LIST_MAX];
};

void conf_ctx_init(struct conf_ctx *x, struct recovery_config *c, enum conf_source kind, const char *source,
                   conf_diag_t diag, void *userdata);
/* Restores lists emptied by bad values, and says how many problems were
 * not shown. Returns the number of problems. */
int conf_ctx_finish(struct conf_ctx *x);

/* Reports a problem at the context's source and line (warning level). */
void conf_report(struct conf_ctx *x, const char *format, ...) _printf_(2, 3);
void conf_report_level(struct conf_ctx *x, int level, const char *format, ...) _printf_(3, 4);

/* The key whose file name (case-sensitive) or command line name (- and _
 * alike, as the kernel compares) this is; -1 if none. */
int conf_key_from_name(const char *name, size_t len);
int conf_key_from_cmdline_name(const char *name, size_t len);
/* A key the unknown name was probably meant to be, or NULL. */
const char *conf_key_suggest(const char *name, size_t len, bool cmdline);
/* Whether a key takes a boolean, so that a bare flag means yes. */
bool conf_key_is_boolean(enum conf_key k);

/* Sets key k from value (trimmed, unquoted), reporting a bad one. */
void conf_set(struct conf_ctx *x, enum conf_key k, const char *value);

/* The value of key k as it is written in a file. Lists: the entries
 * separated by spaces. */
void conf_format_value(const struct recovery_config *c, enum conf_key k, char *buf, size_t size);

/* Text checks: valid UTF-8 (no overlong forms, surrogates or values above
 * U+10FFFF), and no control characters (C0 but tab, DEL, C1), which a
 * message or show-config would otherwise send to a terminal. */
bool conf_utf8_valid(const char *s, size_t len);
bool conf_has_control(const char *s, size_t len, bool allow_tab);

#define CONF_EXCERPT_MAX 64
/* A printable, bounded excerpt of s, for messages: cut at a character
 * boundary, with "..." when cut; a tab becomes a space, another control
 * character a '?'. */
void conf_excerpt(const char *s, char *buf, size_t size);

/* The whole of a file, NUL-terminated, if at most max bytes: -ENOENT,
 * -EINVAL (not a regular file), -EFBIG, -ENOMEM or the error of read(). */
int conf_read_file(const char *path, size_t max, char **ret, size_t *ret_size);
