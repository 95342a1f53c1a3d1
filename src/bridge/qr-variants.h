/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The variants of a picture that the QR reader tries, one after another,
 * until one yields a token: the picture itself, then smaller (zbar does
 * better on a 4000-pixel phone photo shrunk to 1000-1600 pixels: noise and
 * moiré average out, its finder sees clean 1:1:3:1:1 runs), inverted (a
 * light-on-dark code), contrast stretched (a dim photo), blurred (a
 * screen's pixel grid, stripes). The order puts cheap and likely first;
 * a variant that would equal one already tried is skipped. */

#include <stddef.h>

#include "grey-image.h"

struct qr_variants;

/* Takes over *full (left empty). -ENOMEM. */
int qr_variants_new(struct grey_image *full, struct qr_variants **ret);
struct qr_variants *qr_variants_free(struct qr_variants *v);
void qr_variants_freep(struct qr_variants **v);

/* The next variant: 0 with *img (valid until the next call) and a few
 * words on what it is for the debug log; -ENOENT when all were tried;
 * -ENOMEM. */
int qr_variants_next(struct qr_variants *v, const struct grey_image **img, const char **what);
