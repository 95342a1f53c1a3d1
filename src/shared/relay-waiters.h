/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The responder's side of the relay path, on an sd-event loop: one waiting
 * connection on each channel slot of each relay, so that several bridge
 * connections can pair at the same moment.
 *
 * The transit relay pairs the first two connections of a channel whose
 * sides differ, closes every other connection waiting on that channel, and
 * expires nothing. Hence:
 *  - a waiter that pairs is handed over and its slot reopened at once,
 *    unless that slot's last pairings failed their handshake (someone who
 *    saw the channel pairs and closes, or stays silent): then after 1 s,
 *    doubled with each failure up to PAIRING_BACKOFF_MAX, until a
 *    handshake on it succeeds (relay_waiters_pairing_done);
 *  - a waiter closed without "ok" is reopened at once (rate-limited);
 *  - each waiter is replaced every few minutes, the new one opened first
 *    (same-side connections never pair), and TCP keepalive with
 *    TCP_USER_TIMEOUT notices a path that died, so no ghost stays;
 *  - only a relay that cannot be reached is backed off from, and said to be
 *    lost once, then summed up every few minutes, not once a retry;
 *  - a change of the network (relay_waiters_network_changed) is acted on
 *    at once: no route, and the relay is lost; a route again, and the
 *    waiters are reopened without waiting for the backoff; a new source
 *    address, and they are registered again from it.
 * Plain sockets and a resolver thread (resolve.h): no libcurl in the initramfs. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "token.h"

struct relay_waiters;

struct relay_waiters_callbacks {
        /* A bridge paired on this relay: fd is the caller's now, the relay
         * has said "ok" and nothing after it has been read. */
        void (*paired)(int fd, const char *relay, unsigned slot, void *userdata);
        /* Something changed that STATUS= or the screen shows. */
        void (*changed)(void *userdata);
};

/* relays: "tcp:HOST:PORT" strings, copied. -EINVAL if one does not parse. */
int relay_waiters_new(sd_event *event, const uint8_t secret[KAIROS_SECRET_SIZE], const char *const *relays,
                      size_t n_relays, const struct relay_waiters_callbacks *cb, void *userdata,
                      struct relay_waiters **ret);
struct relay_waiters *relay_waiters_free(struct relay_waiters *w);

/* A new secret (rotate): every waiter of the old one is closed. */
int relay_waiters_set_secret(struct relay_waiters *w, const uint8_t secret[KAIROS_SECRET_SIZE]);

/* The handshake of a connection that paired on relay's slot ended: ok,
 * or failed (including a helper dropped or dead before key confirmation). */
void relay_waiters_pairing_done(struct relay_waiters *w, const char *relay, unsigned slot, bool ok);

/* Seconds between replacements of a waiter (default 240, jittered ±20%). */
void relay_waiters_set_replace_interval(struct relay_waiters *w, unsigned seconds);

/* A relay that stays unreachable is said to be lost once, then summed up
 * (attempts and the last reason) every this many seconds (default 300). */
void relay_waiters_set_summary_interval(struct relay_waiters *w, unsigned seconds);

/* Reachability only at debug level: for the old code's waiters after a
 * rotate, which the journal need not tell about apart. */
void relay_waiters_set_quiet(struct relay_waiters *w);

/* The machine's addresses or routes changed (netlink): see above. */
void relay_waiters_network_changed(struct relay_waiters *w);

size_t relay_waiters_count(const struct relay_waiters *w);
const char *relay_waiters_name(const struct relay_waiters *w, size_t i);
/* Slots of relay i that are registered and waiting right now. */
unsigned relay_waiters_waiting(const struct relay_waiters *w, size_t i);

static inline void relay_waiters_freep(struct relay_waiters **w) {
        if (*w)
                relay_waiters_free(*w);
}
