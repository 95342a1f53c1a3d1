/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* token-input.h: a token given as text (the command line, $KAIROS_TOKEN) is
 * decoded, and the caller's copy of the text is all zeros once
 * token_input_read() returns, whether it was a token or not; scrubbing
 * leaves an argument of the same length with nothing of the token. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "log.h"
#include "tap.h"
#include "token-input.h"

static bool all_zero(const char *buf, size_t n) {
        for (size_t k = 0; k < n; k++)
                if (buf[k])
                        return false;
        return true;
}

static void test_read(enum token_source source, const char *what) {
        struct kairos_token t, got;
        char text[KAIROS_TOKEN_TEXT_MAX];
        char *copy;
        size_t n;
        int r;

        token_new(&t);
        if (!tap_ok(token_encode(&t, text, sizeof text) >= 0, "%s: a fresh token encodes", what))
                return;
        n = strlen(text);
        copy = strdup(text);
        r = token_input_read(source, copy, &got);
        tap_ok(r == 0 && sodium_memcmp(got.secret, t.secret, sizeof t.secret) == 0, "%s: decoded, the same secret (%d)", what, r);
        tap_ok(all_zero(copy, n + 1), "%s: the text is wiped once it is decoded", what);
        free(copy);

        /* Not a token: an error, and wiped all the same. */
        text[n / 2] = text[n / 2] == 'A' ? 'B' : 'A';
        copy = strdup(text);
        r = token_input_read(source, copy, &got);
        tap_ok(r == EX_DATAERR, "%s: a mistyped token is refused (%d)", what, r);
        tap_ok(all_zero(copy, n + 1), "%s: the mistyped text is wiped too", what);
        free(copy);
        token_clear(&t);
        token_clear(&got);
        sodium_memzero(text, sizeof text);
}

static void test_scrub(void) {
        char arg[] = "KAIROS:ABCDEFGH";

        token_input_scrub(arg);
        tap_ok(strlen(arg) == 15 && strspn(arg, "x") == 15, "a scrubbed argument keeps its length and nothing else");
}

int main(void) {
        if (sodium_init() < 0)
                return 99;
        log_set_max_level(LOG_CRIT); /* the mistyped token's message */
        test_read(TOKEN_FROM_ARGUMENT, "argument");
        test_read(TOKEN_FROM_ENV, "$KAIROS_TOKEN");
        test_scrub();
        return tap_done();
}
