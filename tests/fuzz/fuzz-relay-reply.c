/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* relay_reply_feed() on what a transit relay (or anything at its address,
 * or a proxy on the way) answers, fed in pieces as reads deliver them.
 *
 * Byte 0 seeds the piece sizes (0: all at once, n: 1..n bytes); the rest is
 * the answer. The reader must never take more than it was given, nor any
 * byte after the first newline (those are the peer's, for the tunnel). */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "relay.h"

FUZZ_CORPUS("relay-reply");

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct relay_reply reply = {};
        const uint8_t *nl;
        size_t line_end, at = 0;
        uint32_t state;
        uint8_t seed;
        int r = 0;

        if (size < 1)
                return 0;
        seed = data[0];
        state = seed;
        data++;
        size--;
        nl = memchr(data, '\n', size);
        line_end = nl ? (size_t) (nl - data) + 1 : size; /* bytes that may be taken */

        while (at < size) {
                size_t n = fuzz_chunk(&state, seed, size - at), consumed = SIZE_MAX;

                r = relay_reply_feed(&reply, data + at, n, &consumed);
                FUZZ_ASSERT(consumed <= n);
                FUZZ_ASSERT(at + consumed <= line_end);
                FUZZ_ASSERT(reply.len <= sizeof reply.buf);
                at += consumed;
                if (r != 0)
                        break;
                /* More needed: then all of the piece was taken. */
                FUZZ_ASSERT(consumed == n);
        }

        switch (r) {
        case 0:
                /* Still waiting: no newline yet, and the line fits. */
                FUZZ_ASSERT(!nl && at == size && size <= RELAY_REPLY_MAX);
                break;
        case 1:
        case -EBUSY:
        case -EPROTO: {
                static const char *const lines[] = { "ok\n", "impatient\n", "bad handshake\n" };
                const char *want = lines[r == 1 ? 0 : r == -EBUSY ? 1 : 2];

                /* A known answer: exactly that line, taken whole. */
                FUZZ_ASSERT(at == line_end && at == strlen(want) && !memcmp(data, want, at));
                FUZZ_ASSERT(relay_strerror(r));
                break;
        }
        case -EBADMSG:
                /* Anything else: a complete other line, or one too long. */
                FUZZ_ASSERT(at == line_end || at == RELAY_REPLY_MAX);
                FUZZ_ASSERT(relay_strerror(r));
                break;
        default:
                FUZZ_ASSERT(!"relay_reply_feed() returned an undocumented value");
        }
        return 0;
}
