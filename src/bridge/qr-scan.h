/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Finding and decoding QR codes in a grey picture: the only file that uses
 * libzbar. One scanner serves every attempt on one picture. */

#include <stddef.h>

#include "grey-image.h"

typedef struct qr_scanner qr_scanner;

/* Called for each QR code found, with its data (not NUL-terminated; it may
 * hold NUL bytes). Return 0 to go on, anything else to stop the scan: that
 * value is then what qr_scanner_scan() returns. */
typedef int (*qr_found_fn)(const char *data, size_t size, void *userdata);

/* A scanner for QR codes only (no 1D symbologies: fewer false finds, less
 * work). -ENOMEM. */
int qr_scanner_new(qr_scanner **ret);
qr_scanner *qr_scanner_free(qr_scanner *s);
void qr_scanner_freep(qr_scanner **s);

/* Scans img once. Returns the number of QR codes found (≥ 0), or the first
 * non-zero value of found(), or -ENOMEM/-EIO. */
int qr_scanner_scan(qr_scanner *s, const struct grey_image *img, qr_found_fn found, void *userdata);
