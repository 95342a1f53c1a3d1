/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The magic-wormhole transit relay protocol, both roles:
 *
 *   -> please relay <64 hex channel> for side <16 hex side>\n
 *   <- ok\n                 (a peer with the same channel, another side)
 *   then raw bytes both ways.
 *
 * The relay answers "impatient\n" to bytes sent before "ok", "bad
 * handshake\n" to a malformed line, and closes without a word every other
 * connection waiting on a channel the moment it pairs two ("redundant").
 * It expires nothing, so the timeouts are ours. */

#include <stddef.h>
#include <stdint.h>

#include "io.h"

#define RELAY_LINE_MAX 128
#define RELAY_REPLY_MAX 64

/* "please relay CHANNEL for side SIDE\n" into out; returns its length. */
int relay_request(const char *channel, const char *side, char *out, size_t size);

struct relay_reply {
        size_t len;
        char buf[RELAY_REPLY_MAX];
};

/* Feeds the relay's answer. Takes bytes up to and including the first
 * newline and no further (*consumed says how many), so the peer's first
 * bytes that may follow "ok\n" in the same read are left to the caller.
 * Returns 0 (more needed), 1 (paired), -EBUSY (impatient), -EPROTO (bad
 * handshake), -EBADMSG (anything else, or a line longer than a reply). */
int relay_reply_feed(struct relay_reply *r, const uint8_t *data, size_t len, size_t *consumed);

/* Sends the request on a connected fd and waits for the answer, reading
 * one byte at a time so nothing after "ok\n" is taken. Returns 0 when
 * paired, the errors above, -ECONNRESET when the relay closed without
 * "ok" (another connection took the slot, or the relay went away), or
 * -ETIMEDOUT. */
int relay_wait_paired(int fd, const char *channel, const char *side, usec_t deadline);

/* One line for a person, naming what happened at the relay. */
const char *relay_strerror(int error);
