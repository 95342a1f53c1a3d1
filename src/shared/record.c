/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "record.h"

int record_seal(struct noise_cipher *c, enum record_type type, const uint8_t *payload, size_t len,
                uint8_t *out) {
        size_t sealed = 1 + len + NOISE_TAG_SIZE;
        int r;

        if (len > RECORD_MAX_PAYLOAD || (unsigned) type >= _RECORD_TYPE_MAX)
                return -EMSGSIZE;
        out[0] = (uint8_t) (sealed >> 8);
        out[1] = (uint8_t) sealed;
        /* Type and payload side by side, then sealed in place. */
        out[2] = (uint8_t) type;
        if (len > 0 && payload != out + 3)
                memmove(out + 3, payload, len); /* or sealed in place, where it already is */
        r = noise_cipher_encrypt(c, out, RECORD_HEADER_SIZE, out + 2, 1 + len, out + 2);
        if (r < 0)
                return r;
        return (int) (RECORD_HEADER_SIZE + sealed);
}

static size_t sealed_length(const struct record_reader *r) {
        return (size_t) r->buf[r->start] << 8 | r->buf[r->start + 1];
}

uint8_t *record_reader_space(struct record_reader *r, size_t *room) {
        if (r->start == r->end)
                r->start = r->end = 0;
        else if (sizeof r->buf - r->end < RECORD_MAX_WIRE && r->start > 0) {
                memmove(r->buf, r->buf + r->start, r->end - r->start);
                r->end -= r->start;
                r->start = 0;
        }
        *room = sizeof r->buf - r->end;
        return r->buf + r->end;
}

void record_reader_advance(struct record_reader *r, size_t n) {
        r->end += n;
}

int record_reader_open(struct record_reader *r, struct noise_cipher *c, uint8_t *type,
                       const uint8_t **payload, size_t *len) {
        size_t avail = r->end - r->start, sealed;
        uint8_t *rec = r->buf + r->start;
        int e;

        if (avail < RECORD_HEADER_SIZE)
                return 0;
        sealed = sealed_length(r);
        if (sealed < RECORD_MIN_SEALED || sealed > RECORD_MAX_SEALED)
                return -EMSGSIZE;
        if (avail < RECORD_HEADER_SIZE + sealed)
                return 0;

        e = noise_cipher_decrypt(c, rec, RECORD_HEADER_SIZE, rec + RECORD_HEADER_SIZE, sealed,
                                 rec + RECORD_HEADER_SIZE);
        if (e < 0)
                return e;
        if (rec[RECORD_HEADER_SIZE] >= _RECORD_TYPE_MAX)
                return -EBADMSG;
        *type = rec[RECORD_HEADER_SIZE];
        *payload = rec + RECORD_HEADER_SIZE + 1;
        *len = sealed - 1 - NOISE_TAG_SIZE;
        r->start += RECORD_HEADER_SIZE + sealed; /* the payload stays in place until space() */
        return 1;
}

int record_reader_eof(const struct record_reader *r) {
        return r->end > r->start ? -ENODATA : 0;
}

const char *record_strerror(int error) {
        switch (error) {
        case -EBADMSG: return "a record failed authentication (tampered with, or not from our peer)";
        case -EMSGSIZE: return "a record with an impossible length (corrupted stream)";
        case -ENODATA: return "the stream ended in the middle of a record (truncated)";
        case -EPIPE: return "the peer closed the connection";
        case -EOVERFLOW: return "the tunnel used up its nonces and must be reopened";
        case -ECONNRESET: return "the peer closed the connection without ending the tunnel (truncated)";
        case -ETIMEDOUT: return "the peer did not answer in time";
        case -ECONNABORTED: return "the peer refused the handshake: it does not hold this token's secret (another machine, or an old token)";
        case -EPROTO: return "the peer broke the tunnel protocol";
        case -EKEYREVOKED: return "the token was rotated: read the new code";
        default: return strerror(-error);
        }
}
