/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The helper's side of session-protocol.h: the configuration datagram the
 * main process sends first, and the events sent back. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hello.h"
#include "io.h"
#include "macro.h"
#include "token.h"

#define SESSION_DEFAULT_MAX_AUTH_TRIES 6
#define SESSION_DEFAULT_AUTH_TIMEOUT 120
#define SESSION_DEFAULT_HANDSHAKE_TIMEOUT 10

enum session_transport {
        SESSION_TRANSPORT_UNSET,
        SESSION_TRANSPORT_SSH,
        SESSION_TRANSPORT_TUNNEL,
};

struct session_config {
        enum session_transport transport;
        uint8_t secret[KAIROS_SECRET_SIZE];
        bool have_secret;
        /* The secret before the last rotate, for its grace period: a tunnel
         * made with it is told "rotated" and ended (tunnel.h). */
        uint8_t retired_secret[KAIROS_SECRET_SIZE];
        bool have_retired_secret;
        char *hostkeys[HELLO_MAX_KEYS];
        size_t n_hostkeys;
        char *authorized_keys;
        char hostname[HELLO_HOSTNAME_MAX];
        char peer[128];
        unsigned max_auth_tries;
        unsigned auth_timeout; /* seconds */
        unsigned handshake_timeout; /* seconds, for the tunnel handshake */
};

/* Parses the datagram (not NUL-terminated). -EINVAL with a reason in why
 * when a required key is missing or a value is malformed; unknown keys are
 * skipped, so that a newer main process can say more. */
int config_parse(const char *text, size_t len, struct session_config *c, char *why, size_t why_size);
/* Frees what config_parse() allocated and wipes the secret. */
void config_done(struct session_config *c);

/* Receives and parses the first datagram on fd; wipes the buffer. */
int control_read_config(int fd, struct session_config *c, usec_t deadline);

/* Where events go; -1 (the default) drops them. */
void control_set_fd(int fd);
/* One event datagram. Losing the main process must not end a repair in
 * progress, so failures are only logged. */
void control_event(const char *format, ...) _printf_(1, 2);

/* Text from the client (a user name) made safe for an event line and a log:
 * printable ASCII without spaces, at most 64 characters, "?" for the rest. */
void control_sanitize(const char *in, char *out, size_t size);
