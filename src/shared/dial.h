/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The bridge's way to a recovery machine: races the direct addresses (in
 * the token, and given on the command line) and, a moment later, every
 * relay slot, as "happy eyeballs" does; the first path that completes the
 * Noise handshake and delivers the hello wins, the others are closed.
 * Relay connections go through libcurl (dial-curl.h) so that proxies work. */

#include <stdbool.h>
#include <stddef.h>

#include "io.h"
#include "token.h"
#include "tunnel.h"

#define DIAL_MAX_DIRECT 8
#define DIAL_MAX_RELAYS 8

enum dial_path {
        DIAL_PATH_NONE,
        DIAL_PATH_DIRECT,
        DIAL_PATH_RELAY,
};

struct dial_options {
        const struct kairos_token *token;
        /* Extra "HOST:PORT" direct addresses ([v6]:port), tried before the token's. */
        const char *direct[DIAL_MAX_DIRECT];
        size_t n_direct;
        /* Extra "tcp:HOST:PORT" relays, tried with the token's (or the default). */
        const char *relays[DIAL_MAX_RELAYS];
        size_t n_relays;
        bool skip_token_addresses, skip_relays;
        /* Head start of the preferred kind of path; default 250 ms. */
        usec_t head_start;
        /* Give up after this long; default 30 s. */
        usec_t timeout;
        /* A relay slot waited on for longer than this is left for another; default 5 s. */
        usec_t slot_wait;
        /* Give up at once when a direct path answers that it holds another
         * secret, instead of trying the other paths until the timeout: for a
         * bridge that reached the machine before, this means the token was
         * rotated (or the machine rebooted) and no path will do. */
        bool stop_on_rejection;
        /* The path that won last time starts first. */
        enum dial_path prefer;
        /* If > 0: when it becomes readable, dialing stops with -ECANCELED
         * (Ctrl-C must not wait for a timeout). 0, the default, is none. */
        int cancel_fd;
        /* If > 0: a socket whose waiting bytes (an ssh client's banner) the
         * winning tunnel sends right behind its key confirmation
         * (tunnel_initiate_early()); 0, the default, is none. */
        int early_fd;
        /* Progress lines for a person ("trying direct 192.0.2.7:7140"), from any thread. */
        void (*progress)(void *userdata, const char *line);
        void *userdata;
};

struct dial_result {
        struct tunnel tunnel;
        struct kairos_hello hello;
        enum dial_path path;
        char where[300]; /* "direct 192.0.2.7:7140" or "relay tcp:host:4001" */
        /* When dialing failed: what went wrong on the way, for the message. */
        bool handshake_failed; /* a peer answered but did not hold the secret */
        bool interference;     /* paired at the relay, but the handshake failed there */
        bool busy;             /* the machine answered "busy" (tunnel.h): too many waiting there */
        bool rejected;         /* stopped at a rejection (stop_on_rejection) */
        bool rotated;          /* the machine proved the token was rotated: stopped at once */
        char last_error[600];
};

/* Returns 0 with r->tunnel established, -ETIMEDOUT when no path got through
 * in time (r->last_error and r->handshake_failed tell more), -EKEYREVOKED at
 * once when a path proved the token was rotated (r->rotated), -ECANCELED,
 * -EINVAL on bad options (unparsable --direct or --relay). */
int dial(const struct dial_options *o, struct dial_result *r);

/* "HOST:PORT" or "[V6]:PORT" into host and port; -EINVAL if not. */
int dial_parse_direct(const char *s, char *host, size_t size, uint16_t *port);

/* Before exiting: waits until the attempts that lost (or were cancelled)
 * have ended, at most timeout. -ETIMEDOUT if some are still running. */
int dial_wait_idle(usec_t timeout);
