/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where the bridge gets the token from, exactly one of: a picture of the QR
 * code, a file, standard input, $KAIROS_TOKEN, or the command line (then
 * scrubbed from argv: a token in ps is a root password in ps). */

#include <stddef.h>

#include "token.h"

enum token_source {
        TOKEN_FROM_NONE,
        TOKEN_FROM_IMAGE,
        TOKEN_FROM_FILE,
        TOKEN_FROM_STDIN,
        TOKEN_FROM_ENV,
        TOKEN_FROM_ARGUMENT,
};

/* Reads and decodes the token. On error, prints one clear message and
 * returns the sysexits code to exit with (65 not a token, 66 no such file,
 * 74 cannot read, 77 a sealed code not for this operator key, forged, or
 * from a machine not known); 0 on success. A text holding a sealed code
 * (KAIROS-SEALED:...) is opened (sealed-input.h) and its token used.
 *
 * where: the picture's or the file's path, or, for TOKEN_FROM_ENV and
 * TOKEN_FROM_ARGUMENT, the token's text itself (the caller's copy: argv and
 * the environment are scrubbed). That text is wiped here, every byte up to
 * its NUL, as soon as it is decoded, on success and on error alike: the
 * decoded token is all the bridge needs, and a copy left in the heap for
 * the whole run would be a root password in any core or memory dump. */
int token_input_read(enum token_source source, char *where, struct kairos_token *t);

struct sealed_options;
/* How sealed codes (KAIROS-SEALED:..., sealed-input.h) given by any source
 * are opened; NULL or never set: the defaults. */
void token_input_set_sealed(const struct sealed_options *o);

/* Overwrites a command-line argument in place, so /proc/PID/cmdline no
 * longer shows it. */
void token_input_scrub(char *arg);
