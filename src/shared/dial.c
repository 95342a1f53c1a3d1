/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dial-curl.h"
#include "dial-internal.h"
#include "dial.h"
#include "kdf.h"
#include "macro.h"
#include "relay.h"

/* One attempt a thread: blocking code is simple to read, and a path that
 * hangs (a black-holed address, a proxy that never answers) holds up only
 * its own thread. The race outlives dial() until its last attempt has
 * noticed the cancellation, hence the reference count. */

/* Attempt threads still running, across all races: a program waits for
 * them before it exits (dial_wait_idle()), so that none is cut off inside
 * libcurl or OpenSSL with its state half torn down. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_cond = PTHREAD_COND_INITIALIZER;
static unsigned live_threads;

/* An absolute time for pthread_cond_timedwait(), usec from now on clock. */
static struct timespec timespec_after(clockid_t clock, usec_t usec) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        ts.tv_sec += (time_t) (usec / USEC_PER_SEC);
        ts.tv_nsec += (long) (usec % USEC_PER_SEC) * 1000;
        if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
        }
        return ts;
}

static void live_change(int delta) {
        pthread_mutex_lock(&live_lock);
        live_threads += (unsigned) delta;
        pthread_cond_broadcast(&live_cond);
        pthread_mutex_unlock(&live_lock);
}

int dial_wait_idle(usec_t timeout) {
        struct timespec ts = timespec_after(CLOCK_REALTIME, timeout);
        int r = 0;

        pthread_mutex_lock(&live_lock);
        while (live_threads > 0 && r == 0)
                r = pthread_cond_timedwait(&live_cond, &live_lock, &ts);
        r = live_threads > 0 ? -ETIMEDOUT : 0;
        pthread_mutex_unlock(&live_lock);
        return r;
}

static void race_unref(struct race *r) {
        bool last;

        pthread_mutex_lock(&r->lock);
        last = --r->refs == 0;
        pthread_mutex_unlock(&r->lock);
        if (!last)
                return;
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->cond);
        sodium_memzero(r, sizeof *r);
        free(r);
}

_printf_(2, 3)
void dial_say(struct race *r, const char *fmt, ...) {
        char line[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        pthread_mutex_lock(&r->lock);
        if (!r->cancel && r->progress)
                r->progress(r->userdata, line);
        pthread_mutex_unlock(&r->lock);
}

/* How much a failure says about the machine, for the one cause told when
 * every path failed: an answer that refuses us (busy, another secret,
 * interference) says most; a peer that accepted the connection and then
 * went quiet or closed says more than an address that refused or never
 * answered (a stale address in the token, a relay not reached). */
static unsigned cause_rank(int error, bool connected) {
        if (error == -EKEYREVOKED)
                return 4;
        if (error == -ENOTCONN || error == -EBADMSG || error == -ECONNABORTED || error == -EUSERS)
                return 3;
        if (connected)
                return 2;
        return 1;
}

/* connected: the attempt had a TCP connection to the machine (or a pairing
 * at the relay) when it failed. */
void dial_note_error_at(struct attempt *a, int error, bool connected, const char *what, char *last, size_t size) {
        char line[600];
        unsigned rank = cause_rank(error, connected);

        snprintf(line, sizeof line, "%s: %s", a->label, what);
        pthread_mutex_lock(&a->race->lock);
        if (rank >= a->race->last_rank) {
                snprintf(a->race->last_error, sizeof a->race->last_error, "%s", line);
                a->race->last_rank = rank;
        }
        /* At the relay only our channel pairs, and only the machine knows
         * it: a failed handshake there is interference, not a wrong token. */
        if (error == -EKEYREVOKED) {
                a->race->rotated = true;
                pthread_cond_broadcast(&a->race->cond);
        } else if (a->path == DIAL_PATH_RELAY && error == -ENOTCONN)
                a->race->interference = true;
        else if (error == -EBADMSG || error == -ECONNABORTED) {
                a->race->handshake_failed = true;
                if (a->race->stop_on_rejection && a->path == DIAL_PATH_DIRECT) {
                        a->race->rejected = true;
                        pthread_cond_broadcast(&a->race->cond);
                }
        } else if (error == -EUSERS)
                a->race->busy = true;
        pthread_mutex_unlock(&a->race->lock);
        /* Say it once, not at every retry. */
        if (strcmp(last, line)) {
                dial_say(a->race, "%s", line);
                snprintf(last, size, "%s", line);
        }
}

void dial_note_error(struct attempt *a, int error, const char *what, char *last, size_t size) {
        dial_note_error_at(a, error, false, what, last, size);
}

void dial_set_fd(struct attempt *a, int fd) {
        pthread_mutex_lock(&a->race->lock);
        a->fd = fd;
        pthread_mutex_unlock(&a->race->lock);
}

void dial_drop_fd(struct attempt *a) {
        int fd;

        pthread_mutex_lock(&a->race->lock);
        fd = a->fd;
        a->fd = -1;
        pthread_mutex_unlock(&a->race->lock);
        if (fd >= 0)
                close(fd);
}

/* Sleeps until the deadline or the cancellation; true if cancelled or past. */
bool dial_pause_for(struct race *r, usec_t usec) {
        usec_t until = MIN(now_usec() + usec, r->deadline);

        pthread_mutex_lock(&r->lock);
        while (!r->cancel && now_usec() < until) {
                struct timespec ts = timespec_after(CLOCK_MONOTONIC, until - now_usec());
                pthread_cond_timedwait(&r->cond, &r->lock, &ts);
        }
        pthread_mutex_unlock(&r->lock);
        return r->cancel || now_usec() >= r->deadline;
}

/* A relay attempt's head start for the direct path. It ends early when no
 * direct attempt has got as far as a TCP connection by a->early (a direct
 * address that drops packets silently answers nothing, and would cost the
 * whole head start), or at once when every direct attempt has failed. A
 * direct path that connected keeps the whole head start for its handshake.
 * True if cancelled or past the deadline. */
bool dial_head_start(struct race *r, struct attempt *a) {
        usec_t start = now_usec(), until = MIN(start + a->delay, r->deadline);
        bool done;

        pthread_mutex_lock(&r->lock);
        for (;;) {
                usec_t now = now_usec(), wake = until;

                if (r->cancel || now >= until)
                        break;
                if (r->direct_failed >= r->n_direct || (!r->direct_connected && a->early && now >= start + a->early))
                        break;
                if (a->early && !r->direct_connected && start + a->early < wake)
                        wake = start + a->early;
                struct timespec ts = timespec_after(CLOCK_MONOTONIC, wake - now);
                pthread_cond_timedwait(&r->cond, &r->lock, &ts);
        }
        done = r->cancel || now_usec() >= r->deadline;
        pthread_mutex_unlock(&r->lock);
        return done;
}

void dial_direct_progress(struct attempt *a, bool connected) {
        struct race *r = a->race;

        pthread_mutex_lock(&r->lock);
        if (connected)
                r->direct_connected = true;
        else if (!a->tried) {
                a->tried = true;
                r->direct_failed++;
        }
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
}

/* The tunnel is up: the first to get here wins, the others close theirs. */
bool dial_claim(struct attempt *a, struct tunnel *t, const struct kairos_hello *hello) {
        struct race *r = a->race;
        bool won = false;

        pthread_mutex_lock(&r->lock);
        if (!r->have_winner && !r->cancel) {
                r->have_winner = true;
                r->winner.tunnel = *t;
                r->winner.hello = *hello;
                r->winner.path = a->path;
                snprintf(r->winner.where, sizeof r->winner.where, "%s", a->label);
                a->fd = -1; /* the winner's now */
                won = true;
                pthread_cond_broadcast(&r->cond);
        }
        pthread_mutex_unlock(&r->lock);
        if (!won) {
                /* End the tunnel cleanly so the other end logs a close, not an error. */
                uint8_t buf[RECORD_MAX_WIRE];
                int n = record_seal(&t->send, RECORD_CLOSE, NULL, 0, buf);
                if (n > 0)
                        (void) write_full(t->fd, buf, (size_t) n, now_usec() + 100 * USEC_PER_MSEC);
                tunnel_done(t, false);
                dial_drop_fd(a);
        }
        sodium_memzero(t, sizeof *t);
        return won;
}

/* The end of an attempt's thread: its fd closed, the race told, let go. */
void dial_attempt_finished(struct attempt *a) {
        struct race *r = a->race;

        dial_drop_fd(a);
        pthread_mutex_lock(&r->lock);
        r->running--;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        race_unref(r);
        live_change(-1);
}

/* The tunnel carries SSH packets, whole when written: each goes out at
 * once, never held by Nagle until the peer's delayed ACK (40 ms at a time
 * with a record's tail left over; that took sftp through the bridge from
 * 130 to 45 MiB/s). Also for the handshake, written in several pieces. */
int dial_parse_direct(const char *s, char *host, size_t size, uint16_t *port) {
        char buf[300];

        if (snprintf(buf, sizeof buf, "tcp:%s", s) >= (int) sizeof buf)
                return -EINVAL;
        return relay_parse(buf, host, size, port);
}

static struct attempt *add_attempt(struct race *r, enum dial_path path, const char *host, uint16_t port) {
        struct attempt *a;

        if (r->n_attempts >= MAX_ATTEMPTS)
                return NULL;
        a = &r->attempts[r->n_attempts++];
        *a = (struct attempt) { .race = r, .path = path, .port = port, .fd = -1 };
        snprintf(a->host, sizeof a->host, "%s", host);
        if (path == DIAL_PATH_DIRECT)
                snprintf(a->label, sizeof a->label, strchr(host, ':') ? "direct [%s]:%u" : "direct %s:%u", host, port);
        return a;
}

static int build_attempts(struct race *r, const struct dial_options *o) {
        const struct kairos_token *t = o->token;
        char host[256];
        uint16_t port;

        for (size_t i = 0; i < o->n_direct; i++) {
                if (dial_parse_direct(o->direct[i], host, sizeof host, &port) < 0)
                        return -EINVAL;
                add_attempt(r, DIAL_PATH_DIRECT, host, port);
        }
        if (!o->skip_token_addresses)
                for (size_t i = 0; i < t->n_addresses; i++) {
                        address_to_string(&t->addresses[i], host, sizeof host);
                        add_attempt(r, DIAL_PATH_DIRECT, host, t->port);
                }
        if (!o->skip_relays) {
                const char *relays[DIAL_MAX_RELAYS + KAIROS_TOKEN_MAX_RELAYS + 1];
                size_t n = 0;

                for (size_t i = 0; i < o->n_relays; i++)
                        relays[n++] = o->relays[i];
                for (size_t i = 0; i < t->n_relays; i++)
                        relays[n++] = t->relays[i];
                if (n == 0 && !t->no_relay)
                        relays[n++] = KAIROS_DEFAULT_RELAY;
                for (size_t i = 0; i < n; i++) {
                        struct attempt *a;

                        if (relay_parse(relays[i], host, sizeof host, &port) < 0)
                                return -EINVAL;
                        a = add_attempt(r, DIAL_PATH_RELAY, host, port);
                        if (a)
                                snprintf(a->label, sizeof a->label, "relay %s", relays[i]);
                }
        }
        return r->n_attempts > 0 ? 0 : -EINVAL;
}

int dial(const struct dial_options *o, struct dial_result *res) {
        usec_t head_start = o->head_start ? o->head_start : 250 * USEC_PER_MSEC;
        enum dial_path first = o->prefer == DIAL_PATH_RELAY ? DIAL_PATH_RELAY : DIAL_PATH_DIRECT;
        struct race *r;
        int ret;

        *res = (struct dial_result) { .tunnel.fd = -1 };
        curl_dial_init();
        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        pthread_mutex_init(&r->lock, NULL);
        {
                pthread_condattr_t ca;
                pthread_condattr_init(&ca);
                pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
                pthread_cond_init(&r->cond, &ca);
                pthread_condattr_destroy(&ca);
        }
        r->refs = 1;
        r->deadline = now_usec() + (o->timeout ? o->timeout : 30 * USEC_PER_SEC);
        r->slot_wait = o->slot_wait ? o->slot_wait : 5 * USEC_PER_SEC;
        r->progress = o->progress;
        r->userdata = o->userdata;
        r->stop_on_rejection = o->stop_on_rejection;
        r->early_fd = o->early_fd > 0 ? o->early_fd : -1;
        kdf_psk(o->token->secret, r->psk);
        for (unsigned s = 0; s < KAIROS_RELAY_SLOTS; s++)
                kdf_channel(o->token->secret, s, r->channels[s]);
        kdf_side(o->token->secret, KAIROS_ROLE_BRIDGE, r->side);

        ret = build_attempts(r, o);
        if (ret < 0) {
                race_unref(r);
                return ret;
        }

        /* Without a path of the preferred kind, the others need no head start. */
        bool have_first = false;
        for (size_t i = 0; i < r->n_attempts; i++)
                have_first = have_first || r->attempts[i].path == first;
        if (!have_first)
                head_start = 0;

        for (size_t i = 0; i < r->n_attempts; i++)
                r->n_direct += r->attempts[i].path == DIAL_PATH_DIRECT;

        unsigned n_direct = 0;
        for (size_t i = 0; i < r->n_attempts; i++) {
                struct attempt *a = &r->attempts[i];
                pthread_attr_t attr;
                pthread_t th;

                a->delay = a->path == first ? 0 : head_start;
                /* 100 ms after the last direct attempt started is enough for
                 * its TCP connection on a LAN and most of the Internet. */
                if (a->path == DIAL_PATH_RELAY && a->delay > 0)
                        a->early = MIN(head_start, r->n_direct * 100 * USEC_PER_MSEC);
                /* Direct addresses one after another, 100 ms apart (RFC 8305's
                 * connection attempt delay, shortened for a LAN): on a path that
                 * answers, the others are never tried, and the machine does not
                 * log half-done handshakes that we cancel. */
                if (a->path == DIAL_PATH_DIRECT)
                        a->delay += n_direct++ * 100 * USEC_PER_MSEC;
                pthread_attr_init(&attr);
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                pthread_attr_setstacksize(&attr, 256 * 1024);
                pthread_mutex_lock(&r->lock);
                r->refs++;
                r->running++;
                pthread_mutex_unlock(&r->lock);
                live_change(+1);
                if (pthread_create(&th, &attr, a->path == DIAL_PATH_DIRECT ? dial_run_direct : dial_run_relay, a) != 0) {
                        pthread_mutex_lock(&r->lock);
                        r->refs--;
                        r->running--;
                        pthread_mutex_unlock(&r->lock);
                        live_change(-1);
                }
                pthread_attr_destroy(&attr);
        }

        bool cancelled = false;
        pthread_mutex_lock(&r->lock);
        while (!r->have_winner && !r->rejected && !r->rotated && r->running > 0 && now_usec() < r->deadline) {
                if (o->cancel_fd > 0) {
                        struct pollfd p = { .fd = o->cancel_fd, .events = POLLIN };
                        if (poll(&p, 1, 0) > 0) {
                                cancelled = true;
                                break;
                        }
                }
                struct timespec ts = timespec_after(CLOCK_MONOTONIC, 50 * USEC_PER_MSEC);
                pthread_cond_timedwait(&r->cond, &r->lock, &ts);
        }
        r->cancel = 1;
        for (size_t i = 0; i < r->n_attempts; i++)
                if (r->attempts[i].fd >= 0)
                        shutdown(r->attempts[i].fd, SHUT_RDWR);
        pthread_cond_broadcast(&r->cond);
        if (r->have_winner) {
                *res = r->winner;
                ret = 0;
        } else {
                res->handshake_failed = r->handshake_failed;
                res->interference = r->interference;
                res->busy = r->busy;
                res->rejected = r->rejected;
                res->rotated = r->rotated;
                snprintf(res->last_error, sizeof res->last_error, "%s", r->last_error);
                ret = cancelled ? -ECANCELED : r->rotated ? -EKEYREVOKED : -ETIMEDOUT;
        }
        sodium_memzero(&r->winner, sizeof r->winner);
        pthread_mutex_unlock(&r->lock);
        race_unref(r);
        return ret;
}
