/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pins every derivation of kdf.c to values computed independently (Python's
 * hashlib, not libsodium), because the labels are part of the wire format:
 * a daemon and a bridge of different builds must derive the same keys.
 * Then the properties the design asks of the password, channels and sides. */
#include <sodium.h>

#include "kdf.h"
#include "tap.h"

/* Expected values for the secret 00 01 02 ... 0f, computed with
 *
 *   python3 -c 'import hashlib; s = bytes(range(16));
 *     d = lambda label, i, n: hashlib.blake2b(b"kairos1 " + label + bytes([i]), key=s, digest_size=n).digest();
 *     print(d(b"noise psk", 0, 32).hex())'
 *
 * i.e. BLAKE2b keyed with the secret, digest size n (a parameter of BLAKE2b,
 * not a truncation), over "kairos1 " + label + one index byte:
 *   psk           label "noise psk",          index 0,    32 bytes
 *   channel slot  label "relay channel",      index slot, 32 bytes, hex
 *   side          label "relay side daemon" / "relay side bridge", index 0, 8 bytes, hex
 *   service id    label "service id",         index 0,    4 bytes, hex
 *   password      label "ssh password", index = block number 0, 1, ..., 64 bytes
 *                 a block; each byte b < 248 (= 256 // 31 * 31) gives
 *                 ALPHABET[b % 31], bytes >= 248 are skipped; 16 characters in
 *                 groups of 4 joined by '-'. In Python:
 *     A = "23456789abcdefghjkmnpqrstuvwxyz"; out = []; blk = 0
 *     while len(out) < 16:
 *         out += [A[b % 31] for b in d(b"ssh password", blk, 64) if b < 248]; blk += 1
 *     print("-".join("".join(out[i:i + 4]) for i in range(0, 16, 4)))
 * For this secret, the first password block holds 255 at byte 1, 248 at byte 6
 * and 251 at byte 17: the rejection (and its boundary, 248) is exercised. */
static const char expected_psk[] = "217cdc5711cc085bce1e61c99f3db975448672e00bba74a12239e7cf353a215d";
static const char *const expected_channel[KAIROS_RELAY_SLOTS] = {
        "71f8b6c7b87158e36518dd809479074e706bf98a50c32a1889ee110fb8952164",
        "8bc0e34f9f4b90ddef5cafbb8c58aec429b636b427b926083ba2528a3fe33b32",
        "f09fe7fe0ddfd7b48333ae123856c2fcfe6c73a1cb8c16e5f3e763f06cf869b3",
        "716a00c6e3d08cb9a0d142825485635be070bc60d0c00a423ecc895290ca8741",
};
static const char expected_side_daemon[] = "7647534da04b0748";
static const char expected_side_bridge[] = "827684bee9092e70";
static const char expected_service_id[] = "d7678c45";
static const char expected_password[] = "dju7-3243-uauu-ggrm";

static void fixed_secret(uint8_t s[KAIROS_SECRET_SIZE]) {
        for (unsigned i = 0; i < KAIROS_SECRET_SIZE; i++)
                s[i] = (uint8_t) i;
}

static void test_pinned(void) {
        uint8_t s[KAIROS_SECRET_SIZE], psk[KAIROS_PSK_SIZE];
        char hex[2 * KAIROS_PSK_SIZE + 1], channel[KAIROS_CHANNEL_HEX + 1], side[KAIROS_SIDE_HEX + 1];
        char id[KAIROS_SERVICE_ID_HEX + 1], pw[KAIROS_PASSWORD_SIZE], what[128];

        fixed_secret(s);
        kdf_psk(s, psk);
        sodium_bin2hex(hex, sizeof hex, psk, sizeof psk);
        tap_str_eq(hex, expected_psk, "kdf_psk of secret 00..0f equals the value Python's blake2b computes");

        for (unsigned slot = 0; slot < KAIROS_RELAY_SLOTS; slot++) {
                memset(channel, 'X', sizeof channel);
                kdf_channel(s, slot, channel);
                snprintf(what, sizeof what, "kdf_channel slot %u of secret 00..0f equals the value Python computes", slot);
                tap_str_eq(channel, expected_channel[slot], what);
        }

        kdf_side(s, KAIROS_ROLE_DAEMON, side);
        tap_str_eq(side, expected_side_daemon, "kdf_side for the daemon role equals the value Python computes");
        kdf_side(s, KAIROS_ROLE_BRIDGE, side);
        tap_str_eq(side, expected_side_bridge, "kdf_side for the bridge role equals the value Python computes");

        kdf_service_id(s, id);
        tap_str_eq(id, expected_service_id, "kdf_service_id of secret 00..0f equals the value Python computes");

        kdf_password(s, pw);
        tap_str_eq(pw, expected_password,
                   "kdf_password of secret 00..0f equals Python's rejection-sampled value (bytes >= 248 skipped)");
}

/* Whether pw has the shape "xxxx-xxxx-xxxx-xxxx" with x from the alphabet;
 * on failure, *why says what is wrong. */
static int password_well_formed(const char *pw, const char **why) {
        size_t len = strlen(pw);

        if (len != KAIROS_PASSWORD_SIZE - 1 || len != 19) {
                *why = "length is not 19";
                return 0;
        }
        for (size_t i = 0; i < len; i++) {
                if (i % 5 == 4) {
                        if (pw[i] != '-') {
                                *why = "no dash after a group of 4";
                                return 0;
                        }
                        continue;
                }
                if (!strchr(KAIROS_PASSWORD_ALPHABET, pw[i]) || pw[i] == '-') {
                        *why = "a character outside KAIROS_PASSWORD_ALPHABET";
                        return 0;
                }
                if (strchr("0O1lI", pw[i])) {
                        *why = "a look-alike character (0 O 1 l I)";
                        return 0;
                }
        }
        return 1;
}

static void test_password_shape(void) {
        const char *why = "";
        char pw[KAIROS_PASSWORD_SIZE];
        uint8_t s[KAIROS_SECRET_SIZE];
        int ok;

        tap_ok(strlen(KAIROS_PASSWORD_ALPHABET) == 31 && !strpbrk(KAIROS_PASSWORD_ALPHABET, "0O1lI"),
               "the password alphabet has 31 characters and none of the look-alikes 0 O 1 l I");
        tap_ok(KAIROS_PASSWORD_SIZE == 20, "a password buffer is 19 characters and a NUL (got %d)", KAIROS_PASSWORD_SIZE);

        fixed_secret(s);
        kdf_password(s, pw);
        ok = password_well_formed(pw, &why);
        tap_ok(ok, "the fixed secret's password is 4 groups of 4 alphabet characters joined by '-'");
        if (!ok)
                printf("#   got:      %s (%s)\n#   expected: xxxx-xxxx-xxxx-xxxx\n", pw, why);
}

static int cmp_pw(const void *a, const void *b) {
        return strcmp(a, b);
}

static void test_password_random(void) {
        enum { N = 1000 };
        static char pws[N][KAIROS_PASSWORD_SIZE];
        unsigned seen[256] = {};
        const char *why = "", *bad = NULL;
        size_t malformed = 0, duplicates = 0, missing = 0;
        char missing_chars[40] = "";

        for (size_t i = 0; i < N; i++) {
                uint8_t s[KAIROS_SECRET_SIZE];
                randombytes_buf(s, sizeof s);
                kdf_password(s, pws[i]);
                if (!password_well_formed(pws[i], &why)) {
                        if (!malformed++)
                                bad = pws[i];
                }
                for (const char *p = pws[i]; *p; p++)
                        seen[(unsigned char) *p]++;
        }
        tap_ok(malformed == 0, "every password of %d random secrets is 4 groups of 4 alphabet characters", N);
        if (malformed)
                printf("#   got:      %zu malformed, e.g. %s (%s)\n#   expected: 0\n", malformed, bad, why);

        qsort(pws, N, sizeof pws[0], cmp_pw);
        for (size_t i = 1; i < N; i++)
                duplicates += strcmp(pws[i - 1], pws[i]) == 0;
        tap_ok(duplicates == 0, "the passwords of %d random secrets all differ", N);
        if (duplicates)
                printf("#   got:      %zu duplicates\n#   expected: 0\n", duplicates);

        for (const char *a = KAIROS_PASSWORD_ALPHABET; *a; a++)
                if (!seen[(unsigned char) *a]) {
                        missing_chars[missing++] = *a;
                }
        tap_ok(missing == 0, "every alphabet character appears in the passwords of %d random secrets", N);
        if (missing)
                printf("#   got:      never saw \"%s\"\n#   expected: all of %s\n", missing_chars, KAIROS_PASSWORD_ALPHABET);
}

static void test_distinct(void) {
        char ch[KAIROS_RELAY_SLOTS][KAIROS_CHANNEL_HEX + 1], d[KAIROS_SIDE_HEX + 1], b[KAIROS_SIDE_HEX + 1];
        char c2[KAIROS_CHANNEL_HEX + 1];
        uint8_t s[KAIROS_SECRET_SIZE], s2[KAIROS_SECRET_SIZE];
        int same = 0, bad_hex = 0;

        randombytes_buf(s, sizeof s);
        for (unsigned i = 0; i < KAIROS_RELAY_SLOTS; i++) {
                kdf_channel(s, i, ch[i]);
                bad_hex |= strlen(ch[i]) != KAIROS_CHANNEL_HEX || strspn(ch[i], "0123456789abcdef") != KAIROS_CHANNEL_HEX;
                for (unsigned j = 0; j < i; j++)
                        same |= !strcmp(ch[i], ch[j]);
        }
        tap_ok(!same, "the %d channels (slots) of one random secret all differ", KAIROS_RELAY_SLOTS);
        tap_ok(!bad_hex, "every channel is %d lowercase hex characters", KAIROS_CHANNEL_HEX);

        kdf_side(s, KAIROS_ROLE_DAEMON, d);
        kdf_side(s, KAIROS_ROLE_BRIDGE, b);
        tap_ok(strcmp(d, b) != 0, "the daemon's side and the bridge's side of one secret differ (%s, %s)", d, b);
        tap_ok(strlen(d) == KAIROS_SIDE_HEX && strspn(d, "0123456789abcdef") == KAIROS_SIDE_HEX &&
               strlen(b) == KAIROS_SIDE_HEX && strspn(b, "0123456789abcdef") == KAIROS_SIDE_HEX,
               "both sides are %d lowercase hex characters", KAIROS_SIDE_HEX);

        memcpy(s2, s, sizeof s);
        s2[KAIROS_SECRET_SIZE - 1] ^= 1;
        kdf_channel(s2, 0, c2);
        tap_ok(strcmp(c2, ch[0]) != 0, "a secret differing in one bit gives another channel for slot 0");
}

int main(void) {
        if (sodium_init() < 0) {
                printf("Bail out! sodium_init failed\n");
                return 99;
        }
        test_pinned();
        test_password_shape();
        test_password_random();
        test_distinct();
        return tap_done();
}
