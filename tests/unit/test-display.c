/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* display.h: the layout fits 80x24 (display columns and rows counted on the
 * frame as a terminal would show it) with the default and the longest
 * token and values, holds what it must, cuts what does not fit, never lets
 * a field send an escape sequence, and keeps the code whole; the serial
 * form is plain lines; the console writer on real pseudo-terminals never
 * blocks, whether the terminal is flow-stopped or nobody reads it, and the
 * newest frame arrives once it drains. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>

#include "display.h"
#include "log.h"
#include "tap.h"

#define MAX_LINES 128
#define FINGERPRINT "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"
#define LONG_V6 "2001:db8:1234:5678:9abc:def0:1234:5678"

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

static void add_address(struct kairos_token *t, const char *s) {
        struct kairos_address a = { .family = strchr(s, ':') ? AF_INET6 : AF_INET };

        if (inet_pton(a.family, s, a.bytes) != 1 || token_add_address(t, &a) < 0)
                abort();
}

static struct kairos_token token;

static void *mfree(void *p) {
        free(p);
        return NULL;
}

static void make_info(struct display_info *i, bool longest) {
        *i = (struct display_info) {};
        token_new(&token);
        add_address(&token, "192.168.1.20");
        add_address(&token, "10.0.0.5");
        if (longest)
                add_address(&token, LONG_V6);
        if (display_info_set_token(i, &token) < 0)
                abort();
        strcpy(i->fingerprint, FINGERPRINT);
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

static unsigned count(const char *hay, const char *needle) {
        unsigned n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
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

/* ---- the writer on pseudo-terminals ---- */

/* An update renders a frame and writes what the terminal takes: a fraction
 * of a millisecond, and never a sleep in the kernel (counted exactly, see
 * sleeps()). One that blocked on the stopped terminal would never return:
 * alarm() ends the test then. The wall-clock bounds leave room for being
 * preempted on a busy two-core machine (make -j2 check, ASan): a few
 * calls in a hundred over SLOW, none over WORST. */
#define SLOW (5 * USEC_PER_MSEC)
#define WORST (250 * USEC_PER_MSEC)

/* Voluntary context switches of this thread so far: each is a sleep in
 * the kernel, which is what a blocking write is (being preempted is an
 * involuntary one, and counts nothing here). */
static long sleeps(void) {
        struct rusage ru;

        return getrusage(RUSAGE_THREAD, &ru) < 0 ? 0 : ru.ru_nvcsw;
}

struct pty {
        int master, slave;
        char path[64];
};

static int pty_open(struct pty *p) {
        struct winsize ws = { .ws_row = 24, .ws_col = 80 };
        struct termios t;

        p->master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (p->master < 0 || grantpt(p->master) < 0 || unlockpt(p->master) < 0 ||
            ptsname_r(p->master, p->path, sizeof p->path) != 0)
                return -errno;
        p->slave = open(p->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (p->slave < 0)
                return -errno;
        /* Raw: the bytes arrive as sent, to compare them exactly. */
        tcgetattr(p->slave, &t);
        cfmakeraw(&t);
        tcsetattr(p->slave, TCSANOW, &t);
        ioctl(p->slave, TIOCSWINSZ, &ws);
        return 0;
}

static void pty_close(struct pty *p) {
        if (p->master >= 0)
                close(p->master);
        if (p->slave >= 0)
                close(p->slave);
        p->master = p->slave = -1;
}

/* Runs the loop and reads the master until the display has nothing
 * pending and the master nothing more, appending to buf. */
static size_t drain(sd_event *e, struct display *d, struct pty *p, char *buf, size_t size, usec_t max, bool full) {
        usec_t end = now_usec() + max;
        size_t n = 0;

        while (now_usec() < end) {
                ssize_t k;
                (void) sd_event_run(e, 5 * USEC_PER_MSEC);
                k = read(p->master, buf + n, size - 1 - n);
                if (k > 0) {
                        n += (size_t) k;
                        continue;
                }
                if (!full && display_pending(d, 0) == 0 && k < 0 && errno == EAGAIN)
                        break;
        }
        buf[n] = 0;
        return n;
}

static void test_writer_stopped(void) {
        static char got[1 << 20];
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_display_ struct display *d = NULL;
        _cleanup_free_ char *want = NULL;
        const char *none[] = { NULL };
        struct display_info i;
        struct pty p = { .master = -1, .slave = -1 };
        usec_t worst = 0;
        unsigned slow = 0;
        long slept = 0;
        size_t n, most = 0, largest = 0;
        ssize_t early;

        if (pty_open(&p) < 0 || sd_event_new(&e) < 0 || display_new(e, none, &d) < 0 ||
            display_add_console(d, p.path, DISPLAY_FORM_VT) < 0) {
                tap_ok(0, "setting up a pseudo-terminal");
                return;
        }
        /* The terminal's output is stopped, as ^S or a stuck flow control does. */
        tcflow(p.slave, TCOOFF);
        make_info(&i, false);
        for (int k = 0; k < 1000; k++) {
                long s0 = sleeps();
                usec_t t0 = now_usec(), t;
                snprintf(i.relay, sizeof i.relay, "update %d", k);
                i.n_sessions = (unsigned) k % 3;
                display_update(d, &i);
                (void) sd_event_run(e, 0);
                t = now_usec() - t0;
                worst = MAX(worst, t);
                slow += t > SLOW;
                slept += sleeps() - s0;
                most = MAX(most, display_pending(d, 0));
                if (display_render(&i, NULL, DISPLAY_FORM_VT, 80, 24, &want) == 0)
                        largest = MAX(largest, strlen(want));
                want = mfree(want);
        }
        tap_ok(slept == 0, "1000 updates of a flow-stopped terminal never sleep in the kernel (%ld times)", slept);
        tap_ok(slow <= 50 && worst < WORST, "and return at once: %u took over %llu ms, the worst %.2f ms", slow,
               (unsigned long long) (SLOW / USEC_PER_MSEC), worst / 1000.0);
        early = read(p.master, got, sizeof got);
        tap_ok(early < 0 && errno == EAGAIN, "nothing got through while it was stopped");
        if (display_render(&i, NULL, DISPLAY_FORM_VT, 80, 24, &want) < 0)
                return;
        tap_ok(most > 0 && most <= largest, "one frame pending at most (%zu bytes, the largest frame is %zu)", most, largest);

        tcflow(p.slave, TCOON);
        n = drain(e, d, &p, got, sizeof got, 5 * USEC_PER_SEC, false);
        tap_ok(n == strlen(want) && strcmp(got, want) == 0,
               "started again, exactly the newest frame arrives (%zu bytes, %zu expected), no stale one", n, strlen(want));

        /* Nothing changed: nothing is sent. */
        display_update(d, &i);
        n = drain(e, d, &p, got, sizeof got, 100 * USEC_PER_MSEC, false);
        tap_ok(n == 0, "the same picture again sends nothing (%zu bytes)", n);

        /* Now and then it is drawn again anyway. */
        display_set_redraw_interval(d, 50 * USEC_PER_MSEC, 50 * USEC_PER_MSEC);
        n = drain(e, d, &p, got, sizeof got, 300 * USEC_PER_MSEC, true);
        tap_ok(count(got, "\033[H\033[2J") >= 2, "with a 50 ms redraw interval, frames come by themselves (%u in 300 ms)",
               count(got, "\033[H\033[2J"));
        display_set_redraw_interval(d, 3600 * USEC_PER_SEC, 3600 * USEC_PER_SEC);
        (void) drain(e, d, &p, got, sizeof got, 100 * USEC_PER_MSEC, false);

        /* The terminal goes away (its master closes): no hang, no crash. */
        close(p.master);
        p.master = -1;
        {
                usec_t t0 = now_usec();
                strcpy(i.relay, "after the hangup");
                display_update(d, &i);
                (void) sd_event_run(e, 10 * USEC_PER_MSEC);
                tap_ok(now_usec() - t0 < 50 * USEC_PER_MSEC && display_pending(d, 0) == 0,
                       "a terminal that hung up: the update returns, the console is closed and retried later");
        }
        pty_close(&p);
}

static void test_writer_unread(void) {
        static char got[4 << 20];
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_display_ struct display *d = NULL;
        _cleanup_free_ char *want = NULL;
        const char *none[] = { NULL };
        struct display_info i;
        struct pty p = { .master = -1, .slave = -1 };
        usec_t worst = 0;
        unsigned blocked = 0, slow = 0;
        long slept = 0;
        size_t n;

        if (pty_open(&p) < 0 || sd_event_new(&e) < 0 || display_new(e, none, &d) < 0 ||
            display_add_console(d, p.path, DISPLAY_FORM_VT) < 0) {
                tap_ok(0, "setting up a pseudo-terminal");
                return;
        }
        /* Nobody reads the master: the terminal's buffer fills up. */
        make_info(&i, true);
        for (int k = 0; k < 400; k++) {
                long s0 = sleeps();
                usec_t t0 = now_usec();
                snprintf(i.sessions[0], sizeof i.sessions[0], "update %d", k);
                display_update(d, &i);
                (void) sd_event_run(e, 0);
                worst = MAX(worst, now_usec() - t0);
                slow += now_usec() - t0 > SLOW;
                slept += sleeps() - s0;
                blocked += display_pending(d, 0) > 0;
        }
        tap_ok(blocked > 0, "400 large frames fill an unread terminal (%u updates found it full)", blocked);
        tap_ok(slept == 0, "those updates never sleep in the kernel (%ld times)", slept);
        tap_ok(slow <= 20 && worst < WORST, "and return at once: %u took over %llu ms, the worst %.2f ms", slow,
               (unsigned long long) (SLOW / USEC_PER_MSEC), worst / 1000.0);

        n = drain(e, d, &p, got, sizeof got, 5 * USEC_PER_SEC, false);
        if (display_render(&i, NULL, DISPLAY_FORM_VT, 80, 24, &want) < 0)
                return;
        tap_ok(n >= strlen(want) && strcmp(got + n - strlen(want), want) == 0,
               "read at last, the stream ends with the newest frame, whole");
        tap_ok(n < 400 * strlen(want) / 2, "stale frames were dropped, not queued (%zu bytes of %zu sent)", n,
               400 * strlen(want));
        pty_close(&p);
}

static void test_writer_auto_and_missing(void) {
        static char got[1 << 16];
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_display_ struct display *d = NULL;
        const char *consoles[] = { "/dev/kairos-no-such-console", NULL };
        struct display_info i;
        struct pty p = { .master = -1, .slave = -1 };
        size_t n;

        if (pty_open(&p) < 0 || sd_event_new(&e) < 0) {
                tap_ok(0, "setting up a pseudo-terminal");
                return;
        }
        tap_ok(display_new(e, consoles, &d) == 0, "a console that does not exist is not fatal");
        tap_ok(display_add_console(d, p.path, DISPLAY_FORM_AUTO) == 0 && display_consoles(d) == 2, "a second console joins");
        make_info(&i, false);
        tap_ok(display_update(d, &i) == 0, "updating with one console missing works");
        n = 0;
        for (usec_t end = now_usec() + USEC_PER_SEC; now_usec() < end;) {
                ssize_t k;
                (void) sd_event_run(e, 5 * USEC_PER_MSEC);
                k = read(p.master, got + n, sizeof got - 1 - n);
                if (k > 0)
                        n += (size_t) k;
                else if (n > 0 && display_pending(d, 1) == 0)
                        break;
        }
        got[n] = 0;
        tap_ok(n > 0 && !strchr(got, '\033') && strstr(got, i.password),
               "a pseudo-terminal is not a VT: it gets the serial form (%zu bytes, no escape)", n);
        pty_close(&p);
}

int main(void) {
        if (sodium_init() < 0)
                return 1;
        /* A writer that blocks would hang here: fail instead. */
        alarm(120);
        log_set_max_level(LOG_ERR);
        test_fits();
        test_content();
        test_serial();
        test_cut();
        test_sanitized();
        test_no_token_and_big_code();
        test_console_path();
        test_writer_stopped();
        test_writer_unread();
        test_writer_auto_and_missing();
        token_clear(&token);
        return tap_done();
}
