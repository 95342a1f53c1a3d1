/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proxy_url_redact() and proxy_url_ambiguous() on whatever https_proxy,
 * ALL_PROXY or --proxy may hold. Byte 0 picks the output size (1..256);
 * the rest, up to its first NUL, is the URL.
 *
 * The output is always terminated within its size; the password (after
 * the first ':' of the credentials, which end at the last '@' after the
 * scheme) never appears in it, unless the same text also stands in the
 * URL outside the password (in the user name or the host, which are shown:
 * showing them reveals nothing more), or it holds a '*' (which the "***"
 * in its place would match). */
#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "proxy-url.h"

FUZZ_CORPUS("proxy-url");

static bool occurs_outside(const char *url, size_t from, size_t to, const char *needle, size_t n) {
        for (const char *p = url; (p = memmem(p, strlen(p), needle, n)); p++)
                if ((size_t) (p - url) < from || (size_t) (p - url) >= to)
                        return true;
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char url[1024], out[257];
        size_t out_size, n, start, at;
        const char *scheme, *last_at, *colon;

        if (size < 1)
                return 0;
        out_size = 1 + data[0] % 256;
        n = strnlen((const char *) data + 1, MIN(size - 1, sizeof url - 1));
        memcpy(url, data + 1, n);
        url[n] = '\0';

        memset(out, 'X', sizeof out);
        proxy_url_redact(url, out, out_size);
        FUZZ_ASSERT(memchr(out, '\0', out_size));
        (void) proxy_url_ambiguous(url);

        scheme = strstr(url, "://");
        start = scheme ? (size_t) (scheme - url) + 3 : 0;
        last_at = strrchr(url + start, '@');
        if (!last_at)
                return 0;
        at = (size_t) (last_at - url);
        colon = memchr(url + start, ':', at - start);
        if (colon && at - (size_t) (colon - url) - 1 >= 4) {
                const char *password = colon + 1;
                size_t plen = at - (size_t) (colon - url) - 1;

                if (!memchr(password, '*', plen) && !occurs_outside(url, (size_t) (password - url), at, password, plen))
                        FUZZ_ASSERT(!memmem(out, strlen(out), password, plen));
        }
        return 0;
}
