/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the tunnel's unit tests share: a responder thread, socketpairs, both
 * handshakes run at once, the hello the responder sends. */

#include <pthread.h>

#include "io.h"
#include "tunnel.h"

#define HANDSHAKE_TIMEOUT (5 * USEC_PER_SEC)

extern const char *const host_keys[2];
extern struct kairos_hello server_hello;

struct responder {
        struct tunnel t;
        int fd;
        const uint8_t *psk;
        usec_t timeout;
        int r;
        unsigned proven; /* calls of the proven hook */
};

/* Sets server_hello; sodium_init, SIGPIPE ignored, a watchdog of 120 s. */
void fixture_init(const char *test_name);
void on_proven(void *userdata);
/* tunnel_accept and the hello, into the struct responder arg. */
void *respond(void *arg);
void start(pthread_t *th, void *(*fn)(void *), void *arg);
void pair(int sv[2]);
/* Runs both handshakes at once; the initiator's result is returned, the
 * responder's in res->r. */
int handshake(const uint8_t *psk_i, const uint8_t *psk_r, struct tunnel *ini, struct kairos_hello *hello,
              struct responder *res);
