/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proxy-url.h: credentials hidden in every proxy URL we may show, odd ones
 * too; URLs without credentials unchanged. */
#include <string.h>

#include "proxy-url.h"
#include "tap.h"

static void check(const char *url, const char *want) {
        char out[256];

        proxy_url_redact(url, out, sizeof out);
        tap_str_eq(out, want, url);
}

int main(void) {
        check("http://user:secret@proxy.example:3128", "http://user:***@proxy.example:3128");
        check("http://user:secret@proxy.example:3128/", "http://user:***@proxy.example:3128/");
        check("HTTP://user:secret@proxy.example", "HTTP://user:***@proxy.example");
        check("socks5h://user:secret@127.0.0.1:1080", "socks5h://user:***@127.0.0.1:1080");
        /* No scheme (libcurl takes it as http). */
        check("user:secret@proxy.example:3128", "user:***@proxy.example:3128");
        /* '@' and '/' and "://" in the password, unescaped. */
        check("http://user:p@ss@proxy.example:3128", "http://user:***@proxy.example:3128");
        check("http://user:pa/ss@proxy.example:3128", "http://user:***@proxy.example:3128");
        check("user:pa://ss@proxy.example", "user:***@proxy.example");
        check("http://user:p%40ss@proxy.example", "http://user:***@proxy.example");
        /* IPv6 hosts, with and without credentials. */
        check("http://user:secret@[2001:db8::1]:3128", "http://user:***@[2001:db8::1]:3128");
        check("http://[2001:db8::1]:3128", "http://[2001:db8::1]:3128");
        check("[::1]:3128", "[::1]:3128");
        /* No credentials at all. */
        check("http://proxy.example:3128", "http://proxy.example:3128");
        check("proxy.example:3128", "proxy.example:3128");
        check("proxy.example", "proxy.example");
        check("", "");
        /* A user name alone (some proxies take a key there), an empty password. */
        check("http://apikey@proxy.example:3128", "http://***@proxy.example:3128");
        check("http://user:@proxy.example:3128", "http://user:***@proxy.example:3128");
        check("http://:secret@proxy.example:3128", "http://:***@proxy.example:3128");

        /* Truncation never shows more of the password than the whole would. */
        char small[12];
        proxy_url_redact("http://user:secret@proxy.example:3128", small, sizeof small);
        tap_ok(strlen(small) == sizeof small - 1 && !strstr(small, "secret") && !strstr(small, "sec"),
               "truncated to the buffer, still without the password (%s)", small);
        proxy_url_redact(NULL, small, sizeof small);
        tap_str_eq(small, "", "NULL gives an empty string");

        /* What libcurl would misread (and echo, and resolve). */
        static const char *const ambiguous[] = {
                "http://user:p@ss@proxy.example:3128", "http://user:pa/ss@proxy.example:3128",
                "http://user:pa?ss@proxy.example", "http://user:pa#ss@proxy.example", "us/er:secret@proxy.example",
        };
        static const char *const clear[] = {
                "http://user:p%40ss@proxy.example:3128", "http://user:secret@[2001:db8::1]:3128", "http://proxy.example:3128/",
                "http://user:se:cret@proxy.example", "proxy.example:3128", "",
        };
        for (size_t k = 0; k < sizeof ambiguous / sizeof *ambiguous; k++)
                tap_ok(proxy_url_ambiguous(ambiguous[k]), "ambiguous: %s", ambiguous[k]);
        for (size_t k = 0; k < sizeof clear / sizeof *clear; k++)
                tap_ok(!proxy_url_ambiguous(clear[k]), "not ambiguous: %s", clear[k]);
        tap_ok(!proxy_url_ambiguous(NULL), "not ambiguous: NULL");
        return tap_done();
}
