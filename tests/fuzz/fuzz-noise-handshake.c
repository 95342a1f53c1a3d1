/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Noise NNpsk0 handshake messages an attacker can send: the whole input
 * is the first message, read by a responder (the daemon, from anyone who can
 * reach its port or the relay), and also the second message, read by an
 * initiator (the bridge, from whoever answers at the relay).
 *
 * The psk and both ephemeral keys are fixed, so that runs are reproducible
 * and the corpus can hold messages that authenticate: a valid message 1 and
 * a valid message 2 go on through the rest of the handshake and the split. */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "fuzz.h"
#include "noise.h"

FUZZ_CORPUS("noise-handshake");

static const uint8_t psk[NOISE_KEY_SIZE] = "kairos fuzz noise psk, 32 bytes";
static const uint8_t prologue[] = "kairos fuzz";
static const uint8_t initiator_e[NOISE_DH_SIZE] = "kairos fuzz initiator ephemeral";
static const uint8_t responder_e[NOISE_DH_SIZE] = "kairos fuzz responder ephemeral";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        if (sodium_init() < 0)
                abort();
        return 0;
}

static void finish(struct noise_handshake *hs) {
        struct noise_cipher send, recv;
        uint8_t hash[NOISE_HASH_SIZE];

        FUZZ_ASSERT(noise_handshake_is_done(hs));
        FUZZ_ASSERT(noise_handshake_split(hs, &send, &recv, hash) == 0);
        FUZZ_ASSERT(send.has_key && recv.has_key && send.n == 0 && recv.n == 0);
        noise_cipher_clear(&send);
        noise_cipher_clear(&recv);
}

/* The daemon's side: the input is message 1. */
static void responder(const uint8_t *data, size_t size) {
        struct noise_handshake hs;
        uint8_t payload[NOISE_MAX_MESSAGE], out[NOISE_MAX_MESSAGE];
        size_t plen = sizeof payload, olen = sizeof out;
        int r;

        FUZZ_ASSERT(noise_handshake_init(&hs, NOISE_NNPSK0, false, prologue, sizeof prologue, psk) == 0);
        noise_handshake_set_ephemeral(&hs, responder_e);
        FUZZ_ASSERT(!noise_handshake_is_our_turn(&hs));
        r = noise_handshake_read(&hs, data, size, payload, &plen);
        if (r < 0) {
                FUZZ_ASSERT(r == -EBADMSG);
                noise_handshake_clear(&hs);
                return;
        }
        /* Only a message from someone with the psk gets here. */
        FUZZ_ASSERT(size >= NOISE_DH_SIZE + NOISE_TAG_SIZE);
        FUZZ_ASSERT(plen == size - NOISE_DH_SIZE - NOISE_TAG_SIZE);
        FUZZ_ASSERT(noise_handshake_is_our_turn(&hs));
        FUZZ_ASSERT(noise_handshake_write(&hs, NULL, 0, out, &olen) == 0);
        FUZZ_ASSERT(olen == NOISE_DH_SIZE + NOISE_TAG_SIZE);
        finish(&hs);
}

/* The bridge's side: message 1 written, the input is message 2. */
static void initiator(const uint8_t *data, size_t size) {
        struct noise_handshake hs;
        uint8_t payload[NOISE_MAX_MESSAGE], out[NOISE_MAX_MESSAGE];
        size_t plen = sizeof payload, olen = sizeof out;
        int r;

        FUZZ_ASSERT(noise_handshake_init(&hs, NOISE_NNPSK0, true, prologue, sizeof prologue, psk) == 0);
        noise_handshake_set_ephemeral(&hs, initiator_e);
        FUZZ_ASSERT(noise_handshake_write(&hs, NULL, 0, out, &olen) == 0);
        r = noise_handshake_read(&hs, data, size, payload, &plen);
        if (r < 0) {
                FUZZ_ASSERT(r == -EBADMSG);
                noise_handshake_clear(&hs);
                return;
        }
        FUZZ_ASSERT(size >= NOISE_DH_SIZE + NOISE_TAG_SIZE);
        FUZZ_ASSERT(plen == size - NOISE_DH_SIZE - NOISE_TAG_SIZE);
        finish(&hs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        responder(data, size);
        initiator(data, size);
        return 0;
}
