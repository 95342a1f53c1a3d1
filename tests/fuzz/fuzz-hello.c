/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hello_parse() on the responder's hello, which the bridge reads from the
 * tunnel (authenticated, but from a machine the bridge has not verified
 * yet). Whatever parses must format, and parse again to the same hello. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "hello.h"

FUZZ_CORPUS("hello");

static void check_hello(const struct kairos_hello *h) {
        FUZZ_ASSERT(h->version >= 1 && h->version <= 9);
        FUZZ_ASSERT(memchr(h->hostname, '\0', sizeof h->hostname));
        FUZZ_ASSERT(h->hostname[0] != '\0');
        FUZZ_ASSERT(h->n_keys <= HELLO_MAX_KEYS);
        for (size_t i = 0; i < h->n_keys; i++) {
                FUZZ_ASSERT(memchr(h->keys[i], '\0', sizeof h->keys[i]));
                FUZZ_ASSERT(strchr(h->keys[i], ' '));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct kairos_hello h, again;
        static char text[HELLO_MAX_SIZE + 1];
        const char *why = NULL;
        int n;

        /* The bytes as they come: not NUL-terminated, so over-reads show. */
        if (hello_parse((const char *) data, size, &h, &why) < 0) {
                FUZZ_ASSERT(why && *why);
                return 0;
        }
        check_hello(&h);

        /* Formatting drops only what parsing skipped: it always fits in
         * what was parsed, and parses back to the same hello. */
        n = hello_format(&h, text, sizeof text);
        FUZZ_ASSERT(n > 0 && (size_t) n <= size);
        FUZZ_ASSERT(hello_parse(text, (size_t) n, &again, &why) == 0);
        FUZZ_ASSERT(again.version == h.version);
        FUZZ_ASSERT(!strcmp(again.hostname, h.hostname));
        FUZZ_ASSERT(again.n_keys == h.n_keys);
        for (size_t i = 0; i < h.n_keys; i++)
                FUZZ_ASSERT(!strcmp(again.keys[i], h.keys[i]));

        /* A buffer one byte too small must be refused, not overrun. */
        {
                char *small = malloc((size_t) n);
                if (!small)
                        abort();
                FUZZ_ASSERT(hello_format(&h, small, (size_t) n) == -ENOBUFS);
                free(small);
        }
        return 0;
}
