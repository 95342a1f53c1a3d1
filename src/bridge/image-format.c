/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
#include <string.h>

#include "image-format.h"
#include "image-load.h"
#include "macro.h"

/* How much of the start is looked at to tell text from binary. */
#define TEXT_SNIFF 512

static bool starts_with(const uint8_t *data, size_t size, const char *magic, size_t n) {
        return size >= n && memcmp(data, magic, n) == 0;
}

static bool looks_like_text(const uint8_t *data, size_t size) {
        size_t n = MIN(size, (size_t) TEXT_SNIFF);

        /* Printable ASCII, whitespace and well-formed UTF-8; no NUL, no other
         * control characters: what an editor or a terminal log writes. */
        for (size_t i = 0; i < n; i++) {
                uint8_t c = data[i];
                size_t more;

                if (c == '\t' || c == '\n' || c == '\r' || c == '\f')
                        continue;
                if (c < 0x20 || c == 0x7f)
                        return false;
                if (c < 0x80)
                        continue;
                if (c >= 0xc2 && c <= 0xdf)
                        more = 1;
                else if (c >= 0xe0 && c <= 0xef)
                        more = 2;
                else if (c >= 0xf0 && c <= 0xf4)
                        more = 3;
                else
                        return false; /* a stray continuation byte, or never in UTF-8 */
                /* A sequence cut by the end of what is looked at is fine. */
                for (; more > 0 && i + 1 < n; more--)
                        if ((data[++i] & 0xc0) != 0x80)
                                return false;
        }
        return n > 0;
}

/* ISO base media files ("....ftyp" + brand): HEIC, AVIF, or a video. */
static enum image_format detect_ftyp(const uint8_t *data, size_t size) {
        static const char *const heic[] = { "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1" };

        if (size < 12 || memcmp(data + 4, "ftyp", 4) != 0)
                return IMAGE_FORMAT_UNKNOWN;
        if (memcmp(data + 8, "avif", 4) == 0 || memcmp(data + 8, "avis", 4) == 0)
                return IMAGE_FORMAT_AVIF;
        for (size_t i = 0; i < ELEMENTSOF(heic); i++)
                if (memcmp(data + 8, heic[i], 4) == 0)
                        return IMAGE_FORMAT_HEIC;
        return IMAGE_FORMAT_UNKNOWN;
}

enum image_format image_format_detect(const uint8_t *data, size_t size) {
        enum image_format f;
        size_t skip = 0;

        if (!data || size == 0)
                return IMAGE_FORMAT_UNKNOWN;
        if (starts_with(data, size, PNG_MAGIC, 8))
                return IMAGE_FORMAT_PNG;
        /* SOI and the first marker's 0xff. */
        if (starts_with(data, size, "\xff\xd8\xff", 3))
                return IMAGE_FORMAT_JPEG;
        if (starts_with(data, size, "GIF87a", 6) || starts_with(data, size, "GIF89a", 6))
                return IMAGE_FORMAT_GIF;
        if (size >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
                return IMAGE_FORMAT_WEBP;
        if ((f = detect_ftyp(data, size)) != IMAGE_FORMAT_UNKNOWN)
                return f;
        if (starts_with(data, size, "BM", 2) && size >= 26)
                return IMAGE_FORMAT_BMP;
        if (starts_with(data, size, "II*\0", 4) || starts_with(data, size, "MM\0*", 4))
                return IMAGE_FORMAT_TIFF;
        if (starts_with(data, size, "%PDF-", 5))
                return IMAGE_FORMAT_PDF;

        if (!looks_like_text(data, size))
                return IMAGE_FORMAT_UNKNOWN;
        /* An SVG is text too, but a picture: say so. A UTF-8 BOM and leading
         * whitespace may come first. */
        if (starts_with(data, size, "\xef\xbb\xbf", 3))
                skip = 3;
        while (skip < size && (data[skip] == ' ' || data[skip] == '\t' || data[skip] == '\n' || data[skip] == '\r'))
                skip++;
        if (starts_with(data + skip, size - skip, "<svg", 4) ||
            (starts_with(data + skip, size - skip, "<?xml", 5) &&
             memmem(data, MIN(size, (size_t) 4096), "<svg", 4)))
                return IMAGE_FORMAT_SVG;
        return IMAGE_FORMAT_TEXT;
}

const char *image_format_name(enum image_format f) {
        static const char *const names[_IMAGE_FORMAT_MAX] = {
                [IMAGE_FORMAT_UNKNOWN] = "unknown",
                [IMAGE_FORMAT_TEXT] = "text",
                [IMAGE_FORMAT_PNG] = "PNG",
                [IMAGE_FORMAT_JPEG] = "JPEG",
                [IMAGE_FORMAT_GIF] = "GIF",
                [IMAGE_FORMAT_WEBP] = "WebP",
                [IMAGE_FORMAT_HEIC] = "HEIC",
                [IMAGE_FORMAT_AVIF] = "AVIF",
                [IMAGE_FORMAT_BMP] = "BMP",
                [IMAGE_FORMAT_TIFF] = "TIFF",
                [IMAGE_FORMAT_SVG] = "SVG",
                [IMAGE_FORMAT_PDF] = "PDF",
        };

        return (unsigned) f < _IMAGE_FORMAT_MAX ? names[f] : "unknown";
}
