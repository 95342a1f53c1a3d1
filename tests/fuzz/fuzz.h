/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The libFuzzer entry points, declared so that the targets build warning-free
 * with -Wmissing-prototypes, and what the replay program needs of a target.
 *
 * Each tests/fuzz/fuzz-NAME.c is linked either with libFuzzer
 * (--enable-fuzzing, clang) or with replay-main.c (make check, any compiler),
 * which runs it on every file of tests/fuzz/corpus/NAME/. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional: a target may define it; libFuzzer and the replay program call it once. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The corpus directory name of a target: tests/fuzz/corpus/<name>/. */
extern const char fuzz_corpus_name[];
#define FUZZ_CORPUS(name) const char fuzz_corpus_name[] = name

/* A broken invariant: abort so that libFuzzer (and make check) report it,
 * with the reason on stderr. */
#define FUZZ_ASSERT(expr)                                                                         \
        do {                                                                                      \
                if (!(expr)) {                                                                    \
                        fuzz_fail(__FILE__, __LINE__, #expr);                                     \
                }                                                                                 \
        } while (0)

__attribute__((noreturn)) static inline void fuzz_fail(const char *file, int line, const char *what) {
        fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
        abort();
}

/* A small deterministic generator for chunk sizes, seeded from the input. */
static inline uint32_t fuzz_next(uint32_t *state) {
        uint32_t x = *state ? *state : 0x9e3779b9u;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return *state = x;
}

/* Chunk size for feeding a parser: 1..max when max > 0, everything when 0. */
static inline size_t fuzz_chunk(uint32_t *state, size_t max, size_t left) {
        size_t n = max == 0 ? left : 1 + fuzz_next(state) % max;
        return n < left ? n : left;
}
