/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Records: how the tunnel puts Noise transport messages on a byte stream.
 *
 *   length   2 bytes, big endian: the size of what follows
 *   sealed   ChaCha20-Poly1305 of (type, payload) with the length as
 *            associated data, so a record cannot be cut or stretched
 *
 * Lengths below RECORD_MIN_SEALED or above RECORD_MAX_SEALED are refused
 * before any decryption: the reader never buffers more than one record. */

#include <stddef.h>
#include <stdint.h>

#include "noise.h"

#define RECORD_HEADER_SIZE 2
#define RECORD_MAX_PAYLOAD 16384
#define RECORD_MIN_SEALED (1 + NOISE_TAG_SIZE)
#define RECORD_MAX_SEALED (1 + RECORD_MAX_PAYLOAD + NOISE_TAG_SIZE)
#define RECORD_MAX_WIRE (RECORD_HEADER_SIZE + RECORD_MAX_SEALED)

enum record_type {
        RECORD_DATA = 0,         /* stream bytes */
        RECORD_CLIENT_HELLO = 1, /* initiator's first record: key confirmation */
        RECORD_HELLO = 2,        /* responder's hello: host name, host keys, version */
        RECORD_CLOSE = 3,        /* this direction ends here, cleanly */
        RECORD_ROTATED = 4,      /* responder, instead of HELLO: this key was the code's before
                                  * kairos-recovery rotate; nothing more follows (tunnel.h) */
        _RECORD_TYPE_MAX,
};

/* Seals one record into out (RECORD_MAX_WIRE bytes are always enough).
 * Returns the number of bytes to send, or -EMSGSIZE / -EOVERFLOW (nonces used up). */
int record_seal(struct noise_cipher *c, enum record_type type, const uint8_t *payload, size_t len,
                uint8_t *out);

/* Room for several records: one read(2) takes in what the kernel has, so a
 * busy tunnel costs one system call for many records, not two for each. */
#define RECORD_READER_SIZE (4 * RECORD_MAX_WIRE)

struct record_reader {
        size_t start, end; /* unread bytes are buf[start..end) */
        uint8_t buf[RECORD_READER_SIZE];
};

/* Where to read stream bytes into, and how many fit (always room for at
 * least one whole record). Moves unread bytes to the front when needed, so
 * call it only once the last payload returned has been used. */
uint8_t *record_reader_space(struct record_reader *r, size_t *room);
void record_reader_advance(struct record_reader *r, size_t n);

/* When a whole record is buffered, opens it in place: returns 1 with *type,
 * *payload and *len. The payload stays in place inside the reader until
 * record_reader_space() is called, so several can be opened and then passed
 * on at once. 0 when more bytes are needed. -EMSGSIZE when the length is
 * impossible, -EBADMSG when the record does not authenticate or has an
 * unknown type, -EOVERFLOW when nonces are used up. After an error nothing
 * more may be read. */
int record_reader_open(struct record_reader *r, struct noise_cipher *c, uint8_t *type,
                       const uint8_t **payload, size_t *len);

/* At the end of the stream: -ENODATA if a record was cut off, else 0. */
int record_reader_eof(const struct record_reader *r);

/* Human words for the errors above, for log lines. */
const char *record_strerror(int error);
