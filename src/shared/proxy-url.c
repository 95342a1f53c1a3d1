/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "proxy-url.h"

/* RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), so that a "://"
 * inside a password ("user:pa://ss@host") is not taken for the scheme's. */
static bool is_scheme(const char *s, size_t n) {
        if (n == 0 || !isalpha((unsigned char) s[0]))
                return false;
        for (size_t k = 1; k < n; k++)
                if (!isalnum((unsigned char) s[k]) && !strchr("+-.", s[k]))
                        return false;
        return true;
}

/* Where the credentials start (after the scheme, if any) and where they
 * end (the last '@', NULL for none). The last '@' anywhere after the
 * scheme, not only before the first '/': a '/' in the password would
 * otherwise end the search early and show the rest. A proxy URL has no
 * path worth keeping whole. */
static const char *credentials(const char *url, const char **ret_at) {
        const char *scheme_end = strstr(url, "://");
        const char *rest = scheme_end && is_scheme(url, (size_t) (scheme_end - url)) ? scheme_end + 3 : url;

        *ret_at = strrchr(rest, '@');
        return rest;
}

bool proxy_url_ambiguous(const char *url) {
        const char *rest, *at;

        if (!url)
                return false;
        rest = credentials(url, &at);
        for (const char *c = rest; at && c < at; c++)
                if (strchr("@/?#", *c))
                        return true;
        return false;
}

void proxy_url_redact(const char *url, char *out, size_t size) {
        const char *rest, *at, *colon;

        if (size == 0)
                return;
        if (!url) {
                out[0] = '\0';
                return;
        }
        rest = credentials(url, &at);
        if (!at) {
                snprintf(out, size, "%s", url);
                return;
        }
        colon = memchr(rest, ':', (size_t) (at - rest));
        if (colon)
                snprintf(out, size, "%.*s***%s", (int) (colon + 1 - url), url, at);
        else
                snprintf(out, size, "%.*s***%s", (int) (rest - url), url, at);
}
