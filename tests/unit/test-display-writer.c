/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* display.h, the console writer, on real pseudo-terminals: it never blocks,
 * whether the terminal is flow-stopped or nobody reads it, holds one frame
 * at most, and the newest frame arrives whole once the terminal drains; it
 * sends nothing when nothing changed, redraws now and then, survives a
 * terminal that hangs up and a console that does not exist, and gives a
 * terminal that is not a VT the serial form. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <time.h>

#include "display-sample.h"
#include "log.h"
#include "tap.h"


/* An update renders a frame and writes what the terminal takes: a fraction
 * of a millisecond, and never a sleep in the kernel (counted exactly, see
 * sleeps()). One that blocked on the stopped terminal would never return:
 * alarm() ends the test then. The time an update takes is this thread's
 * CPU time, not the wall clock: on a loaded machine (make -j4 check, ASan,
 * other work) the wall clock counts the time the thread waits to be
 * scheduled again after a preemption, which says nothing of the update
 * (a run under such load once saw 56 of 1000 updates over 5 ms by the wall
 * clock). A few calls in a hundred over SLOW, none over WORST. */
#define SLOW (5 * USEC_PER_MSEC)
#define WORST (250 * USEC_PER_MSEC)

static usec_t cpu_usec(void) {
        struct timespec ts;

        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
                return 0;
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

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
                usec_t t0 = cpu_usec(), t;
                snprintf(i.relay, sizeof i.relay, "update %d", k);
                i.n_sessions = (unsigned) k % 3;
                display_update(d, &i);
                (void) sd_event_run(e, 0);
                t = cpu_usec() - t0;
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

        /* Stopped, it must not spin the loop either (a terminal that says
         * "writable" and takes nothing is polled by a slow timer). */
        {
                unsigned wakeups = 0;
                for (usec_t end = now_usec() + 300 * USEC_PER_MSEC; now_usec() < end;)
                        wakeups += sd_event_run(e, 10 * USEC_PER_MSEC) > 0;
                tap_ok(wakeups <= 10, "a stopped terminal does not spin the loop (%u wakeups in 300 ms)", wakeups);
        }

        tcflow(p.slave, TCOON);
        n = drain(e, d, &p, got, sizeof got, 5 * USEC_PER_SEC, false);
        tap_ok(n == strlen(want) && strcmp(got, want) == 0,
               "started again, exactly the newest frame arrives (%zu bytes, %zu expected), no stale one", n, strlen(want));

        /* Nothing changed: nothing is sent. */
        display_update(d, &i);
        n = drain(e, d, &p, got, sizeof got, 100 * USEC_PER_MSEC, false);
        tap_ok(n == 0, "the same picture again sends nothing (%zu bytes)", n);

        /* Now and then it is drawn again anyway: two frames come by
         * themselves (about 100 ms; up to 10 s on a loaded machine). */
        display_set_redraw_interval(d, 50 * USEC_PER_MSEC, 50 * USEC_PER_MSEC);
        n = 0;
        got[0] = 0;
        for (usec_t end = now_usec() + 10 * USEC_PER_SEC; now_usec() < end && count(got, "\033[H\033[2J") < 2;)
                n += drain(e, d, &p, got + n, sizeof got - n, 50 * USEC_PER_MSEC, true);
        tap_ok(count(got, "\033[H\033[2J") >= 2, "with a 50 ms redraw interval, frames come by themselves (%u)",
               count(got, "\033[H\033[2J"));
        display_set_redraw_interval(d, 3600 * USEC_PER_SEC, 3600 * USEC_PER_SEC);
        (void) drain(e, d, &p, got, sizeof got, 100 * USEC_PER_MSEC, false);

        /* The terminal goes away (its master closes): no hang, no crash. */
        close(p.master);
        p.master = -1;
        {
                usec_t t0 = cpu_usec();
                strcpy(i.relay, "after the hangup");
                display_update(d, &i);
                (void) sd_event_run(e, 10 * USEC_PER_MSEC);
                tap_ok(cpu_usec() - t0 < 50 * USEC_PER_MSEC && display_pending(d, 0) == 0,
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
                usec_t t0 = cpu_usec(), t;
                snprintf(i.sessions[0], sizeof i.sessions[0], "update %d", k);
                display_update(d, &i);
                (void) sd_event_run(e, 0);
                t = cpu_usec() - t0;
                worst = MAX(worst, t);
                slow += t > SLOW;
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
        test_writer_stopped();
        test_writer_unread();
        test_writer_auto_and_missing();
        token_clear(&token);
        return tap_done();
}
