/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What dial.c (the race: its attempts, their results, the winner) and
 * dial-paths.c (one attempt's thread: a direct address, or a relay) share.
 * Not for other users: dial.h is the interface. */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dial.h"
#include "hello.h"
#include "kdf.h"
#include "macro.h"
#include "tunnel.h"

/* What a "busy" answer means; the attempt retries, as it does after any failure. */
#define BUSY_TEXT "the machine is busy and refused us for now (too many connections wait there); retrying"
/* What the machine's ROTATED record says (tunnel.h); no path will do. */
#define ROTATED_TEXT "the machine says the token was rotated (kairos-recovery rotate)"
#define MAX_ATTEMPTS (DIAL_MAX_DIRECT + KAIROS_TOKEN_MAX_ADDRESSES + DIAL_MAX_RELAYS + KAIROS_TOKEN_MAX_RELAYS + 1)

struct race;

struct attempt {
        struct race *race;
        enum dial_path path;
        char host[256];
        uint16_t port;
        char label[300];
        usec_t delay;
        /* Relay attempts behind direct ones: start earlier than delay when
         * by early no direct attempt has even a TCP connection. */
        usec_t early;
        bool tried; /* a direct attempt's first round is over (and failed) */
        int fd; /* under race->lock, so that cancel can shut it down */
};

struct race {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        unsigned refs, running;
        volatile int cancel;
        bool have_winner;
        struct dial_result winner;
        usec_t deadline, slot_wait;
        uint8_t psk[KAIROS_PSK_SIZE];
        char channels[KAIROS_RELAY_SLOTS][KAIROS_CHANNEL_HEX + 1];
        char side[KAIROS_SIDE_HEX + 1];
        void (*progress)(void *userdata, const char *line);
        void *userdata;
        bool stop_on_rejection;
        int early_fd;
        bool handshake_failed, interference, busy;
        /* Set once a direct path said "not this token" when the caller
         * asked to stop at that (dial_options.stop_on_rejection). */
        bool rejected;
        /* Set once the machine proved that the token was rotated (ROTATED,
         * tunnel.h): authenticated, so dialing stops at once. */
        bool rotated;
        char last_error[600];
        unsigned last_rank; /* how telling last_error is: cause_rank() */
        /* For the relay's head start: a direct attempt has a TCP connection;
         * how many direct attempts there are and how many failed a round. */
        bool direct_connected;
        unsigned n_direct, direct_failed;
        size_t n_attempts;
        struct attempt attempts[MAX_ATTEMPTS];
};

_printf_(2, 3) void dial_say(struct race *r, const char *fmt, ...);
void dial_note_error_at(struct attempt *a, int error, bool connected, const char *what, char *last, size_t size);
void dial_note_error(struct attempt *a, int error, const char *what, char *last, size_t size);
void dial_set_fd(struct attempt *a, int fd);
void dial_drop_fd(struct attempt *a);
bool dial_pause_for(struct race *r, usec_t usec);
bool dial_head_start(struct race *r, struct attempt *a);
void dial_direct_progress(struct attempt *a, bool connected);
bool dial_claim(struct attempt *a, struct tunnel *t, const struct kairos_hello *hello);
void dial_attempt_finished(struct attempt *a);
void *dial_run_direct(void *attempt);
void *dial_run_relay(void *attempt);
