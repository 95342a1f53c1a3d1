/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* display.h, the layout: it fits 80x24 (display columns and rows counted on
 * the frame as a terminal would show it) with the default and the longest
 * token and values, holds what it must, cuts what does not fit, never lets a
 * field send an escape sequence, and keeps the code whole; the serial form
 * is plain lines. And the console names. (The writer: test-display-writer.) */
#include <errno.h>
#include <sodium.h>
#include <sys/stat.h>

#include "display-sample.h"
#include "tap.h"

#define MAX_LINES 128

/* The frame as lines of what a terminal shows: escape sequences and CR
 * dropped; widths in display columns (every character here is one). */
struct screen {
        unsigned n, widest;
        char line[MAX_LINES][4096];
};

static void parse(const char *frame, enum display_form form, struct screen *s) {
        size_t len = 0;

        s->n = 0;
        s->widest = 0;
        if (form == DISPLAY_FORM_SERIAL && strncmp(frame, "\r\n", 2) == 0)
                frame += 2; /* the fresh line a serial frame starts with */
        s->line[0][0] = 0;
        for (const char *p = frame; *p && s->n < MAX_LINES; p++) {
                if (*p == '\033') {
                        p += 1 + strspn(p + 1, "[0123456789;?"); /* on the final byte */
                        continue;
                }
                if (*p == '\r' || *p == '\030')
                        continue;
                if (*p == '\n') {
                        s->n++;
                        len = 0;
                        if (s->n < MAX_LINES)
                                s->line[s->n][0] = 0;
                        continue;
                }
                if (len + 1 < sizeof s->line[0]) {
                        s->line[s->n][len++] = *p;
                        s->line[s->n][len] = 0;
                }
        }
        if (s->n < MAX_LINES && s->line[s->n][0])
                s->n++; /* a last line without a newline (VT) */
        for (unsigned k = 0; k < s->n; k++) {
                unsigned w = 0;
                for (const char *p = s->line[k]; *p; p++)
                        w += ((unsigned char) *p & 0xc0) != 0x80;
                s->widest = MAX(s->widest, w);
        }
}

/* The text right of column x, every line's piece with its indentation
 * taken away, all in one string: values wrapped over lines read whole. */
static void right_text(const struct screen *s, unsigned x, char *out, size_t size) {
        size_t n = 0;

        for (unsigned k = 0; k < s->n; k++) {
                const char *p = s->line[k];
                unsigned col = 0;
                while (*p && col < x) {
                        col += ((unsigned char) *p & 0xc0) != 0x80;
                        p++;
                        while (((unsigned char) *p & 0xc0) == 0x80)
                                p++;
                }
                p += strspn(p, " ");
                n += (size_t) snprintf(out + n, size - n, "%s", p);
                if (n >= size)
                        return;
        }
}

static int render(const struct display_info *i, enum display_form form, unsigned cols, unsigned rows, struct screen *s,
                  char **frame) {
        char *f = NULL;
        int r = display_render(i, NULL, form, cols, rows, &f);

        if (r < 0) {
                tap_ok(0, "display_render: %s", strerror(-r));
                return r;
        }
        parse(f, form, s);
        if (frame)
                *frame = f;
        else
                free(f);
        return 0;
}

static void test_fits(void) {
        static struct screen s;
        struct display_info i;
        const char *names[] = { "the default token", "the longest token and values" };

        for (int longest = 0; longest < 2; longest++)
                for (int form = DISPLAY_FORM_VT; form <= DISPLAY_FORM_SERIAL; form++) {
                        unsigned max_rows = form == DISPLAY_FORM_SERIAL ? 23 : 24;
                        make_info(&i, longest);
                        if (render(&i, form, 80, 24, &s, NULL) < 0)
                                continue;
                        tap_ok(s.widest <= 80 && s.n <= max_rows,
                               "%s, %s form: %u columns, %u rows (at most 80 and %u)", names[longest],
                               form == DISPLAY_FORM_VT ? "VT" : "serial", s.widest, s.n, max_rows);
                }
}

static void test_content(void) {
        static struct screen s;
        static char right[16384], left[2048];
        _cleanup_free_ char *frame = NULL;
        _cleanup_qr_ struct qr_code *q = NULL;
        struct display_info i;
        struct kairos_token back;
        struct token_error err;
        char row[1024];
        unsigned rows, cols, same = 0;
        size_t n = 0;

        make_info(&i, false);
        if (render(&i, DISPLAY_FORM_VT, 80, 24, &s, &frame) < 0 || qr_encode(i.token, &q) < 0)
                return;
        cols = qr_text_columns(q, QR_TEXT_QUIET_ZONE);
        rows = qr_text_rows(q, QR_TEXT_QUIET_ZONE);
        for (unsigned k = 0; k < rows && k < s.n; k++)
                if (qr_text_row(q, QR_TEXT_QUIET_ZONE, k, row, sizeof row) > 0 && strncmp(s.line[k], row, strlen(row)) == 0)
                        same++;
        tap_ok(same == rows, "the first %u rows begin with the code's half-block rows (%u do)", rows, same);

        right_text(&s, cols + 1, right, sizeof right);
        tap_ok(strstr(right, DISPLAY_TITLE) != NULL, "the title is right of the code");
        tap_ok(strstr(right, i.password) && strlen(i.password) == KAIROS_PASSWORD_SIZE - 1, "the SSH password (%s) is there",
               i.password);
        tap_ok(strstr(right, "rescue-me") != NULL, "the host name is there");
        tap_ok(strstr(right, "192.168.1.20:7140") && strstr(right, "10.0.0.5:7140"), "both addresses, with the tunnel port");
        tap_ok(strstr(right, FINGERPRINT) != NULL, "the whole host key fingerprint");
        tap_ok(strstr(right, "transit.magic-wormhole.io:4001") != NULL, "the relay status");
        tap_ok(strstr(right, "2 connected") && strstr(right, "192.0.2.50 (direct)") && strstr(right, "198.51.100.7 (relay)"),
               "the sessions: how many and from where");
        tap_ok(strstr(right, "Photograph the code; run") && strstr(right, "kairos-bridge") &&
               strstr(right, "--qr-code-image PHOTO"), "the line of help");
        tap_ok(strstr(right, "Local root shell: Alt+F2 (Ctrl+Alt+F2)") != NULL, "VT form: the keys to the local shell");

        /* What a person reads (or a serial log keeps) under the code is the token. */
        for (unsigned k = rows; k < s.n; k++) {
                char piece[128];
                snprintf(piece, sizeof piece, "%.*s", (int) cols, s.line[k]);
                n += (size_t) snprintf(left + n, sizeof left - n, "%s\n", piece);
        }
        tap_ok(token_decode(left, &back, &err) == 0 && memcmp(back.secret, token.secret, KAIROS_SECRET_SIZE) == 0,
               "the text under the code decodes to the token, as typed or pasted");
        tap_ok(strncmp(frame, "\033[0m\033[H\033[2J", 11) == 0 && frame[strlen(frame) - 1] != '\n',
               "VT form: reset, home, clear first; no newline at the end to scroll the screen");
        tap_ok(count(frame, "\033[0;37;40m") == rows, "VT form: the code's colours are pinned on each of its rows");
}

static void test_serial(void) {
        static struct screen s;
        _cleanup_free_ char *frame = NULL;
        struct display_info i;
        size_t lf = 0, crlf = 0;

        make_info(&i, true);
        if (render(&i, DISPLAY_FORM_SERIAL, 80, 24, &s, &frame) < 0)
                return;
        for (const char *p = frame; *p; p++)
                if (*p == '\n') {
                        lf++;
                        crlf += p > frame && p[-1] == '\r';
                }
        tap_ok(!strchr(frame, '\033'), "serial form: not one escape byte");
        tap_ok(lf == crlf && lf > 20, "serial form: every line ends with CR LF (%zu of %zu)", crlf, lf);
        tap_ok(strncmp(frame, "\r\n", 2) == 0 && strcmp(frame + strlen(frame) - 2, "\r\n") == 0,
               "serial form: starts on a fresh line and ends with a newline");
        tap_ok(strstr(frame, i.password) != NULL, "serial form: the password is there");
        tap_ok(strstr(frame, "Alt+F") == NULL, "serial form: no VT keys (a serial console has no other VT)");
}

static void test_cut(void) {
        static struct screen s;
        static char right[16384];
        struct display_info i;
        unsigned listed = 0;

        make_info(&i, true);
        if (render(&i, DISPLAY_FORM_VT, 80, 24, &s, NULL) < 0)
                return;
        right_text(&s, 39, right, sizeof right);
        /* The session entries, cut to a line each: "[2001:db8:...". */
        for (unsigned k = 0; k < s.n; k++) {
                const char *l = strstr(s.line[k], "  [2001:db8");
                listed += l && strcmp(l + strlen(l) - 3, "...") == 0;
        }
        tap_ok(listed > 0 && listed < 16, "40 sessions on 80x24: %u of them listed", listed);
        {
                char more[32];
                snprintf(more, sizeof more, "and %u more", 40 - listed);
                tap_ok(strstr(right, more) != NULL, "and \"%s\"", more);
        }
        tap_ok(strstr(right, "hhhh...") && !strstr(right, "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"),
               "a 253-character host name is cut with \"...\"");
        tap_ok(strstr(right, i.password) && strstr(right, FINGERPRINT) && strstr(right, "--qr-code-image PHOTO"),
               "the password, the fingerprint and the help survive the cuts");
        tap_ok(strstr(right, "[" LONG_V6 "]:7140") != NULL, "the IPv6 address is whole (wrapped)");

        if (render(&i, DISPLAY_FORM_VT, 128, 48, &s, NULL) < 0)
                return;
        tap_ok(s.widest <= 128 && s.n <= 48, "on a 128x48 framebuffer console it fits too (%u x %u)", s.widest, s.n);
        right_text(&s, 39, right, sizeof right);
        tap_ok(strstr(right, "and 24 more") != NULL, "and lists all 16 sessions it knows, and 24 more");

        if (render(&i, DISPLAY_FORM_VT, 40, 60, &s, NULL) < 0)
                return;
        tap_ok(s.widest <= 40, "on a 40-column console the text goes under the code (%u columns)", s.widest);
}

static void test_sanitized(void) {
        static struct screen clean_s, evil_s;
        _cleanup_free_ char *clean = NULL, *evil = NULL, *serial = NULL;
        struct display_info i;

        make_info(&i, false);
        if (render(&i, DISPLAY_FORM_VT, 80, 24, &clean_s, &clean) < 0)
                return;
        strcpy(i.hostname, "evil\033[2J\033]0;x\007\r\nhost\xc3\xa9");
        strcpy(i.sessions[0], "\033[31mred");
        if (render(&i, DISPLAY_FORM_VT, 80, 24, &evil_s, &evil) < 0 ||
            display_render(&i, NULL, DISPLAY_FORM_SERIAL, 80, 24, &serial) < 0)
                return;
        tap_ok(count(evil, "\033") == count(clean, "\033") && !strchr(serial, '\033'),
               "escape sequences in the host name or a session reach no console");
        tap_ok(evil_s.n == clean_s.n && strstr(evil, "evil?[2J?]0;x???host??"),
               "control characters and non-ASCII bytes show as '?', on the same lines");
}

static void test_no_token_and_big_code(void) {
        static struct screen s;
        _cleanup_free_ char *frame = NULL;
        _cleanup_qr_ struct qr_code *q = NULL;
        struct display_info i;
        unsigned rows;

        make_info(&i, false);
        i.token[0] = 0;
        if (render(&i, DISPLAY_FORM_VT, 80, 24, &s, &frame) < 0)
                return;
        tap_ok(!strstr(frame, QR_GLYPH_FULL) && strstr(frame, i.password) && s.widest <= 80,
               "without a token yet: the text alone");

        /* Relays of its own make the code larger than 24 rows: it stays whole. */
        token_new(&token);
        token.n_relays = 2;
        strcpy(token.relays[0], "tcp:relay-one.recovery.example.org:4001");
        strcpy(token.relays[1], "tcp:relay-two.recovery.example.org:4001");
        add_address(&token, "192.168.1.20");
        add_address(&token, LONG_V6);
        if (display_info_set_token(&i, &token) < 0 || qr_encode(i.token, &q) < 0)
                return;
        rows = qr_text_rows(q, QR_TEXT_QUIET_ZONE);
        free(frame);
        frame = NULL;
        if (render(&i, DISPLAY_FORM_VT, 80, 24, &s, &frame) < 0)
                return;
        tap_ok(rows > 24 && s.n == rows && count(frame, "\033[0;37;40m") == rows,
               "a version %u code (%u rows) is drawn whole on 80x24, the text beside it (%u rows)", q->version, rows, s.n);
        tap_ok(s.widest <= 80, "and no wider than 80 columns (%u)", s.widest);
}

static void test_console_path(void) {
        static const char *const parts[] = { "class", "class/tty", "class/tty/tty0", "class/tty/tty0/active" };
        char dir[] = "/tmp/test-display.XXXXXX", p[128];
        char *path = NULL;
        FILE *f;
        int r;

        if (!mkdtemp(dir))
                return;
        r = display_console_path("tty0", dir, &path);
        tap_ok(r == 0 && !strcmp(path, "/dev/tty1"), "tty0 without sysfs is /dev/tty1 (%s)", r == 0 ? path : "-");
        free(path);
        for (size_t k = 0; k < 3; k++) {
                snprintf(p, sizeof p, "%s/%s", dir, parts[k]);
                mkdir(p, 0700);
        }
        snprintf(p, sizeof p, "%s/%s", dir, parts[3]);
        f = fopen(p, "we");
        if (f) {
                fputs("tty3\n", f);
                fclose(f);
        }
        r = display_console_path("tty0", dir, &path);
        tap_ok(r == 0 && !strcmp(path, "/dev/tty3"), "tty0 is the foreground VT from sysfs (%s)", r == 0 ? path : "-");
        free(path);
        unlink(p);
        for (size_t k = 3; k-- > 0;) {
                snprintf(p, sizeof p, "%s/%s", dir, parts[k]);
                rmdir(p);
        }
        rmdir(dir);
        tap_ok(display_console_path("ttyS0", NULL, &path) == 0 && !strcmp(path, "/dev/ttyS0"), "ttyS0 is /dev/ttyS0");
        free(path);
        tap_ok(display_console_path("/dev/pts/7", NULL, &path) == 0 && !strcmp(path, "/dev/pts/7"), "a /dev path is kept");
        free(path);
        tap_ok(display_console_path("console", NULL, &path) == -EINVAL && display_console_path("../etc/x", NULL, &path) == -EINVAL &&
               display_console_path("/etc/shadow", NULL, &path) == -EINVAL && display_console_path("", NULL, &path) == -EINVAL,
               "console, .., paths outside /dev and the empty name are refused");
}

int main(void) {
        if (sodium_init() < 0)
                return 1;
        test_fits();
        test_content();
        test_serial();
        test_cut();
        test_sanitized();
        test_no_token_and_big_code();
        test_console_path();
        token_clear(&token);
        return tap_done();
}
