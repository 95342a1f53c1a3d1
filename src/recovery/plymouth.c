/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "plymouth-protocol.h"
#include "plymouth.h"

#define MESSAGE_MAX 256

enum step {
        STEP_IDLE,
        STEP_PING,
        STEP_MESSAGE,
        STEP_HIDE,
};

struct plymouth {
        sd_event *event;
        plymouth_done_t done;
        void *userdata;
        char *socket_name; /* NULL: plymouthd's */
        usec_t timeout;
        enum step step;
        bool again;     /* plymouth_show() came while a chain ran */
        int result;     /* of the chain so far */
        int deferred_result;
        int fd;
        sd_event_source *io, *timer, *deferred;
        char message[MESSAGE_MAX];
};

static const char *step_name(enum step s) {
        return s == STEP_PING ? "ping" : s == STEP_MESSAGE ? "display-message" : "hide-splash";
}

void plymouth_message(const char *password, char *buf, size_t size) {
        /* One line under 80 columns, as the "details" theme and the text
         * themes print it; Esc toggles the splash in every theme. */
        if (password && *password)
                snprintf(buf, size, "Remote recovery: password %s. Esc shows the QR code.", password);
        else
                snprintf(buf, size, "Remote recovery: Esc shows the QR code.");
}

/* Done with the connection: closed, sources gone. */
static void disconnect(struct plymouth *p) {
        p->io = sd_event_source_disable_unref(p->io);
        p->timer = sd_event_source_disable_unref(p->timer);
        if (p->fd >= 0)
                close(p->fd);
        p->fd = -EBADF;
}

static int start_chain(struct plymouth *p);

static void finish(struct plymouth *p, int result) {
        disconnect(p);
        p->step = STEP_IDLE;
        if (result < 0)
                log_debug_errno(result, "plymouth: could not show the message or hide the splash: %s", strerror(-result));
        if (p->again) {
                /* A newer message: only its result is reported. */
                p->again = false;
                if (start_chain(p) >= 0)
                        return;
                result = 0;
        }
        if (p->done)
                p->done(p, result, p->userdata);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct plymouth *p = userdata;

        log_debug("plymouth: no answer to %s in time; gave up.", step_name(p->step));
        /* A plymouthd that hangs once hangs again: do not go on. */
        finish(p, -ETIMEDOUT);
        return 0;
}

/* Sends the request of `step` and waits for its answer, until the deadline. */
static int send_step(struct plymouth *p, enum step step) {
        uint8_t req[PLYMOUTH_REQUEST_MAX];
        ssize_t n, k;
        int r;

        n = plymouth_request(req, step == STEP_PING ? PLYMOUTH_PING : step == STEP_MESSAGE ? PLYMOUTH_SHOW_MESSAGE : PLYMOUTH_HIDE_SPLASH,
                             step == STEP_MESSAGE ? p->message : NULL);
        if (n < 0)
                return (int) n;
        /* One request at a time on a fresh connection: the socket buffer
         * (far above a few hundred bytes) always takes it whole, so a short
         * write or EAGAIN means something is badly wrong, not "try later". */
        k = send(p->fd, req, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
        r = k < 0 ? negative_errno() : k != n ? -EIO : 0;
        explicit_bzero(req, sizeof req); /* the message holds the password */
        if (r < 0)
                return r;
        p->step = step;
        p->timer = sd_event_source_disable_unref(p->timer);
        /* The deadline is per request, as the client's was per run. */
        return sd_event_add_time_relative(p->event, &p->timer, CLOCK_MONOTONIC, p->timeout, 10 * USEC_PER_MSEC,
                                          on_timeout, p);
}

static void next(struct plymouth *p, int answer) {
        int r;

        switch (p->step) {
        case STEP_PING:
                if (answer <= 0) {
                        /* Something that is not a plymouthd we may talk to. */
                        finish(p, answer == 0 ? -EPERM : answer);
                        return;
                }
                r = send_step(p, STEP_MESSAGE);
                break;
        case STEP_MESSAGE:
                /* Hide the splash even if the message did not go: the
                 * console holds everything the message does. */
                if (answer <= 0)
                        p->result = answer == 0 ? -EIO : answer;
                r = send_step(p, STEP_HIDE);
                break;
        case STEP_HIDE:
                finish(p, answer <= 0 ? (answer == 0 ? -EIO : answer) : p->result < 0 ? p->result : 1);
                return;
        default:
                return;
        }
        if (r < 0)
                finish(p, r);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct plymouth *p = userdata;
        uint8_t byte;
        ssize_t k;

        k = recv(fd, &byte, 1, MSG_DONTWAIT);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return 0; /* a spurious wakeup */
        if (k <= 0) {
                int r = k < 0 ? negative_errno() : -ECONNRESET;
                /* plymouthd quit, or something that is not plymouthd. */
                log_debug_errno(r, "plymouth: no answer to %s: %s", step_name(p->step), strerror(-r));
                if (p->step == STEP_MESSAGE)
                        p->result = r;
                finish(p, r);
                return 0;
        }
        next(p, plymouth_reply(byte));
        return 0;
}

/* Connects and sends the ping. 0 when the chain runs (its end is reported
 * from the loop); < 0 when it could not start: -EHOSTDOWN no plymouthd. */
static int start_chain(struct plymouth *p) {
        int r;

        p->result = 0;
        r = plymouth_connect(p->socket_name);
        if (r == -ECONNREFUSED || r == -ENOENT) {
                log_debug("plymouth: plymouthd is not running.");
                return -EHOSTDOWN;
        }
        if (r < 0) {
                log_debug_errno(r, "plymouth: cannot connect to plymouthd: %s", strerror(-r));
                return r;
        }
        p->fd = r;
        r = sd_event_add_io(p->event, &p->io, p->fd, EPOLLIN, on_io, p);
        if (r >= 0)
                r = send_step(p, STEP_PING);
        if (r < 0) {
                log_debug_errno(r, "plymouth: cannot talk to plymouthd: %s", strerror(-r));
                disconnect(p);
                p->step = STEP_IDLE;
                return r;
        }
        return 0;
}

static int on_deferred(sd_event_source *s, void *userdata) {
        struct plymouth *p = userdata;

        p->deferred = sd_event_source_disable_unref(p->deferred);
        if (p->done)
                p->done(p, p->deferred_result, p->userdata);
        return 0;
}

int plymouth_show(struct plymouth *p, const char *password) {
        int r;

        plymouth_message(password, p->message, sizeof p->message);
        if (p->step != STEP_IDLE) {
                p->again = true;
                return 0;
        }
        r = start_chain(p);
        if (r < 0 && !p->deferred) {
                /* No plymouthd, or no way to reach it: quietly nothing, but
                 * the caller still hears that it is over, from the loop as
                 * always (never from inside this call). */
                p->deferred_result = r == -EHOSTDOWN ? 0 : r;
                r = sd_event_add_defer(p->event, &p->deferred, on_deferred, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

int plymouth_set_socket(struct plymouth *p, const char *name) {
        char *c = strdup(name);

        if (!c)
                return -ENOMEM;
        free(p->socket_name);
        p->socket_name = c;
        return 0;
}

void plymouth_set_timeout(struct plymouth *p, usec_t timeout) {
        if (timeout > 0)
                p->timeout = timeout;
}

bool plymouth_busy(const struct plymouth *p) {
        return p->step != STEP_IDLE || p->deferred;
}

int plymouth_new(sd_event *event, plymouth_done_t done, void *userdata, struct plymouth **ret) {
        struct plymouth *p;

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        *p = (struct plymouth) {
                .event = sd_event_ref(event),
                .done = done,
                .userdata = userdata,
                .timeout = PLYMOUTH_TIMEOUT,
                .fd = -EBADF,
        };
        *ret = p;
        return 0;
}

struct plymouth *plymouth_free(struct plymouth *p) {
        if (!p)
                return NULL;
        disconnect(p);
        p->deferred = sd_event_source_disable_unref(p->deferred);
        sd_event_unref(p->event);
        free(p->socket_name);
        explicit_bzero(p->message, sizeof p->message);
        free(p);
        return NULL;
}
