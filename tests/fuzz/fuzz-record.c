/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The record reader on a stream from the network, fed in pieces of every
 * size as TCP may deliver them.
 *
 * Byte 0 of the input chooses:
 *   bit 7    0: the rest is the raw stream, read with a fixed key;
 *            1: the rest is a list of plaintext records that are sealed
 *               with that key, then the sealed stream is corrupted (below)
 *               and read back: this is how the fuzzer gets past
 *               authentication to what follows it.
 *   bit 6    raw: read with a cipher that has no key (the framing alone,
 *            record types included); sealed: cut the stream short at the
 *            chosen position instead of flipping bits there.
 *   bits 0-5 the seed of the piece sizes: 0 gives the reader all it asks
 *            for at once, n gives pieces of 1..n bytes.
 *
 * Sealed mode, after byte 0: position (2 bytes, big endian, modulo the
 * stream length), XOR value (1 byte; 0 leaves the stream intact), then the
 * records, each a type (1 byte, modulo the record types), a length (2 bytes,
 * big endian, modulo RECORD_MAX_PAYLOAD + 1, at most what is left) and the
 * payload.
 *
 * Invariants: the reader never returns a record that differs from what was
 * sealed, returns every record before the damage and none from it on, and
 * reports the damage (an error, or a cut record at the end of the stream). */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "record.h"

FUZZ_CORPUS("record");

#define SEALED_MODE 0x80
#define FLAG 0x40
#define CHUNK_SEED 0x3f

static const uint8_t key[NOISE_KEY_SIZE] = "kairos fuzz record key, 32 byte";

static struct noise_cipher keyed_cipher(void) {
        struct noise_cipher c = { .has_key = true };
        memcpy(c.k, key, sizeof c.k);
        return c;
}

struct expected {
        uint8_t type;
        const uint8_t *payload;
        size_t len;
        size_t wire_end; /* offset just past this record in the sealed stream */
};

struct read_result {
        size_t records; /* returned, all checked */
        int error;      /* the reader's error, 0 if none */
        int eof;        /* record_reader_eof() at the end, if no error */
};

/* Reads stream in pieces; each record returned must be expect[i], if expect
 * is given. */
static struct read_result read_stream(struct noise_cipher *c, const uint8_t *stream, size_t len,
                                      uint8_t chunk_seed, const struct expected *expect, size_t n_expect) {
        static struct record_reader reader;
        struct read_result res = {};
        uint32_t state = chunk_seed;
        size_t at = 0;

        reader = (struct record_reader) {};
        while (at < len) {
                size_t room, n;
                uint8_t *space = record_reader_space(&reader, &room);

                FUZZ_ASSERT(room > 0);
                FUZZ_ASSERT(space >= reader.buf && space + room <= reader.buf + sizeof reader.buf);
                n = fuzz_chunk(&state, chunk_seed, MIN(room, len - at));
                memcpy(space, stream + at, n);
                record_reader_advance(&reader, n);
                at += n;

                for (;;) {
                        uint8_t type = 0xff;
                        const uint8_t *payload = NULL;
                        size_t plen = SIZE_MAX;
                        int r = record_reader_open(&reader, c, &type, &payload, &plen);

                        if (r == 0)
                                break;
                        if (r < 0) {
                                FUZZ_ASSERT(r == -EMSGSIZE || r == -EBADMSG || r == -EOVERFLOW);
                                FUZZ_ASSERT(record_strerror(r));
                                res.error = r;
                                return res;
                        }
                        FUZZ_ASSERT(r == 1);
                        FUZZ_ASSERT(type < _RECORD_TYPE_MAX);
                        FUZZ_ASSERT(plen <= RECORD_MAX_PAYLOAD);
                        FUZZ_ASSERT(payload >= reader.buf && payload + plen <= reader.buf + sizeof reader.buf);
                        if (expect) {
                                FUZZ_ASSERT(res.records < n_expect);
                                FUZZ_ASSERT(type == expect[res.records].type);
                                FUZZ_ASSERT(plen == expect[res.records].len);
                                FUZZ_ASSERT(plen == 0 || !memcmp(payload, expect[res.records].payload, plen));
                        }
                        res.records++;
                }
        }
        res.eof = record_reader_eof(&reader);
        FUZZ_ASSERT(res.eof == 0 || res.eof == -EPIPE);
        return res;
}

static void raw_mode(const uint8_t *data, size_t size, uint8_t flags) {
        struct noise_cipher c = flags & FLAG ? (struct noise_cipher) {} : keyed_cipher();

        read_stream(&c, data, size, flags & CHUNK_SEED, NULL, 0);
}

static void sealed_mode(const uint8_t *data, size_t size, uint8_t flags) {
        struct noise_cipher send = keyed_cipher(), recv = keyed_cipher();
        struct expected *expect;
        uint8_t *stream;
        size_t n_expect = 0, len = 0, pos, at = 3, damaged, intact;
        uint8_t xor;
        bool cut = flags & FLAG;
        struct read_result res;

        if (size < 3)
                return;
        pos = (size_t) data[0] << 8 | data[1];
        xor = data[2];

        /* Each record costs at least 3 input bytes and adds at most 19 on the wire. */
        expect = calloc(size / 3 + 1, sizeof *expect);
        stream = malloc(8 * size + RECORD_MAX_WIRE);
        if (!expect || !stream)
                abort();
        while (at + 3 <= size) {
                struct expected *e = &expect[n_expect];
                size_t l = ((size_t) data[at + 1] << 8 | data[at + 2]) % (RECORD_MAX_PAYLOAD + 1);
                int r;

                e->type = data[at] % _RECORD_TYPE_MAX;
                at += 3;
                e->len = MIN(l, size - at);
                e->payload = data + at;
                at += e->len;
                r = record_seal(&send, e->type, e->payload, e->len, stream + len);
                FUZZ_ASSERT(r == (int) (RECORD_HEADER_SIZE + 1 + e->len + NOISE_TAG_SIZE));
                len += (size_t) r;
                e->wire_end = len;
                n_expect++;
        }

        /* The damage, and which records lie wholly before it. */
        damaged = len;
        if (len > 0 && (cut || xor != 0)) {
                damaged = pos % len;
                if (cut)
                        len = damaged;
                else
                        stream[damaged] ^= xor;
        }
        intact = 0;
        while (intact < n_expect && expect[intact].wire_end <= damaged)
                intact++;

        res = read_stream(&recv, stream, len, flags & CHUNK_SEED, expect, n_expect);
        FUZZ_ASSERT(res.records == intact);
        if (damaged == len && !cut)
                /* Untouched: everything arrives, nothing fails. */
                FUZZ_ASSERT(res.error == 0 && res.eof == 0);
        else if (cut)
                /* Cut short: no error, and a cut record is reported at the end. */
                FUZZ_ASSERT(res.error == 0 &&
                            res.eof == (intact > 0 && expect[intact - 1].wire_end == len ? 0 : len > 0 ? -EPIPE : 0));
        else
                /* Flipped bits: the reader says so. */
                FUZZ_ASSERT(res.error != 0 || res.eof == -EPIPE);

        free(expect);
        free(stream);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        if (data[0] & SEALED_MODE)
                sealed_mode(data + 1, size - 1, data[0]);
        else
                raw_mode(data + 1, size - 1, data[0]);
        return 0;
}
