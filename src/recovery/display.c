/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The console writer (display.h): one frame pending a console at most,
 * written as far as the console takes it, the rest when it says EPOLLOUT. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "display.h"
#include "log.h"

#define VT_INTERVAL (30 * USEC_PER_SEC)
#define SERIAL_INTERVAL (300 * USEC_PER_SEC)
/* A console that says "writable" and then takes nothing, this many times
 * in a row, is polled by a timer instead, so that it cannot spin the loop. */
#define STALLS_MAX 3
#define STALL_RETRY (250 * USEC_PER_MSEC)
/* CAN: ends an escape sequence that a dropped frame left half sent. */
#define VT_RESYNC "\030"

struct console {
        struct display *d;
        char *name, *path;
        enum display_form wanted, form;
        int fd;
        sd_event_source *io, *retry;
        char *rendered;        /* the frame this console shows, or is being sent */
        char *out;             /* bytes to send: rendered, maybe after VT_RESYNC */
        size_t out_len, sent;
        usec_t drawn;          /* when the last frame was queued */
        unsigned stalls;
        bool failure_logged;
};

struct display {
        sd_event *event;
        sd_event_source *timer;
        usec_t interval[2]; /* by form */
        bool have_info;
        struct display_info info;
        struct qr_code *qr; /* of info.token */
        size_t n_consoles;
        struct console **consoles;
};

static const char *form_name(enum display_form f) {
        return f == DISPLAY_FORM_VT ? "VT" : "serial";
}

/* Frees a buffer that held the password. */
static void wipe_free(char *s, size_t n) {
        if (s) {
                explicit_bzero(s, n);
                free(s);
        }
}

static void console_drop_out(struct console *c) {
        wipe_free(c->out, c->out_len);
        c->out = NULL;
        c->out_len = c->sent = 0;
}

static void console_close(struct console *c) {
        c->io = sd_event_source_disable_unref(c->io);
        c->retry = sd_event_source_disable_unref(c->retry);
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -EBADF;
        console_drop_out(c);
        if (c->rendered)
                wipe_free(c->rendered, strlen(c->rendered));
        c->rendered = NULL;
}

static void console_failed(struct console *c, int error, const char *what) {
        if (!c->failure_logged)
                log_warning_errno(error, "Console %s: %s failed: %s. Trying again at the next redraw.",
                                  c->path, what, strerror(-error));
        c->failure_logged = true;
        console_close(c);
}

static int on_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata);
static int on_retry(sd_event_source *s, uint64_t usec, void *userdata);

/* Writes what the console takes now; never waits. woken: called because
 * the console said it takes more (or the retry timer), not for a new frame. */
static void console_flush(struct console *c, bool woken) {
        bool progress = false;

        if (c->fd < 0 || !c->out)
                return;
        while (c->sent < c->out_len) {
                ssize_t n = write_some(c->fd, c->out + c->sent, c->out_len - c->sent);
                if (n > 0) {
                        c->sent += (size_t) n;
                        progress = true;
                        continue;
                }
                if (n == 0 || n == -EAGAIN)
                        break;
                console_failed(c, (int) n, "writing");
                return;
        }
        if (c->sent >= c->out_len) {
                console_drop_out(c);
                c->stalls = 0;
                if (c->io)
                        (void) sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
                return;
        }

        if (progress)
                c->stalls = 0;
        else if (woken)
                c->stalls++;
        if (c->stalls < STALLS_MAX && c->io) {
                (void) sd_event_source_set_enabled(c->io, SD_EVENT_ON);
                return;
        }
        /* No epoll (a regular file), or a console that keeps saying
         * "writable" and taking nothing: try again from a timer. */
        if (c->io)
                (void) sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
        if (!c->retry) {
                if (sd_event_add_time_relative(c->d->event, &c->retry, CLOCK_MONOTONIC, STALL_RETRY, STALL_RETRY / 4,
                                               on_retry, c) < 0)
                        c->retry = NULL;
        } else {
                (void) sd_event_source_set_time_relative(c->retry, STALL_RETRY);
                (void) sd_event_source_set_enabled(c->retry, SD_EVENT_ONESHOT);
        }
}

static int on_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        console_flush(userdata, true);
        return 0;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        struct console *c = userdata;

        c->stalls = 0;
        console_flush(c, true);
        return 0;
}

static int console_open(struct console *c) {
        int fd, r, kb;

        if (c->fd >= 0)
                return 0;
        /* O_NOCTTY: never become our controlling terminal (a hangup there
         * would kill us); O_NONBLOCK: no wait for carrier on open, and no
         * write ever waits. */
        fd = open(c->path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                r = negative_errno();
                if (!c->failure_logged)
                        log_warning_errno(r, "Console %s: cannot open %s: %s. Trying again at the next redraw.",
                                          c->name, c->path, strerror(-r));
                c->failure_logged = true;
                return r;
        }
        c->fd = fd;
        c->form = c->wanted;
        if (c->form == DISPLAY_FORM_AUTO)
                c->form = ioctl(fd, KDGKBTYPE, &kb) >= 0 ? DISPLAY_FORM_VT : DISPLAY_FORM_SERIAL;

        r = sd_event_add_io(c->d->event, &c->io, fd, EPOLLOUT, on_writable, c);
        if (r == -EPERM) /* a regular file or /dev/null: never blocks, no epoll */
                c->io = NULL;
        else if (r < 0) {
                console_failed(c, r, "watching");
                return r;
        } else
                (void) sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
        log_info("Showing the recovery screen on %s (%s form).", c->path, form_name(c->form));
        c->failure_logged = false;
        c->stalls = 0;
        return 0;
}

/* Takes frame. Replaces whatever is still pending: only the newest frame
 * matters, and a console that does not drain holds one frame at most. */
static void console_queue(struct console *c, char *frame, bool force) {
        bool partial = c->out && c->sent > 0;
        size_t len = strlen(frame), pre;

        if (c->rendered && strcmp(c->rendered, frame) == 0 && (!force || (c->out && !partial))) {
                wipe_free(frame, len);
                return;
        }
        /* A VT frame starts with escape sequences: if the dropped frame
         * stopped inside one, CAN ends it first. A serial frame starts on a
         * new line, which also ends a half-sent UTF-8 character. */
        pre = partial && c->form == DISPLAY_FORM_VT ? strlen(VT_RESYNC) : 0;
        console_drop_out(c);
        c->out = malloc(pre + len);
        if (!c->out) {
                log_oom();
                wipe_free(frame, len);
                return;
        }
        memcpy(c->out, VT_RESYNC, pre);
        memcpy(c->out + pre, frame, len);
        c->out_len = pre + len;
        if (c->rendered)
                wipe_free(c->rendered, strlen(c->rendered));
        c->rendered = frame;
        c->drawn = now_usec();
        console_flush(c, false);
}

static void console_draw(struct console *c, bool force) {
        struct winsize ws = {};
        char *frame;
        int r;

        if (!c->d->have_info || console_open(c) < 0)
                return;
        /* A VT knows its size (a framebuffer console is often larger than
         * 80x24); a serial line mostly says 0x0: then 80x24. */
        if (ioctl(c->fd, TIOCGWINSZ, &ws) < 0)
                ws = (struct winsize) {};
        r = display_render(&c->d->info, c->d->qr, c->form, ws.ws_col, ws.ws_row, &frame);
        if (r < 0) {
                log_warning_errno(r, "Console %s: cannot lay out the screen: %s", c->path, strerror(-r));
                return;
        }
        console_queue(c, frame, force);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* The timer fires at the first console's next periodic redraw. */
static void schedule(struct display *d) {
        usec_t next = USEC_INFINITY;
        /* Redraws may be late by an eighth of their interval: sd-event
         * can then wake once for this and other timers. */
        usec_t accuracy = MAX(MIN(d->interval[0], d->interval[1]) / 8, 1);

        if (!d->have_info)
                return;
        for (size_t k = 0; k < d->n_consoles; k++) {
                struct console *c = d->consoles[k];
                usec_t iv = d->interval[c->fd >= 0 && c->form == DISPLAY_FORM_SERIAL];
                next = MIN(next, c->drawn + iv);
        }
        if (next == USEC_INFINITY)
                return;
        if (!d->timer) {
                if (sd_event_add_time(d->event, &d->timer, CLOCK_MONOTONIC, next, accuracy, on_timer, d) < 0)
                        d->timer = NULL;
                return;
        }
        (void) sd_event_source_set_time_accuracy(d->timer, accuracy);
        (void) sd_event_source_set_time(d->timer, next);
        (void) sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct display *d = userdata;
        usec_t now = now_usec();

        for (size_t k = 0; k < d->n_consoles; k++) {
                struct console *c = d->consoles[k];
                usec_t iv = d->interval[c->fd >= 0 && c->form == DISPLAY_FORM_SERIAL];

                if (c->drawn + iv <= now) {
                        console_draw(c, true);
                        /* Tried even if it could not be opened: next try later. */
                        c->drawn = MAX(c->drawn, now);
                }
        }
        schedule(d);
        return 0;
}

int display_add_console(struct display *d, const char *name, enum display_form form) {
        _cleanup_free_ struct console *c = NULL;
        struct console **v;
        int r;

        if (form != DISPLAY_FORM_AUTO && form != DISPLAY_FORM_VT && form != DISPLAY_FORM_SERIAL)
                return -EINVAL;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (struct console) { .d = d, .wanted = form, .form = form, .fd = -EBADF };
        r = display_console_path(name, NULL, &c->path);
        if (r < 0)
                return log_warning_errno(r, "Console name \"%s\" is not usable, ignoring it.", name);
        c->name = strdup(name);
        v = reallocarray(d->consoles, d->n_consoles + 1, sizeof *v);
        if (!c->name || !v) {
                free(c->name);
                free(c->path);
                if (v)
                        d->consoles = v;
                return -ENOMEM;
        }
        d->consoles = v;
        d->consoles[d->n_consoles++] = c;
        /* Opened now, so that a missing console shows in the log at the
         * start; drawn as soon as there is something to show. */
        (void) console_open(c);
        console_draw(TAKE_PTR(c), true);
        schedule(d);
        return 0;
}

/* The kernel's consoles: "tty0 ttyS0" in /sys/class/tty/console/active. */
static int add_active_consoles(struct display *d) {
        _cleanup_fclose_ FILE *f = NULL;
        char line[512], *save = NULL;
        int n = 0;

        f = fopen("/sys/class/tty/console/active", "re");
        if (!f || !fgets(line, sizeof line, f))
                return log_warning_errno(-ENOENT, "Cannot read the active consoles; the screen shows nowhere.");
        for (char *w = strtok_r(line, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
                int r = display_add_console(d, w, DISPLAY_FORM_AUTO);
                if (r == -ENOMEM)
                        return r;
                n += r >= 0;
        }
        return n;
}

int display_new(sd_event *event, const char *const *consoles, struct display **ret) {
        struct display *d;
        int r = 0;

        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        d->event = sd_event_ref(event);
        d->interval[DISPLAY_FORM_VT] = VT_INTERVAL;
        d->interval[DISPLAY_FORM_SERIAL] = SERIAL_INTERVAL;
        if (!consoles)
                r = add_active_consoles(d);
        else
                for (size_t k = 0; consoles[k] && r != -ENOMEM; k++)
                        r = display_add_console(d, consoles[k], DISPLAY_FORM_AUTO);
        if (r == -ENOMEM) {
                display_free(d);
                return r;
        }
        *ret = d;
        return 0;
}

struct display *display_free(struct display *d) {
        if (!d)
                return NULL;
        for (size_t k = 0; k < d->n_consoles; k++) {
                console_close(d->consoles[k]);
                free(d->consoles[k]->name);
                free(d->consoles[k]->path);
                free(d->consoles[k]);
        }
        free(d->consoles);
        d->timer = sd_event_source_disable_unref(d->timer);
        sd_event_unref(d->event);
        qr_free(d->qr);
        explicit_bzero(&d->info, sizeof d->info);
        free(d);
        return NULL;
}

int display_update(struct display *d, const struct display_info *i) {
        if (!d->have_info || strcmp(d->info.token, i->token) != 0) {
                struct qr_code *q = NULL;

                if (i->token[0]) {
                        int r = qr_encode(i->token, &q);
                        if (r < 0)
                                return log_error_errno(r, "Cannot encode the token as a QR code: %s", strerror(-r));
                }
                qr_free(d->qr);
                d->qr = q;
        }
        if (&d->info != i)
                memcpy(&d->info, i, sizeof *i);
        d->have_info = true;
        for (size_t k = 0; k < d->n_consoles; k++)
                console_draw(d->consoles[k], false);
        schedule(d);
        return 0;
}

void display_redraw(struct display *d) {
        for (size_t k = 0; k < d->n_consoles; k++)
                console_draw(d->consoles[k], true);
        schedule(d);
}

void display_set_redraw_interval(struct display *d, usec_t vt, usec_t serial) {
        if (vt > 0)
                d->interval[DISPLAY_FORM_VT] = vt;
        if (serial > 0)
                d->interval[DISPLAY_FORM_SERIAL] = serial;
        schedule(d);
}

size_t display_consoles(const struct display *d) {
        return d->n_consoles;
}

size_t display_pending(const struct display *d, size_t i) {
        const struct console *c;

        if (i >= d->n_consoles)
                return 0;
        c = d->consoles[i];
        return c->out ? c->out_len - c->sent : 0;
}
