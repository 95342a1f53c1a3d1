/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Records on a stream: round trips, the size limits, tampering, truncation,
 * reads of any size (byte by byte, or many records at once) with the
 * reader's buffer contract, and that the nonce refuses replayed or reordered
 * records. */
#include <errno.h>
#include <sodium.h>

#include "record.h"
#include "tap.h"


static uint8_t key[NOISE_KEY_SIZE];

static struct noise_cipher cipher(void) {
        struct noise_cipher c = { .has_key = true };
        memcpy(c.k, key, sizeof key);
        return c;
}

/* Feeds s[*at..len) into the reader the way a socket reader does: at most
 * chunk bytes at a time and never more than record_reader_space() offers,
 * until a record opens (1), fails (< 0) or the stream ends (0). */
static int feed(struct record_reader *r, struct noise_cipher *c, const uint8_t *s, size_t len, size_t *at,
                size_t chunk, uint8_t *type, const uint8_t **payload, size_t *plen) {
        for (;;) {
                int k = record_reader_open(r, c, type, payload, plen);
                size_t room, m;
                uint8_t *dst;

                if (k != 0)
                        return k;
                if (*at == len)
                        return 0;
                dst = record_reader_space(r, &room);
                if (room == 0) {
                        printf("# the reader offers no room although the record is incomplete\n");
                        return -EDEADLK;
                }
                m = room < chunk ? room : chunk;
                if (m > len - *at)
                        m = len - *at;
                memcpy(dst, s + *at, m);
                record_reader_advance(r, m);
                *at += m;
        }
}

static void test_round_trip(void) {
        static const size_t sizes[] = { 0, 1, 16, 1000, RECORD_MAX_PAYLOAD };
        static uint8_t payload[RECORD_MAX_PAYLOAD], wire[RECORD_MAX_WIRE];
        static struct record_reader r;

        randombytes_buf(payload, sizeof payload);
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                struct noise_cipher e = cipher(), d = cipher();
                const uint8_t *p = NULL;
                size_t plen = 0, at = 0;
                uint8_t type = 0xff;
                int n = record_seal(&e, RECORD_DATA, payload, sizes[i], wire), k;

                tap_ok(n == (int) (RECORD_HEADER_SIZE + 1 + sizes[i] + NOISE_TAG_SIZE),
                       "a %zu-byte payload seals into %zu bytes on the wire (got %d)", sizes[i],
                       RECORD_HEADER_SIZE + 1 + sizes[i] + NOISE_TAG_SIZE, n);
                r = (struct record_reader) {};
                k = feed(&r, &d, wire, n > 0 ? (size_t) n : 0, &at, SIZE_MAX, &type, &p, &plen);
                tap_ok(k == 1 && type == RECORD_DATA && plen == sizes[i] && !memcmp(p, payload, plen),
                       "a %zu-byte DATA record opens to the same type and payload (got %d, %zu bytes)", sizes[i], k, plen);
                tap_ok(record_reader_eof(&r) == 0, "after a whole %zu-byte record, the end of the stream is clean", sizes[i]);
        }

        {
                /* In place, as the pump seals: the payload already at out + 3. */
                struct noise_cipher e = cipher(), d = cipher();
                const uint8_t *p;
                size_t plen, at = 0;
                uint8_t type;
                int n, k;

                memcpy(wire + RECORD_HEADER_SIZE + 1, payload, 5000);
                n = record_seal(&e, RECORD_HELLO, wire + RECORD_HEADER_SIZE + 1, 5000, wire);
                r = (struct record_reader) {};
                k = feed(&r, &d, wire, (size_t) n, &at, SIZE_MAX, &type, &p, &plen);
                tap_ok(k == 1 && type == RECORD_HELLO && plen == 5000 && !memcmp(p, payload, 5000),
                       "a record sealed in place (payload already in the output buffer) opens to the same payload");
        }
}

static void test_limits(void) {
        static uint8_t payload[RECORD_MAX_PAYLOAD + 1], wire[RECORD_MAX_WIRE + 64];
        static const size_t bad_lengths[] = { 0, 1, RECORD_MIN_SEALED - 1, RECORD_MAX_SEALED + 1, 0xffff };
        struct noise_cipher e = cipher();
        int n;

        n = record_seal(&e, RECORD_DATA, payload, RECORD_MAX_PAYLOAD + 1, wire);
        tap_ok(n == -EMSGSIZE, "record_seal refuses RECORD_MAX_PAYLOAD + 1 bytes with -EMSGSIZE (got %d)", n);
        n = record_seal(&e, _RECORD_TYPE_MAX, payload, 1, wire);
        tap_ok(n == -EMSGSIZE, "record_seal refuses an unknown record type (got %d)", n);
        tap_ok(e.n == 0, "a refused record uses no nonce (got n = %llu)", (unsigned long long) e.n);
        e.n = NOISE_NONCE_LIMIT;
        n = record_seal(&e, RECORD_DATA, payload, 1, wire);
        tap_ok(n == -EOVERFLOW, "record_seal with used-up nonces is -EOVERFLOW (got %d)", n);

        for (size_t i = 0; i < sizeof bad_lengths / sizeof bad_lengths[0]; i++) {
                static struct record_reader r;
                struct noise_cipher d = cipher();
                const uint8_t *p;
                size_t plen, room;
                uint8_t type, *dst;
                int k;

                r = (struct record_reader) {};
                dst = record_reader_space(&r, &room);
                tap_ok(room >= RECORD_MAX_WIRE, "an empty reader offers room for a whole record at least (got %zu)", room);
                dst[0] = (uint8_t) (bad_lengths[i] >> 8);
                dst[1] = (uint8_t) bad_lengths[i];
                record_reader_advance(&r, RECORD_HEADER_SIZE);
                k = record_reader_open(&r, &d, &type, &p, &plen);
                tap_ok(k == -EMSGSIZE, "a header announcing %zu sealed bytes (allowed: %d to %d) is -EMSGSIZE before the body (got %d)",
                       bad_lengths[i], RECORD_MIN_SEALED, RECORD_MAX_SEALED, k);
        }
}

/* Flips one bit of a sealed record (followed by enough bytes for any length
 * the header may then announce) and reads: never a payload. */
static int open_flipped(const uint8_t *wire, size_t n, size_t bit, int *result) {
        static uint8_t s[RECORD_MAX_WIRE + RECORD_MAX_SEALED];
        static struct record_reader r;
        struct noise_cipher d = cipher();
        const uint8_t *p;
        size_t plen, at = 0;
        uint8_t type;

        memcpy(s, wire, n);
        randombytes_buf(s + n, sizeof s - n);
        s[bit / 8] ^= (uint8_t) (1u << (bit % 8));
        r = (struct record_reader) {};
        *result = feed(&r, &d, s, sizeof s, &at, 4096, &type, &p, &plen);
        return (*result == -EBADMSG || *result == -EMSGSIZE) && d.n == 0;
}

static void test_tamper(void) {
        static uint8_t payload[3000], wire[RECORD_MAX_WIRE];
        size_t bad = 0, bits, tried = 0, bad_bit = 0;
        struct noise_cipher e = cipher();
        int n, k, bad_k = 0;

        randombytes_buf(payload, sizeof payload);
        n = record_seal(&e, RECORD_DATA, payload, 10, wire);
        bits = (size_t) n * 8;
        for (size_t bit = 0; bit < bits; bit++, tried++)
                if (!open_flipped(wire, (size_t) n, bit, &k) && !bad++)
                        bad_bit = bit, bad_k = k;
        e = cipher();
        n = record_seal(&e, RECORD_DATA, payload, sizeof payload, wire);
        for (size_t bit = 0; bit < 16; bit++, tried++) /* the whole header */
                if (!open_flipped(wire, (size_t) n, bit, &k) && !bad++)
                        bad_bit = bit, bad_k = k;
        for (int i = 0; i < 2000; i++, tried++) {
                size_t bit = 16 + randombytes_uniform((uint32_t) (n * 8 - 16));
                if (!open_flipped(wire, (size_t) n, bit, &k) && !bad++)
                        bad_bit = bit, bad_k = k;
        }
        tap_ok(bad == 0, "each of %zu single-bit flips (header and body) gives -EBADMSG or -EMSGSIZE, never a payload", tried);
        if (bad)
                printf("#   got:      %zu bad, first at bit %zu: %d\n#   expected: -EBADMSG or -EMSGSIZE\n", bad, bad_bit, bad_k);
}

static void test_truncated(void) {
        static uint8_t wire[RECORD_MAX_WIRE];
        static struct record_reader r;
        static const uint8_t payload[100];
        struct noise_cipher e = cipher();
        size_t cuts[] = { 1, 2, 3, 50, 0, 0 };
        int n = record_seal(&e, RECORD_DATA, payload, sizeof payload, wire);

        cuts[4] = (size_t) n - NOISE_TAG_SIZE;
        cuts[5] = (size_t) n - 1;
        r = (struct record_reader) {};
        tap_ok(record_reader_eof(&r) == 0, "a stream that ends before any record ends cleanly");
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
                struct noise_cipher d = cipher();
                const uint8_t *p;
                size_t plen, at = 0;
                uint8_t type;
                int k, eof;

                r = (struct record_reader) {};
                k = feed(&r, &d, wire, cuts[i], &at, SIZE_MAX, &type, &p, &plen);
                eof = record_reader_eof(&r);
                tap_ok(k == 0 && eof == -ENODATA, "a %d-byte record cut after %zu bytes opens nothing and its end is -ENODATA (got %d, %d)",
                       n, cuts[i], k, eof);
        }
        tap_ok(record_strerror(-ENODATA) && *record_strerror(-ENODATA), "record_strerror has words for -ENODATA: %s", record_strerror(-ENODATA));
}

/* Several records in one stream, read with the given chunk size (1: byte by
 * byte; SIZE_MAX: as much as the reader offers, many records at once).
 * Each payload is compared before the next call, as the contract asks. */
static void read_stream(size_t chunk, const char *how) {
        static const size_t sizes[] = { 0, 1, 700, RECORD_MAX_PAYLOAD, 3, 16383, 42, RECORD_MAX_PAYLOAD,
                                        RECORD_MAX_PAYLOAD, 9000, RECORD_MAX_PAYLOAD, 5, RECORD_MAX_PAYLOAD };
        enum { N = sizeof sizes / sizeof sizes[0] };
        static uint8_t stream[N * RECORD_MAX_WIRE], payload[N][RECORD_MAX_PAYLOAD];
        static struct record_reader r;
        struct noise_cipher e = cipher(), d = cipher();
        size_t len = 0, at = 0, wrong = 0;

        for (size_t i = 0; i < N; i++) {
                randombytes_buf(payload[i], sizes[i]);
                len += (size_t) record_seal(&e, i % 2 ? RECORD_DATA : RECORD_CLOSE, payload[i], sizes[i], stream + len);
        }
        r = (struct record_reader) {};
        for (size_t i = 0; i < N; i++) {
                const uint8_t *p;
                size_t plen = 0;
                uint8_t type;
                int k = feed(&r, &d, stream, len, &at, chunk, &type, &p, &plen);

                if (k != 1 || plen != sizes[i] || memcmp(p, payload[i], plen) ||
                    type != (i % 2 ? RECORD_DATA : RECORD_CLOSE)) {
                        wrong++;
                        printf("# record %zu: got %d, %zu bytes; expected 1, %zu bytes\n", i, k, plen, sizes[i]);
                }
        }
        tap_ok(wrong == 0, "%d records read %s all open to their payloads, in order", N, how);
        tap_ok(at == len && record_reader_eof(&r) == 0, "after the last record read %s, all is taken and the end is clean", how);
}

/* The reader's buffer: room for a whole record at least, whatever is pending,
 * and the unread bytes kept when they are moved to the front. */
static void test_space(void) {
        static uint8_t stream[8 * RECORD_MAX_WIRE];
        static struct record_reader r;
        static uint8_t payload[RECORD_MAX_PAYLOAD];
        struct noise_cipher e = cipher(), d = cipher();
        size_t len = 0, at = 0, room, min_room = SIZE_MAX, opened = 0, bad = 0;
        int k = 0;

        randombytes_buf(payload, sizeof payload);
        for (int i = 0; i < 7; i++)
                len += (size_t) record_seal(&e, RECORD_DATA, payload, RECORD_MAX_PAYLOAD - (size_t) i * 999, stream + len);
        r = (struct record_reader) {};
        /* Reads that end inside records, so that a partial record is pending
         * each time space() is asked for. */
        while (at < len) {
                const uint8_t *p;
                size_t plen, m;
                uint8_t type, *dst;

                while ((k = record_reader_open(&r, &d, &type, &p, &plen)) == 1) {
                        bad += plen != RECORD_MAX_PAYLOAD - opened * 999 || memcmp(p, payload, plen);
                        opened++;
                }
                if (k < 0)
                        break;
                dst = record_reader_space(&r, &room);
                if (room < min_room)
                        min_room = room;
                m = RECORD_MAX_WIRE + 12345 < room ? RECORD_MAX_WIRE + 12345 : room;
                m = m < len - at ? m : len - at;
                memcpy(dst, stream + at, m);
                record_reader_advance(&r, m);
                at += m;
        }
        while (k >= 0 && opened < 7) {
                const uint8_t *p;
                size_t plen;
                uint8_t type;
                if ((k = record_reader_open(&r, &d, &type, &p, &plen)) != 1)
                        break;
                bad += plen != RECORD_MAX_PAYLOAD - opened * 999 || memcmp(p, payload, plen);
                opened++;
        }
        tap_ok(min_room >= RECORD_MAX_WIRE, "record_reader_space always offers room for a whole record (least: %zu, need %d)",
               min_room, RECORD_MAX_WIRE);
        tap_ok(opened == 7 && bad == 0 && k >= 0,
               "7 large records read in pieces that end mid-record all open intact (got %zu, %zu bad, last %d)", opened, bad, k);
        tap_ok(record_reader_eof(&r) == 0, "and nothing is left over");
}

static void test_replay(void) {
        static uint8_t a[RECORD_MAX_WIRE], b[RECORD_MAX_WIRE];
        static struct record_reader r;
        struct noise_cipher e = cipher(), d = cipher();
        const uint8_t *p;
        size_t plen, at;
        uint8_t type;
        int na = record_seal(&e, RECORD_DATA, (const uint8_t *) "first", 5, a);
        int nb = record_seal(&e, RECORD_DATA, (const uint8_t *) "second", 6, b);
        int k;

        r = (struct record_reader) {}, at = 0;
        k = feed(&r, &d, a, (size_t) na, &at, SIZE_MAX, &type, &p, &plen);
        tap_ok(k == 1 && plen == 5, "the first record opens (got %d)", k);
        r = (struct record_reader) {}, at = 0;
        k = feed(&r, &d, a, (size_t) na, &at, SIZE_MAX, &type, &p, &plen);
        tap_ok(k == -EBADMSG, "the first record replayed is -EBADMSG: its nonce is used (got %d)", k);
        r = (struct record_reader) {}, at = 0;
        k = feed(&r, &d, b, (size_t) nb, &at, SIZE_MAX, &type, &p, &plen);
        tap_ok(k == 1 && plen == 6 && !memcmp(p, "second", 6), "the second record still opens after the refused replay (got %d)", k);

        d = cipher();
        r = (struct record_reader) {}, at = 0;
        k = feed(&r, &d, b, (size_t) nb, &at, SIZE_MAX, &type, &p, &plen);
        tap_ok(k == -EBADMSG, "the second record before the first (reordered) is -EBADMSG (got %d)", k);
        tap_ok(d.n == 0, "the refused record did not advance the receiving nonce");
}

static void test_unknown_type(void) {
        static const uint8_t types[] = { _RECORD_TYPE_MAX, 0x7f, 0xff };
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
                static struct record_reader r;
                struct noise_cipher e = cipher(), d = cipher();
                uint8_t wire[64], plain[8] = { types[i], 'x', 'y' };
                const uint8_t *p;
                size_t plen, at = 0, sealed = 3 + NOISE_TAG_SIZE;
                uint8_t type;
                int k;

                /* Sealed by hand as record_seal does: length as associated data. */
                wire[0] = (uint8_t) (sealed >> 8);
                wire[1] = (uint8_t) sealed;
                noise_cipher_encrypt(&e, wire, RECORD_HEADER_SIZE, plain, 3, wire + 2);
                r = (struct record_reader) {};
                k = feed(&r, &d, wire, 2 + sealed, &at, SIZE_MAX, &type, &p, &plen);
                tap_ok(k == -EBADMSG, "an authentic record of unknown type %u is -EBADMSG (got %d)", types[i], k);
        }
}

int main(void) {
        if (sodium_init() < 0) {
                printf("Bail out! sodium_init failed\n");
                return 99;
        }
        randombytes_buf(key, sizeof key);
        test_round_trip();
        test_limits();
        test_tamper();
        test_truncated();
        read_stream(1, "one byte at a time");
        read_stream(7, "in 7-byte reads");
        read_stream(5000, "in 5000-byte reads");
        read_stream(RECORD_MAX_WIRE + 3, "in reads one record and 3 bytes long");
        read_stream(SIZE_MAX, "in reads as large as offered");
        test_space();
        test_replay();
        test_unknown_type();
        return tap_done();
}
