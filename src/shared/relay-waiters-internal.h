/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What relay-waiters.c (the waiters' life) and relay-waiters-network.c
 * (what a change of the machine's network does to them) share. Not for
 * other users: relay-waiters.h is the interface. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "io.h"
#include "kdf.h"
#include "relay-waiters.h"
#include "relay.h"
#include "resolve.h"

#define MAX_RELAYS 8
#define REOPEN_BURST 5                      /* reopenings a second before we slow down */
#define BACKOFF_MIN (1 * USEC_PER_SEC)
/* A recovery must be reachable soon after the relay is back; a connection
 * attempt per slot every few seconds costs a relay nothing. */
#define BACKOFF_MAX (4 * USEC_PER_SEC)
#define CONNECT_TIMEOUT (10 * USEC_PER_SEC)
/* After pairings whose handshake failed: a camper that pairs and closes,
 * or stays silent, made us start a helper hundreds of times a second.
 * Doubling from 1 s, a slot costs at most 5 helpers in its first 10 s of
 * such churn and then one every 30 s; the relay path is what a camper can
 * deny anyway (kairos-recovery(8)), and 30 s is how long the real user
 * waits for a slot after the camper is gone. */
#define PAIRING_BACKOFF_MIN (1 * USEC_PER_SEC)
#define PAIRING_BACKOFF_MAX (30 * USEC_PER_SEC)
/* Keepalive on a waiting connection: a probe after 10 s of silence, then
 * every 5 s, dead after 3 unanswered (25 s in all, also TCP_USER_TIMEOUT).
 * A NAT that forgot the connection, or a relay that lost it, makes the
 * waiter a ghost the relay may still pair a bridge with; the first probe
 * that meets the relay's RST ends it, so a ghost lives at most about 10 s.
 * Four probes a relay every 10 s cost nothing; the bridge uses the same. */
#define KEEPALIVE_IDLE_SEC 10
#define KEEPALIVE_INTERVAL_SEC 5
#define KEEPALIVE_COUNT 3
/* A relay that stays unreachable (no DNS, no route, down) fails a retry
 * every few seconds on every slot: that is said once, and then summed up
 * this often, so that the journal of a long recovery stays readable. */
#define SUMMARY_INTERVAL_DEFAULT (5 * 60 * USEC_PER_SEC)

enum waiter_state {
        WAITER_IDLE,
        WAITER_CONNECTING,
        WAITER_WAITING, /* request sent, no answer yet */
};

struct relay;

struct waiter {
        struct relay *relay;
        unsigned slot;
        enum waiter_state state;
        int fd;
        sd_event_source *io, *timer;
        struct relay_reply reply;
};

struct slot {
        struct waiter cur, next; /* next: the replacement being opened */
        sd_event_source *reopen, *replace;
        usec_t burst_start;
        unsigned burst;
        unsigned failed_pairings; /* in a row, see PAIRING_BACKOFF_MIN */
};

struct relay {
        struct relay_waiters *w;
        char name[KAIROS_RELAY_TEXT_MAX];
        char host[256];
        uint16_t port;
        struct sockaddr_storage addr;
        socklen_t addr_len;
        struct resolve_query *query;
        usec_t backoff;
        bool reachable;
        bool reported; /* reachable has been logged at least once */
        /* Failures since the relay was last said to be lost, or last summed
         * up, and the latest reason, for the summary. */
        unsigned failures;
        usec_t unreachable_since, last_summary;
        char last_why[160];
        bool no_route; /* the machine has no route to it now (netlink) */
        struct slot slots[KAIROS_RELAY_SLOTS];
};

struct relay_waiters {
        sd_event *event;
        struct relay_waiters_callbacks cb;
        void *userdata;
        unsigned replace_sec;
        usec_t summary_interval;
        bool quiet; /* relay_waiters_set_quiet() */
        char channels[KAIROS_RELAY_SLOTS][KAIROS_CHANNEL_HEX + 1];
        char side[KAIROS_SIDE_HEX + 1];
        size_t n_relays;
        struct relay relays[MAX_RELAYS];
};

void rw_changed(struct relay_waiters *w);
void rw_waiter_close(struct waiter *wt);
void rw_set_reachable(struct relay *r, bool reachable, int error, const char *why);
void rw_open_waiter(struct relay *r, struct waiter *wt);
void rw_schedule_open(struct relay *r, unsigned slot, usec_t delay);
