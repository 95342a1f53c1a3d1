/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one thing kairos needs from EXIF: the orientation a camera recorded
 * (TIFF tag 274 in IFD 0), so that a phone photo taken sideways or through a
 * mirror is read as shown. A few bounds-checked lines rather than a library:
 * the bytes come from outside, and nothing else of EXIF matters here.
 *
 * Both return the orientation, 1 to 8 (1: as stored; see grey_image_orient()),
 * or a negative errno:
 *   -ENODATA   well-formed, but there is no orientation tag
 *   -EBADMSG   not EXIF/TIFF, cut short, an offset or count out of bounds,
 *              or an orientation outside 1..8
 * A caller treats any error as orientation 1: EXIF is a hint, not the picture. */

#include <stddef.h>
#include <stdint.h>

#define EXIF_TAG_ORIENTATION 0x0112

/* A TIFF structure: "II*\0" or "MM\0*", an offset to IFD 0, the IFD
 * (what a PNG eXIf chunk holds). */
int exif_orientation_from_tiff(const uint8_t *data, size_t size);

/* The body of a JPEG APP1 segment: "Exif\0\0" and then a TIFF structure. */
int exif_orientation_from_app1(const uint8_t *data, size_t size);
