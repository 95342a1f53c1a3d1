/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "exif.h"

#define TIFF_SHORT 3
#define TIFF_LONG 4
#define IFD_ENTRY_SIZE 12

static uint16_t get16(const uint8_t *p, bool big) {
        return big ? (uint16_t) (p[0] << 8 | p[1]) : (uint16_t) (p[1] << 8 | p[0]);
}

static uint32_t get32(const uint8_t *p, bool big) {
        return big ? (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3]
                   : (uint32_t) p[3] << 24 | (uint32_t) p[2] << 16 | (uint32_t) p[1] << 8 | p[0];
}

int exif_orientation_from_tiff(const uint8_t *data, size_t size) {
        uint32_t ifd;
        uint16_t n;
        bool big;

        if (!data || size < 8)
                return -EBADMSG;
        if (memcmp(data, "II*\0", 4) == 0)
                big = false;
        else if (memcmp(data, "MM\0*", 4) == 0)
                big = true;
        else
                return -EBADMSG;

        /* Every offset is checked against what is left, never added to a
         * pointer first: a hostile offset near 2^32 must not wrap. */
        ifd = get32(data + 4, big);
        if (ifd < 8 || ifd > size || size - ifd < 2)
                return -EBADMSG;
        n = get16(data + ifd, big);
        if ((size - ifd - 2) / IFD_ENTRY_SIZE < n)
                return -EBADMSG;

        for (uint16_t i = 0; i < n; i++) {
                const uint8_t *e = data + ifd + 2 + (size_t) i * IFD_ENTRY_SIZE;
                uint16_t tag = get16(e, big), type = get16(e + 2, big);
                uint32_t count = get32(e + 4, big), value;

                if (tag != EXIF_TAG_ORIENTATION)
                        continue;
                /* One value, which fits the entry's own 4 bytes: no offset to follow. */
                if (count != 1)
                        return -EBADMSG;
                if (type == TIFF_SHORT)
                        value = get16(e + 8, big);
                else if (type == TIFF_LONG)
                        value = get32(e + 8, big);
                else
                        return -EBADMSG;
                if (value < 1 || value > 8)
                        return -EBADMSG;
                return (int) value;
        }
        return -ENODATA;
}

int exif_orientation_from_app1(const uint8_t *data, size_t size) {
        static const char header[6] = "Exif\0";

        if (!data || size < sizeof header || memcmp(data, header, sizeof header) != 0)
                return -EBADMSG;
        return exif_orientation_from_tiff(data + sizeof header, size - sizeof header);
}
