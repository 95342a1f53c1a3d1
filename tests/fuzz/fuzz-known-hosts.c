/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bridge's known_hosts rewrite: the file found on disk (the user's to
 * edit, any bytes) and the hello the recovery machine sent (its host keys).
 * Input: two bytes little-endian give the length of the old file (modulo
 * what is there), the old file follows, the rest is the hello, parsed by
 * hello_parse() as the bridge does; a hello that does not parse is replaced
 * by a fixed one with two keys.
 *
 * Oracle: the new file holds every line of the old one that is not the
 * alias's, byte for byte and in order (a last line without its newline gets
 * one), then exactly one "ALIAS KEY" line per key, and ends with a newline:
 * nothing of another host lost or glued to ours, no line of ours kept. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "hello.h"
#include "known-hosts.h"

FUZZ_CORPUS("known-hosts");

static const char alias[] = "kairos-fuzzfuzzfuzzfuzz";

static const char fallback[] = "kairos-hello 1\n"
                               "host fuzz\n"
                               "key ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzz\n"
                               "key ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFuzz\n";

/* The next line of [*p, end): its length with the newline; 0 at the end. */
static size_t next_line(const char *p, const char *end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        return nl ? (size_t) (nl - p) + 1 : (size_t) (end - p);
}

static bool is_ours(const char *line, size_t n) {
        size_t al = strlen(alias);
        return n > al && !memcmp(line, alias, al) && line[al] == ' ';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct kairos_hello hello;
        const char *why, *old, *o, *oend, *r, *rend;
        char *out = NULL;
        size_t old_len, out_len = 0;
        FILE *in = NULL, *f;

        if (size < 2)
                return 0;
        old_len = (size_t) (data[0] | data[1] << 8) % (size - 2 + 1);
        old = (const char *) data + 2;
        if (hello_parse(old + old_len, size - 2 - old_len, &hello, &why) < 0 &&
            hello_parse(fallback, sizeof fallback - 1, &hello, &why) < 0)
                abort();

        /* fmemopen() of zero bytes fails: an empty file is no file. */
        if (old_len > 0) {
                in = fmemopen((void *) old, old_len, "r");
                if (!in)
                        abort();
        }
        f = open_memstream(&out, &out_len);
        if (!f)
                abort();
        FUZZ_ASSERT(known_hosts_rewrite(in, f, alias, &hello) == 0);
        if (fclose(f) != 0)
                abort();
        if (in)
                fclose(in);

        /* The others' lines, in order, each as it was. */
        o = old, oend = old + old_len, r = out, rend = out + out_len;
        while (o < oend) {
                size_t n = next_line(o, oend);
                if (!is_ours(o, n)) {
                        bool complete = o[n - 1] == '\n';
                        FUZZ_ASSERT((size_t) (rend - r) >= n + !complete);
                        FUZZ_ASSERT(!memcmp(r, o, n));
                        FUZZ_ASSERT(complete || r[n] == '\n');
                        r += n + !complete;
                }
                o += n;
        }
        /* Then ours, exactly. */
        for (size_t i = 0; i < hello.n_keys; i++) {
                size_t n = next_line(r, rend);
                FUZZ_ASSERT(n == strlen(alias) + 1 + strlen(hello.keys[i]) + 1);
                FUZZ_ASSERT(is_ours(r, n));
                FUZZ_ASSERT(!memcmp(r + strlen(alias) + 1, hello.keys[i], n - strlen(alias) - 2));
                FUZZ_ASSERT(r[n - 1] == '\n');
                r += n;
        }
        FUZZ_ASSERT(r == rend);
        free(out);
        return 0;
}
