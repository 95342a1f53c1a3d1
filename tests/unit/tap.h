/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A few lines of TAP (run by automake's tap-driver.sh): each check prints
 * "ok N - what" or "not ok N - what", with the values that differ, so a
 * failure reads as a sentence. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused))
static int tap_ok(int cond, const char *fmt, ...) {
        va_list ap;

        printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        if (!cond)
                tap_failed++;
        fflush(stdout);
        return cond;
}

/* A check of a known, reported bug: "not ok N - what # TODO why" is an
 * expected failure (XFAIL) and does not fail the test. Once the bug is fixed
 * the driver reports XPASS, which does fail it: then make it a tap_ok(). */
__attribute__((format(printf, 3, 4), unused))
static int tap_todo(int cond, const char *why, const char *fmt, ...) {
        va_list ap;

        printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf(" # TODO %s\n", why);
        fflush(stdout);
        return cond;
}

__attribute__((unused))
static int tap_str_eq(const char *got, const char *want, const char *what) {
        int ok = got && want && strcmp(got, want) == 0;
        tap_ok(ok, "%s", what);
        if (!ok)
                printf("#   got:      %s\n#   expected: %s\n", got ? got : "(null)", want ? want : "(null)");
        return ok;
}

__attribute__((unused))
static int tap_done(void) {
        printf("1..%d\n", tap_n);
        return tap_failed ? 1 : 0;
}

#define tap_diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))
