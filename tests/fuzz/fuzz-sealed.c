/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sealed-code parser (sealed.h) on anything a webhook, a push message or
 * a person may hand the bridge.
 *
 * The input up to its first NUL byte is a text in which sealed_find() looks
 * for codes; each is peeked at and opened with a fixed operator key.
 * Whatever follows a NUL byte is an inner body (time and strings) that gets
 * a valid signature from a fixed machine key, is sealed to the fixed
 * operator key and gets a valid check value: a box or a hash no fuzzer gets
 * through, and without this the body parser behind them would only ever see
 * the seeds.
 *
 * Whenever a code opens, sealing what it holds again must open to the same. */
#include <sodium.h>
#include <string.h>

#include "base32.h"
#include "fuzz.h"
#include "sealed.h"

FUZZ_CORPUS("sealed");

static struct operator_key op;
static struct machine_key machine;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        uint8_t seed[32];

        if (sodium_init() < 0)
                abort();
        memset(seed, 7, sizeof seed);
        operator_key_from_secret(&op, seed);
        memset(seed, 9, sizeof seed);
        machine_key_from_seed(&machine, seed);
        return 0;
}

static void same(const struct sealed_code *a, const struct sealed_code *b) {
        FUZZ_ASSERT(a->created == b->created);
        FUZZ_ASSERT(!strcmp(a->token, b->token));
        FUZZ_ASSERT(!strcmp(a->password, b->password));
        FUZZ_ASSERT(!strcmp(a->fingerprint, b->fingerprint));
        FUZZ_ASSERT(!strcmp(a->hostname, b->hostname));
        FUZZ_ASSERT(!strcmp(a->machine_id, b->machine_id));
        FUZZ_ASSERT(!strcmp(a->reason, b->reason));
}

static void open_and_check(const char *text, size_t len) {
        static struct sealed_code c, again;
        static char resealed[SEALED_TEXT_MAX];
        struct sealed_error err;
        uint8_t id[KEYS_ID_SIZE];
        int r;

        r = sealed_peek(text, len, id, &err);
        FUZZ_ASSERT(r == 0 || (err.code != SEALED_OK && err.message[0]));
        r = sealed_open(text, len, &op, &c, &err);
        if (r < 0) {
                FUZZ_ASSERT(err.code != SEALED_OK);
                FUZZ_ASSERT(memchr(err.message, '\0', sizeof err.message) && err.message[0]);
                return;
        }
        FUZZ_ASSERT(!memcmp(c.signer, machine.pk, 32));
        FUZZ_ASSERT(sealed_seal(&c, &machine, op.pk, resealed, sizeof resealed) == 0);
        FUZZ_ASSERT(sealed_open(resealed, strlen(resealed), &op, &again, &err) == 0);
        same(&c, &again);
        sealed_code_clear(&c);
        sealed_code_clear(&again);
}

/* body: the inner part's body; signed, sealed and checked as sealed.c does. */
static void seal_raw(const uint8_t *body, size_t size) {
        static const uint8_t ctx[] = SEALED_SIGN_CONTEXT, check_key[] = "kairos sealed check";
        size_t inner_n = 1 + 32 + 64 + size, outer_n = 1 + KEYS_ID_SIZE + crypto_box_SEALBYTES + inner_n + 4;
        uint8_t *inner = malloc(inner_n), *outer = malloc(outer_n), id[KEYS_ID_SIZE];
        char *text = malloc(strlen(SEALED_PREFIX) + base32_encoded_len(outer_n) + 1);
        crypto_sign_state st;

        if (!inner || !outer || !text)
                abort();
        operator_key_id(op.pk, id);
        inner[0] = SEALED_VERSION;
        memcpy(inner + 1, machine.pk, 32);
        if (size)
                memcpy(inner + 1 + 32 + 64, body, size);
        crypto_sign_init(&st);
        crypto_sign_update(&st, ctx, sizeof ctx);
        crypto_sign_update(&st, id, sizeof id);
        crypto_sign_update(&st, body, size);
        crypto_sign_final_create(&st, inner + 1 + 32, NULL, machine.sk);
        outer[0] = SEALED_VERSION;
        memcpy(outer + 1, id, sizeof id);
        crypto_box_seal(outer + 1 + KEYS_ID_SIZE, inner, inner_n, op.pk);
        crypto_generichash(outer + outer_n - 4, 4, outer, outer_n - 4, check_key, sizeof check_key - 1);
        strcpy(text, SEALED_PREFIX);
        base32_encode(outer, outer_n, text + strlen(SEALED_PREFIX));
        open_and_check(text, strlen(text));
        free(inner);
        free(outer);
        free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *nul = memchr(data, '\0', size);
        size_t text_n = nul ? (size_t) (nul - data) : size, pos = 0, start, len;
        const char *text = (const char *) data;

        while (sealed_find(text, text_n, &pos, &start, &len) == 0) {
                FUZZ_ASSERT(start + len <= text_n && pos <= text_n);
                open_and_check(text + start, len);
        }
        FUZZ_ASSERT(pos == text_n || pos <= text_n);
        if (nul && size - text_n - 1 <= 8192)
                seal_raw(nul + 1, size - text_n - 1);
        return 0;
}
