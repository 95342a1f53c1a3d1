/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recovery screen's layout (display.h): a pure function from what to
 * show and the console's size to the bytes of one frame. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"

#define GAP 2           /* columns between the code's quiet zone and the text */
#define MIN_TEXT 24     /* narrower than this beside the code, the text goes under it */
#define LABEL 10        /* "Password  " */
#define LINES_MAX 64
#define WIDTH_MAX 256
#define TOKEN_GROUP 4   /* characters a group in the token text */

/* VT: reset, home, clear; the code light grey on black (the VT's own
 * default, pinned for terminals whose default is dark on light). */
#define VT_START "\033[0m\033[H\033[2J"
#define VT_CODE_ON "\033[0;37;40m"
#define VT_CODE_OFF "\033[0m"

struct text {
        unsigned width;
        size_t n;
        char line[LINES_MAX][WIDTH_MAX + 1];
};

/* Printable ASCII only: no field reaches a console as a control sequence. */
static void sanitize(const char *in, char *out, size_t size) {
        size_t n = 0;

        for (; in && *in && n + 1 < size; in++)
                out[n++] = (unsigned char) *in >= 0x20 && (unsigned char) *in < 0x7f ? *in : '?';
        out[n] = 0;
}

static void add(struct text *t, const char *s, size_t len) {
        if (t->n >= LINES_MAX)
                return;
        len = MIN(len, (size_t) t->width);
        memcpy(t->line[t->n], s, len);
        t->line[t->n][len] = 0;
        t->n++;
}

static void add_str(struct text *t, const char *s) {
        add(t, s, strlen(s));
}

/* "Label     value", the value cut into pieces that fit (at a space if
 * there is one), each further piece under the first; with max_lines, the
 * last one that fits ends in "...". */
static void add_field(struct text *t, const char *label, const char *value, unsigned max_lines) {
        char v[DISPLAY_HOSTNAME_MAX + 64], buf[WIDTH_MAX + 1];
        unsigned indent = t->width >= LABEL + 12 ? LABEL : 0;
        size_t room = t->width - indent, len, off = 0;
        unsigned lines = 0;

        sanitize(value, v, sizeof v);
        len = strlen(v);
        if (indent == 0) /* too narrow for a label column: label on its own line */
                add_str(t, label);
        do {
                size_t piece = MIN(room, len - off), sp = piece;
                bool cut = max_lines > 0 && lines + 1 == max_lines && off + piece < len;

                if (!cut && off + piece < len) {
                        while (sp > 0 && v[off + sp] != ' ')
                                sp--;
                        if (sp > 0)
                                piece = sp;
                }

                snprintf(buf, sizeof buf, "%-*s%.*s", (int) indent, lines == 0 && indent ? label : "", (int) piece, v + off);
                if (cut && room >= 3)
                        memcpy(buf + indent + room - 3, "...", 4);
                add_str(t, buf);
                off += piece;
                off += strspn(v + off, " ");
                lines++;
                if (cut)
                        break;
        } while (off < len);
}

/* Words wrapped at the width (a word longer than the width is cut). */
static void add_words(struct text *t, const char *s) {
        char buf[WIDTH_MAX + 1];
        size_t n = 0;

        while (*s) {
                size_t w = strcspn(s, " ");
                if (n > 0 && n + 1 + w > t->width) {
                        add(t, buf, n);
                        n = 0;
                }
                if (n > 0)
                        buf[n++] = ' ';
                w = MIN(w, (size_t) t->width - n);
                memcpy(buf + n, s, w);
                n += w;
                s += strcspn(s, " ");
                s += strspn(s, " ");
        }
        if (n > 0)
                add(t, buf, n);
}

static void build_text(struct text *t, const struct display_info *i, enum display_form form, bool blanks,
                       size_t session_limit) {
        char buf[WIDTH_MAX + 1], addr[INET6_ADDRSTRLEN + 16];
        unsigned listed = 0;

        t->n = 0;
        add_str(t, DISPLAY_TITLE);
        if (blanks)
                add_str(t, "");
        add_field(t, "Password", i->password[0] ? i->password : "(none yet)", 0);
        add_field(t, "Host", i->hostname[0] ? i->hostname : "(unknown)", 1);
        for (size_t k = 0; k < MIN(i->n_addresses, (size_t) KAIROS_TOKEN_MAX_ADDRESSES); k++) {
                char a[INET6_ADDRSTRLEN];

                address_to_string(&i->addresses[k], a, sizeof a);
                snprintf(addr, sizeof addr, i->addresses[k].family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, i->port);
                add_field(t, k == 0 ? "Address" : "", addr, 0);
        }
        if (i->n_addresses == 0)
                add_field(t, "Address", "none yet (relay only)", 0);
        if (i->fingerprint[0])
                add_field(t, "Host key", i->fingerprint, 0);
        if (i->relay[0])
                add_field(t, "Relay", i->relay, 2);

        if (i->n_sessions == 0)
                add_field(t, "Sessions", "none", 0);
        else {
                size_t known = 0, shown, need;

                snprintf(buf, sizeof buf, "%u connected", i->n_sessions);
                add_field(t, "Sessions", buf, 0);
                while (known < MIN(i->n_sessions, (unsigned) DISPLAY_SESSIONS_MAX) && i->sessions[known][0])
                        known++;
                /* All that are known, or as many as fit and "and N more"
                 * (which needs a line of its own and one entry at least). */
                need = known + (i->n_sessions > known);
                shown = need <= session_limit ? known : session_limit >= 2 ? session_limit - 1 : 0;
                for (size_t k = 0; k < shown; k++) {
                        add_field(t, "", i->sessions[k], 1);
                        listed++;
                }
                if (listed > 0 && listed < i->n_sessions) {
                        snprintf(buf, sizeof buf, "and %u more", i->n_sessions - listed);
                        add_field(t, "", buf, 1);
                }
        }

        if (blanks)
                add_str(t, "");
        add_words(t, DISPLAY_HELP);
        /* Keys switch VTs only on a VT: a serial console has no tty2. Alt
         * from a text VT, Ctrl+Alt from a graphical one (plymouth, X). */
        if (form == DISPLAY_FORM_VT && !strncmp(i->local_shell, "tty", 3)) {
                unsigned vt = 0;
                if (sscanf(i->local_shell + 3, "%u", &vt) == 1 && vt >= 1 && vt <= 12) {
                        snprintf(buf, sizeof buf, "Local root shell: Alt+F%u (Ctrl+Alt+F%u)", vt, vt);
                        add_words(t, buf);
                }
        }
}

/* The token under the code: "KAIROS:" and groups of four, wrapped. */
static void token_text(struct text *t, const char *token) {
        char s[KAIROS_TOKEN_TEXT_MAX * 2], clean[KAIROS_TOKEN_TEXT_MAX];
        size_t plen = strlen(KAIROS_TOKEN_PREFIX), n = 0;
        const char *body = token;

        t->n = 0;
        if (!token[0])
                return;
        sanitize(token, clean, sizeof clean);
        body = clean;
        if (strncmp(clean, KAIROS_TOKEN_PREFIX, plen) == 0) {
                n = (size_t) snprintf(s, sizeof s, "%s", KAIROS_TOKEN_PREFIX);
                body += plen;
        }
        for (size_t k = 0; body[k] && n + 3 < sizeof s; k++) {
                if (k % TOKEN_GROUP == 0 && n > 0)
                        s[n++] = ' ';
                s[n++] = body[k];
        }
        s[n] = 0;
        add_words(t, s);
}

int display_render(const struct display_info *i, const struct qr_code *qr_in, enum display_form form,
                   unsigned columns, unsigned rows, char **ret) {
        _cleanup_qr_ struct qr_code *own = NULL;
        _cleanup_free_ struct text *text = NULL, *left = NULL;
        _cleanup_free_ char *row = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        const struct qr_code *qr = qr_in;
        unsigned qr_cols = 0, qr_rows = 0, x0, limit, total, left_rows, text_budget;
        bool beside, blank_under_code = true;
        char *out = NULL;
        size_t out_size = 0, row_size;
        int r;

        if (form != DISPLAY_FORM_VT && form != DISPLAY_FORM_SERIAL)
                return -EINVAL;
        columns = MIN(columns ?: DISPLAY_DEFAULT_COLUMNS, 4096u);
        rows = MIN(rows ?: DISPLAY_DEFAULT_ROWS, 4096u);

        if (!qr && i->token[0]) {
                r = qr_encode(i->token, &own);
                if (r < 0)
                        return r;
                qr = own;
        }
        if (qr) {
                qr_cols = qr_text_columns(qr, QR_TEXT_QUIET_ZONE);
                qr_rows = qr_text_rows(qr, QR_TEXT_QUIET_ZONE);
        }

        /* A serial frame ends with a newline: one row less, or its first
         * row scrolls away. The code is never cut, whatever the screen. */
        limit = form == DISPLAY_FORM_SERIAL ? MAX(rows, 2u) - 1 : rows;
        limit = MAX(limit, qr_rows);

        text = calloc(1, sizeof *text);
        left = calloc(1, sizeof *left);
        if (!text || !left)
                return -ENOMEM;

        /* Under the code, if the rows allow: a blank row, the token text. */
        left->width = MIN(MAX(qr_cols, 20u), MIN(columns, (unsigned) WIDTH_MAX));
        token_text(left, i->token);
        if (qr && qr_rows + 1 + left->n > limit)
                blank_under_code = false;
        if (qr && qr_rows + left->n > limit)
                left->n = 0;
        left_rows = qr_rows + (left->n > 0 ? left->n + blank_under_code : 0);

        beside = qr && columns >= qr_cols + GAP + MIN_TEXT;
        x0 = beside ? qr_cols + GAP : 0;
        text->width = MIN(columns - x0, (unsigned) WIDTH_MAX);
        text_budget = beside ? limit : limit > left_rows ? limit - left_rows : 0;

        /* Everything; else as many sessions as fit; else that without the
         * blank lines; whatever still does not fit is cut at the end. */
        build_text(text, i, form, true, SIZE_MAX);
        if (text->n > text_budget) {
                bool blanks = true;
                for (int pass = 0; pass < 2 && text->n > text_budget; pass++) {
                        size_t base;
                        build_text(text, i, form, blanks, 0);
                        base = text->n;
                        build_text(text, i, form, blanks, text_budget > base ? text_budget - base : 0);
                        blanks = false;
                }
                text->n = MIN(text->n, (size_t) text_budget);
        }

        total = beside ? MAX(left_rows, (unsigned) text->n) : left_rows + (unsigned) text->n;
        row_size = (qr ? qr_text_row_size(qr, QR_TEXT_QUIET_ZONE) : 0) + WIDTH_MAX + columns + 64;
        row = malloc(row_size);
        f = open_memstream(&out, &out_size);
        if (!row || !f) {
                if (f)
                        fclose(TAKE_PTR(f));
                free(out);
                return -ENOMEM;
        }

        fputs(form == DISPLAY_FORM_VT ? VT_START : "\r\n", f);
        for (unsigned y = 0; y < total; y++) {
                const char *right = NULL;
                size_t n = 0;

                if (beside)
                        right = y < text->n && text->line[y][0] ? text->line[y] : NULL;
                else if (y >= left_rows && y - left_rows < text->n)
                        right = text->line[y - left_rows];

                if (y < qr_rows) {
                        if (form == DISPLAY_FORM_VT)
                                fputs(VT_CODE_ON, f);
                        r = qr_text_row(qr, QR_TEXT_QUIET_ZONE, y, row, row_size);
                        if (r < 0) {
                                fclose(TAKE_PTR(f));
                                free(out);
                                return r;
                        }
                        fputs(row, f);
                        if (form == DISPLAY_FORM_VT)
                                fputs(VT_CODE_OFF, f);
                        n = qr_cols;
                } else if (y < left_rows && y >= qr_rows + blank_under_code) {
                        const char *l = left->line[y - qr_rows - blank_under_code];
                        fputs(l, f);
                        n = strlen(l);
                }
                if (right && beside) {
                        fprintf(f, "%*s", (int) (x0 - n), "");
                        fputs(right, f);
                } else if (right)
                        fputs(right, f);

                if (form == DISPLAY_FORM_SERIAL || y + 1 < total)
                        fputs("\r\n", f);
        }
        if (fclose(TAKE_PTR(f)) != 0) {
                free(out);
                return -ENOMEM;
        }
        /* The frame holds the password: the layout's scratch copies go too. */
        explicit_bzero(text, sizeof *text);
        *ret = out;
        return 0;
}

int display_info_set_token(struct display_info *i, const struct kairos_token *t) {
        int r;

        r = token_encode(t, i->token, sizeof i->token);
        if (r < 0)
                return r;
        kdf_password(t->secret, i->password);
        i->port = t->port;
        i->n_addresses = MIN(t->n_addresses, (size_t) KAIROS_TOKEN_MAX_ADDRESSES);
        memcpy(i->addresses, t->addresses, i->n_addresses * sizeof i->addresses[0]);
        return 0;
}

void display_info_clear(struct display_info *i) {
        explicit_bzero(i->token, sizeof i->token);
        explicit_bzero(i->password, sizeof i->password);
}

int display_console_path(const char *name, const char *sysfs, char **ret) {
        char active[64] = "tty1", *p;

        if (!name || !*name || strstr(name, ".."))
                return -EINVAL;
        if (name[0] == '/') {
                if (strncmp(name, "/dev/", 5) != 0)
                        return -EINVAL;
                p = strdup(name);
        } else {
                if (strchr(name, '/') || strcmp(name, "console") == 0 || strlen(name) > 32)
                        return -EINVAL;
                if (strcmp(name, "tty0") == 0) {
                        /* tty0 is "the foreground VT": draw on that VT, so a
                         * later switch to another VT does not take the screen
                         * along with it. */
                        _cleanup_free_ char *fn = NULL;
                        _cleanup_fclose_ FILE *f = NULL;

                        if (asprintf(&fn, "%s/class/tty/tty0/active", sysfs ?: "/sys") < 0)
                                return -ENOMEM;
                        f = fopen(fn, "re");
                        if (f && fgets(active, sizeof active, f)) {
                                active[strcspn(active, " \n")] = 0;
                                if (!active[0] || strchr(active, '/') || strstr(active, ".."))
                                        strcpy(active, "tty1");
                        }
                        name = active;
                }
                if (asprintf(&p, "/dev/%s", name) < 0)
                        p = NULL;
        }
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}
