/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "kdf.h"
#include "log.h"
#include "macro.h"
#include "netaddr.h"
#include "relay-waiters.h"
#include "relay.h"
#include "relay-waiters-internal.h"
#include "resolve.h"

static void waiter_broken(struct waiter *wt, int error);

void rw_changed(struct relay_waiters *w) {
        if (w->cb.changed)
                w->cb.changed(w->userdata);
}

void rw_waiter_close(struct waiter *wt) {
        wt->io = sd_event_source_disable_unref(wt->io);
        wt->timer = sd_event_source_disable_unref(wt->timer);
        if (wt->fd >= 0)
                close(wt->fd);
        wt->fd = -1;
        wt->state = WAITER_IDLE;
        wt->reply = (struct relay_reply) {};
}

static struct slot *slot_of(struct waiter *wt) {
        return &wt->relay->slots[wt->slot];
}

void rw_set_reachable(struct relay *r, bool reachable, int error, const char *why) {
        char field[sizeof r->name + 16];
        const char *fields[] = { field, NULL };
        usec_t now = now_usec();

        if (r->w->quiet) {
                r->reachable = reachable;
                r->reported = true;
                log_debug("Relay %s, old code's channels: %s.", r->name, reachable ? "waiting" : why ?: "not reachable");
                return;
        }
        snprintf(field, sizeof field, "KAIROS_RELAY=%s", r->name);
        /* Said once a change, and once at the start even if the relay
         * never answers: an unreachable relay must show in the journal.
         * While it stays so, each failed retry is counted, and summed up
         * every few minutes. */
        if (r->reported && r->reachable == reachable) {
                if (reachable)
                        return;
                r->failures++;
                if (why)
                        snprintf(r->last_why, sizeof r->last_why, "%s", why);
                log_debug("Relay %s: still not reachable (%s).", r->name, r->last_why);
                if (now - r->last_summary < r->w->summary_interval)
                        return;
                log_struct(LOG_WARNING, 0, MESSAGE_ID_RELAY_LOST, fields,
                           "Relay %s still not reachable after %llu s: %u more attempt%s failed, the last one: %s. "
                           "Retrying.", r->name, (unsigned long long) ((now - r->unreachable_since) / USEC_PER_SEC),
                           r->failures, r->failures == 1 ? "" : "s", r->last_why);
                r->failures = 0;
                r->last_summary = now;
                return;
        }
        r->reachable = reachable;
        r->reported = true;
        if (reachable) {
                if (r->unreachable_since)
                        log_struct(LOG_INFO, 0, MESSAGE_ID_RELAY_CONNECTED, fields,
                                   "Relay %s connected after %llu s, waiting for a bridge on %u slots.", r->name,
                                   (unsigned long long) ((now - r->unreachable_since) / USEC_PER_SEC),
                                   KAIROS_RELAY_SLOTS);
                else
                        log_struct(LOG_INFO, 0, MESSAGE_ID_RELAY_CONNECTED, fields,
                                   "Relay %s connected, waiting for a bridge on %u slots.", r->name, KAIROS_RELAY_SLOTS);
                r->unreachable_since = 0;
        } else {
                log_struct(LOG_WARNING, error, MESSAGE_ID_RELAY_LOST, fields, "Relay %s lost: %s. Retrying.", r->name,
                           why);
                r->unreachable_since = r->last_summary = now;
                r->failures = 0;
                snprintf(r->last_why, sizeof r->last_why, "%s", why);
        }
        rw_changed(r->w);
}

/* At once, unless a slot keeps closing (someone camping on the channel). */
static usec_t reopen_delay(struct slot *s) {
        usec_t now = now_usec();

        if (now - s->burst_start > USEC_PER_SEC) {
                s->burst_start = now;
                s->burst = 0;
        }
        return ++s->burst > REOPEN_BURST ? 200 * USEC_PER_MSEC : 0;
}

/* After a pairing: at once, unless this slot's last pairings failed. */
static usec_t pairing_delay(const struct slot *s) {
        if (s->failed_pairings == 0)
                return 0;
        if (s->failed_pairings > 6)
                return PAIRING_BACKOFF_MAX;
        return MIN(PAIRING_BACKOFF_MIN << (s->failed_pairings - 1), PAIRING_BACKOFF_MAX);
}

/* The connection failed or the relay closed it: reopen, soon or after a
 * backoff. why: what the journal says, or NULL for relay_strerror(). */
static void waiter_failed(struct waiter *wt, int error, bool relay_unreachable, const char *why) {
        struct relay *r = wt->relay;
        struct slot *s = slot_of(wt);
        bool was_next = wt == &s->next, was_waiting = wt->state == WAITER_WAITING;

        rw_waiter_close(wt);
        /* The status counts waiting slots: without this it said "connected"
         * for as long as the relay stayed away. */
        if (was_waiting)
                rw_changed(r->w);
        if (was_next)
                return; /* the current waiter stays; the replacement is tried again later */
        if (relay_unreachable) {
                rw_set_reachable(r, false, error, why ?: relay_strerror(error));
                r->backoff = r->backoff ? MIN(r->backoff * 2, BACKOFF_MAX) : BACKOFF_MIN;
                rw_schedule_open(r, wt->slot, r->backoff + randombytes_uniform(250) * USEC_PER_MSEC);
                return;
        }
        /* Closed without "ok": another connection took the slot. At once,
         * unless it keeps happening (someone camping on the channel). */
        rw_schedule_open(r, wt->slot, reopen_delay(s));
}

/* The path under a registered waiter died: a reset (a NAT that forgot the
 * connection, a relay that lost it) or keepalive unanswered. Said, since a
 * bridge may have met the ghost, and reopened at once, as a closed slot is:
 * only a relay that cannot be reached is backed off from. */
static void waiter_broken(struct waiter *wt, int error) {
        struct relay *r = wt->relay;
        struct slot *s = slot_of(wt);
        bool was_next = wt == &s->next;

        rw_waiter_close(wt);
        if (was_next)
                return;
        rw_set_reachable(r, false, error,
                      error == -ETIMEDOUT ? "the connection died (keepalive unanswered)" :
                      error == -ECONNRESET ? "the connection was reset (a NAT on the way forgot it, or the relay lost it)" :
                                             relay_strerror(error));
        rw_schedule_open(r, wt->slot, reopen_delay(s));
}

static void replace_done(struct slot *s) {
        /* The replacement is registered: the old one can go. */
        rw_waiter_close(&s->cur);
        s->cur = s->next;
        s->next = (struct waiter) { .relay = s->cur.relay, .slot = s->cur.slot, .fd = -1 };
        if (s->cur.io)
                sd_event_source_set_userdata(s->cur.io, &s->cur);
        if (s->cur.timer)
                sd_event_source_set_userdata(s->cur.timer, &s->cur);
}

static int on_readable(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        struct waiter *wt = userdata;
        struct relay *r = wt->relay;
        struct relay_waiters *w = r->w;

        for (;;) {
                uint8_t b;
                size_t used;
                ssize_t k = recv(fd, &b, 1, 0);
                int e;

                if (k == 0) {
                        log_debug("Relay %s closed slot %u without pairing.", r->name, wt->slot);
                        waiter_failed(wt, -ECONNRESET, false, NULL);
                        return 0;
                }
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        waiter_broken(wt, negative_errno());
                        return 0;
                }
                e = relay_reply_feed(&wt->reply, &b, 1, &used);
                if (e == 0)
                        continue;
                if (e < 0) {
                        log_warning("Relay %s: %s.", r->name, relay_strerror(e));
                        waiter_failed(wt, e, true, NULL);
                        return 0;
                }
                /* Paired: hand the connection over and reopen the slot. */
                struct slot *s = slot_of(wt);
                bool was_next = wt == &s->next;
                int paired_fd = wt->fd;
                unsigned slot = wt->slot;

                wt->fd = -1;
                rw_waiter_close(wt);
                if (was_next) {
                        /* The replacement paired first; the current one stays. */
                } else if (s->next.state == WAITER_WAITING)
                        replace_done(s);
                else
                        rw_schedule_open(r, slot, pairing_delay(s));
                w->cb.paired(paired_fd, r->name, slot, w->userdata);
                rw_changed(w);
                return 0;
        }
}

static int on_connected(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        struct waiter *wt = userdata;
        struct relay *r = wt->relay;
        struct relay_waiters *w = r->w;
        char line[RELAY_LINE_MAX];
        int err = 0, n;
        socklen_t len = sizeof err;

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        if (err) {
                waiter_failed(wt, -err, true, NULL);
                return 0;
        }
        wt->timer = sd_event_source_disable_unref(wt->timer);
        socket_set_keepalive(fd, KEEPALIVE_IDLE_SEC, KEEPALIVE_INTERVAL_SEC, KEEPALIVE_COUNT);
        n = relay_request(w->channels[wt->slot], w->side, line, sizeof line);
        /* 100 bytes into an empty socket buffer: all or nothing. */
        if (n < 0 || write_some(fd, line, (size_t) n) != n) {
                waiter_failed(wt, -EIO, true, NULL);
                return 0;
        }
        wt->state = WAITER_WAITING;
        r->backoff = 0;
        sd_event_source_set_io_events(src, EPOLLIN);
        struct slot *s = slot_of(wt);
        if (wt == &s->next)
                replace_done(s);
        rw_set_reachable(r, true, 0, NULL);
        rw_changed(w);
        return 0;
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        struct waiter *wt = userdata;

        if (wt->state == WAITER_CONNECTING)
                return on_connected(src, fd, revents, userdata);
        return on_readable(src, fd, revents, userdata);
}

static int on_connect_timeout(sd_event_source *src, uint64_t usec, void *userdata) {
        waiter_failed(userdata, -ETIMEDOUT, true, NULL);
        return 0;
}

void rw_open_waiter(struct relay *r, struct waiter *wt) {
        struct relay_waiters *w = r->w;
        int fd;

        fd = socket(r->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                waiter_failed(wt, negative_errno(), true, NULL);
                return;
        }
        wt->fd = fd;
        wt->state = WAITER_CONNECTING;
        if ((connect(fd, (struct sockaddr *) &r->addr, r->addr_len) < 0 && errno != EINPROGRESS) ||
            sd_event_add_io(w->event, &wt->io, fd, EPOLLOUT, on_io, wt) < 0 ||
            sd_event_add_time_relative(w->event, &wt->timer, CLOCK_MONOTONIC, CONNECT_TIMEOUT, 0,
                                       on_connect_timeout, wt) < 0) {
                waiter_failed(wt, negative_errno(), true, NULL);
                return;
        }
}

static void on_resolved(int ret, const struct sockaddr *addr, socklen_t len, void *userdata) {
        struct relay *r = userdata;

        r->query = NULL;
        if (ret != 0) {
                char why[sizeof r->host + 96];

                /* Through rw_set_reachable(): once, then summed up, not once a retry. */
                snprintf(why, sizeof why, "cannot resolve %s: %s", r->host, gai_strerror(ret));
                rw_set_reachable(r, false, 0, why);
                r->addr_len = 0;
                r->backoff = r->backoff ? MIN(r->backoff * 2, BACKOFF_MAX) : BACKOFF_MIN;
                for (unsigned s = 0; s < KAIROS_RELAY_SLOTS; s++)
                        rw_schedule_open(r, s, r->backoff);
                return;
        }
        memcpy(&r->addr, addr, len);
        r->addr_len = len;
        for (unsigned s = 0; s < KAIROS_RELAY_SLOTS; s++)
                if (r->slots[s].cur.state == WAITER_IDLE && !r->slots[s].reopen)
                        rw_open_waiter(r, &r->slots[s].cur);
}

static void resolve(struct relay *r) {
        if (r->query)
                return;
        if (resolve_start(r->w->event, r->host, r->port, on_resolved, r, &r->query) < 0)
                rw_schedule_open(r, 0, BACKOFF_MAX);
}

static int on_reopen(sd_event_source *src, uint64_t usec, void *userdata) {
        struct waiter *wt = userdata;
        struct relay *r = wt->relay;
        struct slot *s = slot_of(wt);

        s->reopen = sd_event_source_disable_unref(s->reopen);
        /* A failed relay is looked up again: its address may have changed. */
        if (!r->reachable || r->addr_len == 0) {
                r->addr_len = 0;
                resolve(r);
                return 0;
        }
        rw_open_waiter(r, wt);
        return 0;
}

void rw_schedule_open(struct relay *r, unsigned slot, usec_t delay) {
        struct slot *s = &r->slots[slot];

        if (s->reopen || s->cur.state != WAITER_IDLE)
                return;
        if (delay == 0 && r->addr_len > 0) {
                rw_open_waiter(r, &s->cur);
                return;
        }
        if (sd_event_add_time_relative(r->w->event, &s->reopen, CLOCK_MONOTONIC, delay, 0, on_reopen, &s->cur) < 0)
                log_oom();
}

static int on_replace(sd_event_source *src, uint64_t usec, void *userdata) {
        struct slot *s = userdata;
        struct relay *r = s->cur.relay;
        unsigned base = r->w->replace_sec;

        /* Open the new one first: it cannot pair with the old (same side). */
        if (s->cur.state == WAITER_WAITING && s->next.state == WAITER_IDLE && r->addr_len > 0)
                rw_open_waiter(r, &s->next);
        sd_event_source_set_time_relative(src, (base * 4 / 5 + randombytes_uniform(base * 2 / 5 + 1)) * USEC_PER_SEC);
        sd_event_source_set_enabled(src, SD_EVENT_ON);
        return 0;
}

static void relay_stop(struct relay *r) {
        r->query = resolve_cancel(r->query);
        for (unsigned s = 0; s < KAIROS_RELAY_SLOTS; s++) {
                rw_waiter_close(&r->slots[s].cur);
                rw_waiter_close(&r->slots[s].next);
                r->slots[s].reopen = sd_event_source_disable_unref(r->slots[s].reopen);
                r->slots[s].replace = sd_event_source_disable_unref(r->slots[s].replace);
        }
}

static void relay_start(struct relay *r) {
        unsigned base = r->w->replace_sec;

        r->no_route = false; /* the new waiters find out for themselves */

        for (unsigned s = 0; s < KAIROS_RELAY_SLOTS; s++) {
                struct slot *sl = &r->slots[s];
                sl->cur = (struct waiter) { .relay = r, .slot = s, .fd = -1 };
                sl->next = sl->cur;
                sl->failed_pairings = 0; /* new channels: nobody has seen them */
                sd_event_add_time_relative(r->w->event, &sl->replace, CLOCK_MONOTONIC,
                                           (base * 4 / 5 + randombytes_uniform(base * 2 / 5 + 1)) * USEC_PER_SEC,
                                           USEC_PER_SEC, on_replace, sl);
        }
        resolve(r);
}

static void derive(struct relay_waiters *w, const uint8_t secret[KAIROS_SECRET_SIZE]) {
        for (unsigned s = 0; s < KAIROS_RELAY_SLOTS; s++)
                kdf_channel(secret, s, w->channels[s]);
        kdf_side(secret, KAIROS_ROLE_DAEMON, w->side);
}

int relay_waiters_new(sd_event *event, const uint8_t secret[KAIROS_SECRET_SIZE], const char *const *relays,
                      size_t n_relays, const struct relay_waiters_callbacks *cb, void *userdata,
                      struct relay_waiters **ret) {
        struct relay_waiters *w;
        int r;

        if (n_relays > MAX_RELAYS)
                return -E2BIG;
        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->event = sd_event_ref(event);
        w->cb = *cb;
        w->userdata = userdata;
        w->replace_sec = 240;
        w->summary_interval = SUMMARY_INTERVAL_DEFAULT;
        derive(w, secret);
        r = 0;
        for (size_t i = 0; r >= 0 && i < n_relays; i++) {
                struct relay *rl = &w->relays[w->n_relays++];
                *rl = (struct relay) { .w = w };
                snprintf(rl->name, sizeof rl->name, "%s", relays[i]);
                r = relay_parse(relays[i], rl->host, sizeof rl->host, &rl->port);
        }
        if (r < 0) {
                relay_waiters_free(w);
                return r;
        }
        for (size_t i = 0; i < w->n_relays; i++)
                relay_start(&w->relays[i]);
        *ret = w;
        return 0;
}

struct relay_waiters *relay_waiters_free(struct relay_waiters *w) {
        if (!w)
                return NULL;
        for (size_t i = 0; i < w->n_relays; i++)
                relay_stop(&w->relays[i]);
        sd_event_unref(w->event);
        sodium_memzero(w, sizeof *w);
        free(w);
        return NULL;
}

int relay_waiters_set_secret(struct relay_waiters *w, const uint8_t secret[KAIROS_SECRET_SIZE]) {
        derive(w, secret);
        for (size_t i = 0; i < w->n_relays; i++) {
                relay_stop(&w->relays[i]);
                relay_start(&w->relays[i]);
        }
        rw_changed(w);
        return 0;
}

void relay_waiters_pairing_done(struct relay_waiters *w, const char *relay, unsigned slot, bool ok) {
        for (size_t i = 0; i < w->n_relays; i++) {
                struct slot *s;

                if (strcmp(w->relays[i].name, relay) || slot >= KAIROS_RELAY_SLOTS)
                        continue;
                s = &w->relays[i].slots[slot];
                if (ok)
                        s->failed_pairings = 0;
                else if (s->failed_pairings++ == 0)
                        log_info("Relay %s slot %u: a pairing failed its handshake; the slot is offered again "
                                 "more slowly until one succeeds.", relay, slot);
        }
}

void relay_waiters_set_replace_interval(struct relay_waiters *w, unsigned seconds) {
        w->replace_sec = MAX(seconds, 1u);
        for (size_t i = 0; i < w->n_relays; i++)
                for (unsigned s = 0; s < KAIROS_RELAY_SLOTS; s++)
                        if (w->relays[i].slots[s].replace)
                                sd_event_source_set_time_relative(w->relays[i].slots[s].replace,
                                                                  w->replace_sec * USEC_PER_SEC);
}

void relay_waiters_set_quiet(struct relay_waiters *w) {
        w->quiet = true;
}

void relay_waiters_set_summary_interval(struct relay_waiters *w, unsigned seconds) {
        w->summary_interval = MAX(seconds, 1u) * USEC_PER_SEC;
}

size_t relay_waiters_count(const struct relay_waiters *w) {
        return w->n_relays;
}

const char *relay_waiters_name(const struct relay_waiters *w, size_t i) {
        return i < w->n_relays ? w->relays[i].name : NULL;
}

unsigned relay_waiters_waiting(const struct relay_waiters *w, size_t i) {
        unsigned n = 0;

        if (i >= w->n_relays)
                return 0;
        if (w->relays[i].no_route)
                return 0; /* open, but cut off */
        for (unsigned s = 0; s < KAIROS_RELAY_SLOTS; s++)
                n += w->relays[i].slots[s].cur.state == WAITER_WAITING;
        return n;
}
