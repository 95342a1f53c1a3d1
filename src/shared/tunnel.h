/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The kairos tunnel on one stream (a TCP connection, direct or paired at a
 * relay): Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b, then records.
 *
 *   initiator -> responder   handshake 1: e (no payload: not forward-secret)
 *   responder -> initiator   handshake 2: e, ee
 *   initiator -> responder   record CLIENT_HELLO: key confirmation. Only now
 *                            does the responder count the tunnel as
 *                            established; a replayed handshake 1 ends here.
 *   responder -> initiator   record HELLO: host name, host keys, version
 *   both ways                DATA records, then CLOSE for each direction
 *
 * Handshake messages are framed like records (2-byte length). A responder
 * that will not serve the connection now (too many connections waiting,
 * or its source refused for a while) may send, instead of handshake 2, the
 * frame "busy" (four bytes; handshake 2 has 48) and close. Anyone on the
 * path could forge it, as they could cut the connection: it only tells
 * the user that the token was not the problem.
 *
 * For a while after kairos-recovery rotate (ROTATE_GRACE in the daemon)
 * the responder also accepts the code before the rotation, but only to
 * say so: it completes the handshake with the old key, waits for the key
 * confirmation, and sends one record ROTATED instead of the hello, then
 * closes. Only the holder of the old code can read it, and only the
 * machine (or whoever holds the old code too) can write it: unlike
 * "busy", a relay operator cannot forge it to make a bridge give up. */

#include <stdbool.h>
#include <stdint.h>

#include "hello.h"
#include "io.h"
#include "noise.h"
#include "record.h"

#define TUNNEL_PROLOGUE "kairos tunnel 1"
#define TUNNEL_BUSY_FRAME "\x00\x04" "busy"
#define TUNNEL_HANDSHAKE_MAX 256

/* Does buf, n bytes from the start of a connection, hold the whole first
 * handshake frame (or as much as a frame can hold: an oversized length is
 * for the responder to refuse)? For a listener that starts its responder
 * only then. */
bool tunnel_first_frame_whole(const uint8_t *buf, size_t n);

struct tunnel {
        int fd;
        struct noise_cipher send, recv;
        struct record_reader reader;
        /* Through a relay: acknowledge what arrives at once (TCP_QUICKACK),
         * see tunnel-pump.c. */
        bool quickack;
        /* Bytes of the plaintext input already sent by tunnel_initiate_early(),
         * still to be read past (they were only peeked at). */
        size_t early_sent;
};

/* Both return 0 with t ready, or: -EBADMSG the peer does not hold the same
 * secret (or someone interferes), -ECONNABORTED the responder closed on our
 * first message (it holds another secret), -EUSERS the responder is busy
 * (TUNNEL_BUSY_FRAME), -EKEYREVOKED the responder proved that this secret
 * was rotated away (ROTATED), -ETIMEDOUT, -ECONNRESET the peer closed,
 * -EPROTO the peer broke the protocol. fd stays the caller's. */
int tunnel_initiate(struct tunnel *t, int fd, const uint8_t psk[NOISE_KEY_SIZE],
                    struct kairos_hello *hello, usec_t deadline);
/* The same, and what early_fd (a socket; > 0) already holds is sent right
 * behind the key confirmation, before the hello is waited for: the
 * responder proved the secret with handshake 2, and an ssh client's banner
 * then reaches the machine a round trip sooner. It is only peeked at:
 * t->early_sent bytes, which tunnel_pump() reads past, so that a losing
 * attempt of a race takes nothing from early_fd. */
int tunnel_initiate_early(struct tunnel *t, int fd, const uint8_t psk[NOISE_KEY_SIZE],
                          struct kairos_hello *hello, usec_t deadline, int early_fd);
/* Returns when the initiator's key confirmation arrived; the caller sends
 * the hello with tunnel_send_hello() next. proven, if not NULL, is called
 * once the first handshake message has decrypted, before the answer is
 * sent (the peer holds the secret, or replays a message it saw). */
int tunnel_accept(struct tunnel *t, int fd, const uint8_t psk[NOISE_KEY_SIZE], usec_t deadline,
                  void (*proven)(void *userdata), void *userdata);
/* The same, and when retired_psk is not NULL a first message made with it
 * is taken too (*retired = true then; proven is not called for it): the
 * caller sends tunnel_send_rotated() and ends. */
int tunnel_accept_retired(struct tunnel *t, int fd, const uint8_t psk[NOISE_KEY_SIZE],
                          const uint8_t *retired_psk, usec_t deadline, void (*proven)(void *userdata),
                          void *userdata, bool *retired);
int tunnel_send_rotated(struct tunnel *t, usec_t deadline);
int tunnel_send_hello(struct tunnel *t, const struct kairos_hello *hello, usec_t deadline);

struct tunnel_stats {
        uint64_t bytes_in, bytes_out; /* plaintext: from the tunnel, into the tunnel */
};

/* Moves bytes both ways until both directions closed cleanly (0) or one
 * failed (negative, see record_strerror()). Reads plaintext from in_fd and
 * writes it to out_fd (they may be the same socket). Nothing that follows a
 * bad record reaches out_fd. Sets the fds non-blocking. stop_fd, if >= 0,
 * ends the pump (-ECANCELED) when it becomes readable. */
int tunnel_pump(struct tunnel *t, int in_fd, int out_fd, int stop_fd, struct tunnel_stats *stats);

/* Wipes the keys; closes t->fd if close_fd. */
void tunnel_done(struct tunnel *t, bool close_fd);
