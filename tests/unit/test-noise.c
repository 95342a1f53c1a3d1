/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reproduces, byte for byte, every message and the handshake hash of the
 * Noise test vectors of an independent implementation (cacophony), in
 * tests/data/noise-25519-chachapoly-blake2b.json, for NN, NNpsk0 and NNpsk2;
 * then checks the transport rules kairos relies on. */
#include <errno.h>
#include <sodium.h>

#include "noise.h"
#include "tap.h"

#define MAX_MESSAGES 8

struct vector {
        char name[96];
        uint8_t init_e[32], resp_e[32], prologue[64], psk[32], hash[64];
        size_t prologue_len;
        int has_psk;
        size_t n_messages;
        uint8_t payload[MAX_MESSAGES][256], cipher[MAX_MESSAGES][256];
        size_t payload_len[MAX_MESSAGES], cipher_len[MAX_MESSAGES];
};

/* The file is a fixed, simple shape: read its "key": "value" pairs in order,
 * one vector starting at each "protocol_name". */
static int next_pair(const char **p, char *key, size_t ks, char *val, size_t vs) {
        const char *q;
        size_t l;

        for (;;) {
                q = strchr(*p, '"');
                if (!q)
                        return 0;
                const char *ke = strchr(q + 1, '"');
                if (!ke)
                        return 0;
                l = (size_t) (ke - q - 1);
                const char *after = ke + 1 + strspn(ke + 1, " \t\r\n");
                *p = ke + 1;
                if (*after != ':')
                        continue; /* a string inside an array: psks */
                if (l >= ks)
                        return 0;
                memcpy(key, q + 1, l);
                key[l] = 0;
                after++;
                after += strspn(after, " \t\r\n[");
                if (*after != '"') {
                        val[0] = 0;
                        *p = after;
                        return 1;
                }
                const char *ve = strchr(after + 1, '"');
                l = (size_t) (ve - after - 1);
                if (l >= vs)
                        return 0;
                memcpy(val, after + 1, l);
                val[l] = 0;
                *p = ve + 1;
                return 1;
        }
}

static size_t unhex(const char *hex, uint8_t *out, size_t size) {
        size_t n = 0;
        if (sodium_hex2bin(out, size, hex, strlen(hex), NULL, &n, NULL) != 0)
                abort();
        return n;
}

static size_t load(const char *path, struct vector *v, size_t max) {
        static char text[65536], key[64], val[1024];
        FILE *f = fopen(path, "re");
        size_t n = 0, len;
        const char *p = text;

        if (!f) {
                printf("Bail out! cannot open %s\n", path);
                exit(1);
        }
        len = fread(text, 1, sizeof text - 1, f);
        text[len] = 0;
        fclose(f);
        while (next_pair(&p, key, sizeof key, val, sizeof val)) {
                struct vector *c = n > 0 ? &v[n - 1] : NULL;
                if (!strcmp(key, "protocol_name")) {
                        if (n == max)
                                break;
                        c = &v[n++];
                        memset(c, 0, sizeof *c);
                        snprintf(c->name, sizeof c->name, "%s", val);
                } else if (!c)
                        continue;
                else if (!strcmp(key, "init_prologue"))
                        c->prologue_len = unhex(val, c->prologue, sizeof c->prologue);
                else if (!strcmp(key, "init_ephemeral"))
                        unhex(val, c->init_e, 32);
                else if (!strcmp(key, "resp_ephemeral"))
                        unhex(val, c->resp_e, 32);
                else if (!strcmp(key, "init_psks"))
                        c->has_psk = unhex(val, c->psk, 32) == 32;
                else if (!strcmp(key, "handshake_hash"))
                        unhex(val, c->hash, 64);
                else if (!strcmp(key, "payload"))
                        c->payload_len[c->n_messages] = unhex(val, c->payload[c->n_messages], 256);
                else if (!strcmp(key, "ciphertext")) {
                        c->cipher_len[c->n_messages] = unhex(val, c->cipher[c->n_messages], 256);
                        c->n_messages++;
                }
        }
        return n;
}

static enum noise_pattern pattern_of(const char *name) {
        if (strstr(name, "_NNpsk0_"))
                return NOISE_NNPSK0;
        if (strstr(name, "_NNpsk2_"))
                return NOISE_NNPSK2;
        return NOISE_NN;
}

static void run_vector(const struct vector *v) {
        struct noise_handshake ini, res;
        struct noise_cipher is, ir, rs, rr;
        uint8_t ih[64], rh[64], out[512], plain[512];
        const uint8_t *psk = v->has_psk ? v->psk : NULL;
        size_t i;
        int all = 1;

        noise_handshake_init(&ini, pattern_of(v->name), true, v->prologue, v->prologue_len, psk);
        noise_handshake_init(&res, pattern_of(v->name), false, v->prologue, v->prologue_len, psk);
        noise_handshake_set_ephemeral(&ini, v->init_e);
        noise_handshake_set_ephemeral(&res, v->resp_e);

        for (i = 0; i < v->n_messages && !noise_handshake_is_done(&ini); i++) {
                struct noise_handshake *w = i % 2 == 0 ? &ini : &res, *r = i % 2 == 0 ? &res : &ini;
                size_t olen = sizeof out, plen = sizeof plain;
                int ok = noise_handshake_write(w, v->payload[i], v->payload_len[i], out, &olen) == 0 &&
                         olen == v->cipher_len[i] && !memcmp(out, v->cipher[i], olen) &&
                         noise_handshake_read(r, out, olen, plain, &plen) == 0 &&
                         plen == v->payload_len[i] && !memcmp(plain, v->payload[i], plen);
                if (!tap_ok(ok, "%s: handshake message %zu matches the vector byte for byte", v->name, i + 1))
                        all = 0;
        }
        noise_handshake_split(&ini, &is, &ir, ih);
        noise_handshake_split(&res, &rs, &rr, rh);
        tap_ok(!memcmp(ih, v->hash, 64) && !memcmp(rh, v->hash, 64), "%s: handshake hash matches on both sides", v->name);

        for (; i < v->n_messages; i++) {
                struct noise_cipher *enc = i % 2 == 0 ? &is : &rs, *dec = i % 2 == 0 ? &rr : &ir;
                int ok = noise_cipher_encrypt(enc, NULL, 0, v->payload[i], v->payload_len[i], out) == 0 &&
                         v->payload_len[i] + 16 == v->cipher_len[i] && !memcmp(out, v->cipher[i], v->cipher_len[i]) &&
                         noise_cipher_decrypt(dec, NULL, 0, out, v->cipher_len[i], plain) == 0 &&
                         !memcmp(plain, v->payload[i], v->payload_len[i]);
                tap_ok(ok, "%s: transport message %zu matches the vector byte for byte", v->name, i + 1);
        }
        (void) all;
}

static void test_psk_mismatch(void) {
        uint8_t a[32] = { 1 }, b[32] = { 2 }, out[256], plain[256];
        struct noise_handshake ini, res;
        size_t olen = sizeof out, plen = sizeof plain;

        noise_handshake_init(&ini, NOISE_NNPSK0, true, NULL, 0, a);
        noise_handshake_init(&res, NOISE_NNPSK0, false, NULL, 0, b);
        noise_handshake_write(&ini, NULL, 0, out, &olen);
        tap_ok(noise_handshake_read(&res, out, olen, plain, &plen) == -EBADMSG,
               "NNpsk0: a responder with another PSK rejects the first message");
}

static void test_nonce_limit(void) {
        struct noise_cipher c = { .has_key = true, .n = NOISE_NONCE_LIMIT - 1 };
        uint8_t out[64];

        tap_ok(noise_cipher_encrypt(&c, NULL, 0, (const uint8_t *) "x", 1, out) == 0,
               "the last nonce before the limit still encrypts");
        tap_ok(noise_cipher_encrypt(&c, NULL, 0, (const uint8_t *) "x", 1, out) == -EOVERFLOW,
               "a used-up nonce is refused with -EOVERFLOW instead of wrapping");
}

static void test_tamper(void) {
        struct noise_cipher e = { .has_key = true }, d = { .has_key = true };
        uint8_t out[64], plain[64];

        noise_cipher_encrypt(&e, NULL, 0, (const uint8_t *) "hello", 5, out);
        out[2] ^= 1;
        tap_ok(noise_cipher_decrypt(&d, NULL, 0, out, 21, plain) == -EBADMSG && d.n == 0,
               "a flipped bit fails authentication and the nonce does not advance");
}

int main(int argc, char **argv) {
        static struct vector v[8];
        const char *dir = getenv("srcdir") ? getenv("srcdir") : ".";
        char path[4096];
        size_t n;

        if (sodium_init() < 0)
                return 99;
        snprintf(path, sizeof path, "%s/tests/data/noise-25519-chachapoly-blake2b.json", argc > 1 ? argv[1] : dir);
        n = load(path, v, 8);
        tap_ok(n == 3, "the vector file holds NN, NNpsk0 and NNpsk2 (found %zu)", n);
        for (size_t i = 0; i < n; i++)
                run_vector(&v[i]);
        test_psk_mismatch();
        test_nonce_limit();
        test_tamper();
        return tap_done();
}
