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
 *   bits 0-5 the seed of the piece sizes: 0 gives the reader all the room
 *            it offers at once, n gives pieces of 1..n bytes (1..64n for
 *            the long streams of repeated records).
 *
 * Sealed mode, after byte 0: a repeat byte (below 0xc0 the list is sealed
 * once; from 0xc0 on, 8 times per step above 0xbf, within STREAM_MAX bytes
 * and REPEAT_RECORDS records: short inputs then make the long streams that
 * fill the reader's buffer and make it move what is unread to its front),
 * a position (3 bytes, big endian, modulo the stream length), an XOR value
 * (1 byte; 0 leaves the stream intact), then the records, each a type
 * (1 byte, modulo the record types), a length (2 bytes, big endian, modulo
 * RECORD_MAX_PAYLOAD + 1, at most what is left) and the payload.
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
#define SEALED_HEADER 5
/* Just past the reader's buffer: long enough to make it move what is
 * unread. Repeats stop there, or at REPEAT_RECORDS records (two AEAD
 * operations each: the fuzzer's speed). */
#define STREAM_MAX (RECORD_READER_SIZE + 2 * RECORD_MAX_WIRE)
#define REPEAT_RECORDS 256
#define REPEAT_FROM 0xc0
/* What record_reader_eof() says of a record cut off by the end of the stream. */
#define CUT_SHORT (-ENODATA)

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

/* Reads stream in pieces of 1..chunk_max bytes (0: all the room there is);
 * each record returned must be expect[i], if expect is given. */
static struct read_result read_stream(struct noise_cipher *c, const uint8_t *stream, size_t len,
                                      size_t chunk_max, const struct expected *expect, size_t n_expect) {
        static struct record_reader reader;
        struct read_result res = {};
        uint32_t state = (uint32_t) chunk_max;
        size_t at = 0;

        reader = (struct record_reader) {};
        while (at < len) {
                size_t room, n;
                uint8_t *space = record_reader_space(&reader, &room);

                /* Room for a whole record, always. */
                FUZZ_ASSERT(room >= RECORD_MAX_WIRE);
                FUZZ_ASSERT(space >= reader.buf && space + room <= reader.buf + sizeof reader.buf);
                n = fuzz_chunk(&state, chunk_max, MIN(room, len - at));
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
        FUZZ_ASSERT(res.eof == 0 || res.eof == CUT_SHORT);
        return res;
}

static void raw_mode(const uint8_t *data, size_t size, uint8_t flags) {
        struct noise_cipher c = flags & FLAG ? (struct noise_cipher) {} : keyed_cipher();

        read_stream(&c, data, size, flags & CHUNK_SEED, NULL, 0);
}

/* The records of the list: their types, payloads and wire sizes. */
static size_t parse_list(const uint8_t *data, size_t size, struct expected *list) {
        size_t n = 0, at = 0;

        while (at + 3 <= size) {
                struct expected *e = &list[n++];
                size_t l = ((size_t) data[at + 1] << 8 | data[at + 2]) % (RECORD_MAX_PAYLOAD + 1);

                e->type = data[at] % _RECORD_TYPE_MAX;
                at += 3;
                e->len = MIN(l, size - at);
                e->payload = data + at;
                at += e->len;
        }
        return n;
}

static void sealed_mode(const uint8_t *data, size_t size, uint8_t flags) {
        struct noise_cipher send = keyed_cipher(), recv = keyed_cipher();
        struct expected *list, *expect;
        uint8_t *stream;
        size_t n_list, list_wire = 0, reps, n_expect = 0, len = 0, pos, damaged, intact;
        uint8_t xor;
        bool cut = flags & FLAG;
        struct read_result res;

        if (size < SEALED_HEADER)
                return;
        reps = data[0] < REPEAT_FROM ? 1 : 8 * (size_t) (data[0] - REPEAT_FROM + 1);
        pos = (size_t) data[1] << 16 | (size_t) data[2] << 8 | data[3];
        xor = data[4];
        data += SEALED_HEADER;
        size -= SEALED_HEADER;

        /* Each record costs at least 3 input bytes. */
        list = calloc(size / 3 + 1, sizeof *list);
        if (!list)
                abort();
        n_list = parse_list(data, size, list);
        for (size_t i = 0; i < n_list; i++)
                list_wire += RECORD_HEADER_SIZE + 1 + list[i].len + NOISE_TAG_SIZE;
        if (list_wire == 0)
                reps = 1;
        else
                reps = MAX(MIN(MIN(reps, STREAM_MAX / list_wire), REPEAT_RECORDS / n_list), (size_t) 1);

        expect = calloc(n_list * reps + 1, sizeof *expect);
        stream = malloc(list_wire * reps + 1);
        if (!expect || !stream)
                abort();
        for (size_t k = 0; k < reps; k++)
                for (size_t i = 0; i < n_list; i++) {
                        struct expected *e = &expect[n_expect++];
                        int r;

                        *e = list[i];
                        r = record_seal(&send, e->type, e->payload, e->len, stream + len);
                        FUZZ_ASSERT(r == (int) (RECORD_HEADER_SIZE + 1 + e->len + NOISE_TAG_SIZE));
                        len += (size_t) r;
                        e->wire_end = len;
                }
        FUZZ_ASSERT(len == list_wire * reps);

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

        res = read_stream(&recv, stream, len, (flags & CHUNK_SEED) * (reps > 1 ? 64 : 1), expect, n_expect);
        FUZZ_ASSERT(res.records == intact);
        if (damaged == len && !cut)
                /* Untouched: everything arrives, nothing fails. */
                FUZZ_ASSERT(res.error == 0 && res.eof == 0);
        else if (cut)
                /* Cut short: no error, and a cut record is reported at the end. */
                FUZZ_ASSERT(res.error == 0 &&
                            res.eof == (intact > 0 && expect[intact - 1].wire_end == len ? 0 : len > 0 ? CUT_SHORT : 0));
        else
                /* Flipped bits: the reader says so. */
                FUZZ_ASSERT(res.error != 0 || res.eof == CUT_SHORT);

        free(list);
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
