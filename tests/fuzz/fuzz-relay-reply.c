/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* relay_reply_feed() on what a transit relay (or anything at its address,
 * or a proxy on the way) answers, fed in pieces as reads deliver them.
 *
 * Byte 0 seeds the piece sizes (0: all at once, n: 1..n bytes); the rest is
 * the answer. The reader must never take more than it was given, nor any
 * byte after the first newline (those are the peer's, for the tunnel).
 *
 * The same answer then comes through a socket to relay_wait_paired(), which
 * must agree with relay_reply_feed() and leave every byte after the line in
 * the socket. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "relay.h"

FUZZ_CORPUS("relay-reply");

#define CHANNEL "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SIDE "0123456789abcdef"

/* relay_wait_paired() on a socket that holds the answer, then its end. */
static void through_socket(const uint8_t *data, size_t size, int feed_result, size_t feed_consumed) {
        char request[RELAY_LINE_MAX], expected[RELAY_LINE_MAX];
        static uint8_t rest[65536];
        size_t have = 0;
        int fds[2], r, n;
        ssize_t k;

        /* The socket buffer must hold it all: we write before the call. */
        if (size > 16384)
                return;
        FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        FUZZ_ASSERT(size == 0 || write(fds[1], data, size) == (ssize_t) size);
        FUZZ_ASSERT(shutdown(fds[1], SHUT_WR) == 0);

        r = relay_wait_paired(fds[0], CHANNEL, SIDE, deadline_after(5 * USEC_PER_SEC));

        /* Our request went out, whole. */
        n = relay_request(CHANNEL, SIDE, expected, sizeof expected);
        FUZZ_ASSERT(n > 0 && read(fds[1], request, sizeof request) == n && !memcmp(request, expected, (size_t) n));

        /* The same verdict as the feeder's; the end of the stream where it
         * wanted more. */
        FUZZ_ASSERT(r == (feed_result == 1 ? 0 : feed_result == 0 ? -ECONNRESET : feed_result));
        FUZZ_ASSERT(relay_strerror(r));

        /* Once paired, what follows "ok\n" is the peer's: still there, byte
         * for byte. (After an error the connection is dropped, and a line
         * too long costs one byte more than the feeder took.) */
        while ((k = read(fds[0], rest + have, sizeof rest - have)) > 0)
                have += (size_t) k;
        FUZZ_ASSERT(k == 0);
        if (r == 0)
                FUZZ_ASSERT(have == size - feed_consumed && (have == 0 || !memcmp(rest, data + feed_consumed, have)));
        close(fds[0]);
        close(fds[1]);
}

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

        through_socket(data, size, r, at);
        return 0;
}
