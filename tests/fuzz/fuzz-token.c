/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* token_decode() on anything a camera or a person may hand the bridge.
 *
 * The input up to its first NUL byte is the text given to token_decode().
 * Whatever follows a NUL byte is a binary token body that gets a correct
 * check value, the base32 and the prefix before it is decoded: the check
 * value is a hash no fuzzer inverts, and without this the layout, address
 * and relay parsing behind it would only ever see the seeds.
 *
 * Whenever a token decodes, encoding it and decoding that again must give
 * the same token, and the same text again. */
#include <sodium.h>
#include <string.h>

#include "base32.h"
#include "fuzz.h"
#include "token.h"

FUZZ_CORPUS("token");

#define CHECK_SIZE 4
/* The check value of token.c: part of the wire format, pinned here too. */
#define CHECK_KEY "kairos token check"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        if (sodium_init() < 0)
                abort();
        return 0;
}

static void same_token(const struct kairos_token *a, const struct kairos_token *b) {
        FUZZ_ASSERT(!memcmp(a->secret, b->secret, sizeof a->secret));
        FUZZ_ASSERT(a->port == b->port);
        FUZZ_ASSERT(a->n_addresses == b->n_addresses);
        for (size_t i = 0; i < a->n_addresses; i++) {
                FUZZ_ASSERT(a->addresses[i].family == b->addresses[i].family);
                FUZZ_ASSERT(!memcmp(a->addresses[i].bytes, b->addresses[i].bytes,
                                    a->addresses[i].family == AF_INET ? 4 : 16));
        }
        FUZZ_ASSERT(a->n_relays == b->n_relays);
        for (size_t i = 0; i < a->n_relays; i++)
                FUZZ_ASSERT(!strcmp(a->relays[i], b->relays[i]));
}

static void decode_and_check(const char *text) {
        struct kairos_token t, again, third;
        struct token_error err;
        char encoded[KAIROS_TOKEN_TEXT_MAX], reencoded[KAIROS_TOKEN_TEXT_MAX];

        if (token_decode(text, &t, &err) < 0) {
                FUZZ_ASSERT(err.code != TOKEN_OK);
                FUZZ_ASSERT(memchr(err.message, '\0', sizeof err.message));
                FUZZ_ASSERT(err.message[0] != '\0');
                return;
        }
        FUZZ_ASSERT(err.code == TOKEN_OK);
        FUZZ_ASSERT(t.n_addresses <= KAIROS_TOKEN_MAX_ADDRESSES);
        FUZZ_ASSERT(t.n_relays <= KAIROS_TOKEN_MAX_RELAYS);
        FUZZ_ASSERT(t.n_addresses == 0 || t.port != 0);
        for (size_t i = 0; i < t.n_addresses; i++) {
                char s[64];

                FUZZ_ASSERT(token_address_usable(&t.addresses[i]));
                address_to_string(&t.addresses[i], s, sizeof s);
        }
        for (size_t i = 0; i < t.n_relays; i++) {
                char host[256];
                uint16_t port;

                FUZZ_ASSERT(memchr(t.relays[i], '\0', sizeof t.relays[i]));
                FUZZ_ASSERT(relay_parse(t.relays[i], host, sizeof host, &port) == 0);
                FUZZ_ASSERT(port != 0);
        }

        /* Round trip: what decodes must encode, and decode to the same token. */
        FUZZ_ASSERT(token_encode(&t, encoded, sizeof encoded) == 0);
        FUZZ_ASSERT(strlen(encoded) < sizeof encoded);
        FUZZ_ASSERT(token_decode(encoded, &again, &err) == 0);
        same_token(&t, &again);
        FUZZ_ASSERT(token_encode(&again, reencoded, sizeof reencoded) == 0);
        FUZZ_ASSERT(!strcmp(encoded, reencoded));

        /* The forgiving forms must decode to the same token as well. */
        for (char *p = reencoded + strlen(KAIROS_TOKEN_PREFIX); *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
        FUZZ_ASSERT(token_decode(reencoded, &third, &err) == 0);
        same_token(&t, &third);

        token_clear(&t);
        token_clear(&again);
        token_clear(&third);
}

/* A binary body with its check value appended, as a token's text. */
static void decode_binary(const uint8_t *body, size_t size) {
        static const uint8_t key[] = CHECK_KEY;
        uint8_t *bin;
        char *text;
        size_t plen = strlen(KAIROS_TOKEN_PREFIX);

        bin = malloc(size + CHECK_SIZE);
        text = malloc(plen + base32_encoded_len(size + CHECK_SIZE) + 1);
        if (!bin || !text)
                abort();
        if (size > 0)
                memcpy(bin, body, size);
        crypto_generichash(bin + size, CHECK_SIZE, bin, size, key, sizeof key - 1);
        memcpy(text, KAIROS_TOKEN_PREFIX, plen);
        base32_encode(bin, size + CHECK_SIZE, text + plen);
        decode_and_check(text);
        free(bin);
        free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *nul = memchr(data, '\0', size);
        char *text;

        /* As text, exactly as given: a string of the input's bytes. */
        text = malloc(size + 1);
        if (!text)
                abort();
        if (size > 0)
                memcpy(text, data, size);
        text[size] = '\0';
        decode_and_check(text);
        free(text);

        if (nul)
                decode_binary(nul + 1, size - (size_t) (nul + 1 - data));
        return 0;
}
