/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a terminal would show, as a picture: reads the bytes sent to a
 * terminal (UTF-8 text, CR, LF, FF, and the usual CSI sequences) and draws
 * the screen into a PNG, 8x16 pixels a character cell, as a VGA text
 * console does. It knows nothing of kairos' renderer: only terminals, and
 * four glyphs the way a console font draws them, in the foreground colour:
 *   U+2588 FULL BLOCK (the whole cell), U+2580 UPPER HALF BLOCK (the upper
 *   8 pixels), U+2584 LOWER HALF BLOCK (the lower 8), space (nothing).
 * Any other character is drawn as a blob of foreground pixels, as text
 * beside a code would look to a camera.
 *
 *   halfblock-to-png [--columns N] [--rows N] [--dark-on-light] [INPUT] OUTPUT
 *
 * The terminal is 80x24 by default, light grey on black (a Linux VT);
 * --dark-on-light makes it black on white, as many terminal windows are.
 * It wraps at the last column and scrolls at the last row, like a real one.
 * LF also returns the carriage (as a tty with ONLCR). SGR colours (30-37,
 * 40-47, 90-97, 100-107, 39, 49, 1, 7, 27, 0) are honoured as greys. */
#include <errno.h>
#include <png.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CELL_W 8
#define CELL_H 16
#define MARGIN 32
#define MAX_COLS 1000
#define MAX_ROWS 1000

struct cell {
        uint32_t ch;
        uint8_t fg, bg;
};

struct term {
        unsigned cols, rows, x, y;
        uint8_t def_fg, def_bg, fg, bg;
        bool bold, reverse;
        struct cell *cells;
};

static uint8_t grey(int c, bool bright) {
        /* Luminance of the 8 ANSI colours, normal and bright. */
        static const uint8_t normal[8] = { 0, 60, 110, 140, 30, 70, 120, 170 };
        static const uint8_t light[8] = { 85, 130, 180, 220, 90, 140, 190, 255 };
        return bright ? light[c & 7] : normal[c & 7];
}

static void clear(struct term *t, unsigned from, unsigned to) {
        for (unsigned i = from; i < to; i++)
                t->cells[i] = (struct cell) { ' ', t->fg, t->bg };
}

static void line_feed(struct term *t) {
        if (t->y + 1 < t->rows) {
                t->y++;
                return;
        }
        memmove(t->cells, t->cells + t->cols, sizeof *t->cells * t->cols * (t->rows - 1));
        clear(t, t->cols * (t->rows - 1), t->cols * t->rows);
}

static void put(struct term *t, uint32_t ch) {
        uint8_t fg = t->fg, bg = t->bg;

        if (t->x >= t->cols) {
                t->x = 0;
                line_feed(t);
        }
        if (t->reverse) {
                fg = t->bg;
                bg = t->fg;
        }
        t->cells[t->y * t->cols + t->x++] = (struct cell) { ch, fg, bg };
}

static void sgr(struct term *t, const int *p, int n) {
        if (n == 0) {
                p = (const int[]) { 0 };
                n = 1;
        }
        for (int i = 0; i < n; i++) {
                int v = p[i];
                if (v == 0) {
                        t->fg = t->def_fg;
                        t->bg = t->def_bg;
                        t->bold = t->reverse = false;
                } else if (v == 1)
                        t->bold = true;
                else if (v == 7)
                        t->reverse = true;
                else if (v == 27)
                        t->reverse = false;
                else if (v >= 30 && v <= 37)
                        t->fg = grey(v - 30, t->bold);
                else if (v >= 90 && v <= 97)
                        t->fg = grey(v - 90, true);
                else if (v == 39)
                        t->fg = t->def_fg;
                else if (v >= 40 && v <= 47)
                        t->bg = grey(v - 40, false);
                else if (v >= 100 && v <= 107)
                        t->bg = grey(v - 100, true);
                else if (v == 49)
                        t->bg = t->def_bg;
        }
}

static void csi(struct term *t, char final, const int *p, int n) {
        switch (final) {
        case 'H': case 'f':
                t->y = n >= 1 && p[0] > 0 ? (unsigned) p[0] - 1 : 0;
                t->x = n >= 2 && p[1] > 0 ? (unsigned) p[1] - 1 : 0;
                if (t->y >= t->rows)
                        t->y = t->rows - 1;
                if (t->x >= t->cols)
                        t->x = t->cols - 1;
                break;
        case 'J':
                if (n >= 1 && (p[0] == 2 || p[0] == 3))
                        clear(t, 0, t->cols * t->rows);
                else
                        clear(t, t->y * t->cols + t->x, t->cols * t->rows);
                break;
        case 'K':
                clear(t, t->y * t->cols + t->x, (t->y + 1) * t->cols);
                break;
        case 'm':
                sgr(t, p, n);
                break;
        default:
                break; /* cursor visibility and the like change no pixel */
        }
}

static void feed(struct term *t, const unsigned char *s, size_t len) {
        for (size_t i = 0; i < len;) {
                unsigned char c = s[i];
                if (c == 0x1b && i + 1 < len && s[i + 1] == '[') {
                        int p[16], n = 0, v = -1;
                        i += 2;
                        while (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == ';' || s[i] == '?')) {
                                if (s[i] == ';') {
                                        if (n < 16)
                                                p[n++] = v < 0 ? 0 : v;
                                        v = -1;
                                } else if (s[i] != '?')
                                        v = (v < 0 ? 0 : v * 10) + (s[i] - '0');
                                i++;
                        }
                        if (v >= 0 && n < 16)
                                p[n++] = v;
                        if (i < len && s[i] != 0x18 && s[i] != 0x1a)
                                csi(t, (char) s[i++], p, n);
                        continue;
                }
                if (c == 0x1b) {
                        if (i + 1 < len && s[i + 1] == 'c') {
                                t->fg = t->def_fg;
                                t->bg = t->def_bg;
                                clear(t, 0, t->cols * t->rows);
                                t->x = t->y = 0;
                        }
                        i += 2;
                        continue;
                }
                if (c == '\r') {
                        t->x = 0;
                        i++;
                } else if (c == '\n') {
                        t->x = 0;
                        line_feed(t);
                        i++;
                } else if (c == '\f') {
                        clear(t, 0, t->cols * t->rows);
                        t->x = t->y = 0;
                        i++;
                } else if (c == '\t') {
                        do
                                put(t, ' ');
                        while (t->x % 8 && t->x < t->cols);
                        i++;
                } else if (c < 0x20 || c == 0x7f)
                        i++; /* CAN, SUB, BEL ...: nothing to draw */
                else {
                        uint32_t ch = c;
                        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
                        if (c >= 0x80)
                                ch = c & (0x3f >> more);
                        i++;
                        for (int k = 0; k < more && i < len && (s[i] & 0xc0) == 0x80; k++)
                                ch = ch << 6 | (s[i++] & 0x3f);
                        put(t, ch);
                }
        }
}

/* A character that is not a block: a 5x7 blob from its code, as letters
 * look to a camera. */
static bool blob(uint32_t ch, unsigned px, unsigned py) {
        uint32_t h = ch * 2654435761u;
        if (px < 1 || px > 5 || py < 4 || py > 12)
                return false;
        return (h >> ((px * 7 + py) % 31)) & 1;
}

static uint8_t pixel(const struct cell *c, unsigned px, unsigned py) {
        bool lit;

        switch (c->ch) {
        case 0x2588: lit = true; break;
        case 0x2580: lit = py < CELL_H / 2; break;
        case 0x2584: lit = py >= CELL_H / 2; break;
        case ' ': lit = false; break;
        default: lit = blob(c->ch, px, py); break;
        }
        return lit ? c->fg : c->bg;
}

static int write_png(const struct term *t, const char *path) {
        png_image img = { .version = PNG_IMAGE_VERSION, .format = PNG_FORMAT_GRAY };
        unsigned w = t->cols * CELL_W + 2 * MARGIN, h = t->rows * CELL_H + 2 * MARGIN;
        uint8_t *px = malloc((size_t) w * h);
        int ok;

        if (!px)
                return -ENOMEM;
        memset(px, t->def_bg, (size_t) w * h);
        for (unsigned y = 0; y < t->rows * CELL_H; y++)
                for (unsigned x = 0; x < t->cols * CELL_W; x++)
                        px[(size_t) (y + MARGIN) * w + x + MARGIN] =
                                pixel(&t->cells[(y / CELL_H) * t->cols + x / CELL_W], x % CELL_W, y % CELL_H);
        img.width = w;
        img.height = h;
        ok = png_image_write_to_file(&img, path, 0, px, 0, NULL);
        free(px);
        return ok ? 0 : -EIO;
}

int main(int argc, char **argv) {
        struct term t = { .cols = 80, .rows = 24, .def_fg = 170, .def_bg = 0 };
        const char *in = NULL, *out = NULL;
        unsigned char *data = NULL;
        size_t len = 0, size = 0;
        FILE *f;
        int i;

        for (i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--columns") && i + 1 < argc)
                        t.cols = (unsigned) atoi(argv[++i]);
                else if (!strcmp(argv[i], "--rows") && i + 1 < argc)
                        t.rows = (unsigned) atoi(argv[++i]);
                else if (!strcmp(argv[i], "--dark-on-light")) {
                        t.def_fg = 0;
                        t.def_bg = 255;
                } else if (!in && i + 1 < argc)
                        in = argv[i];
                else if (!out)
                        out = argv[i];
                else
                        return 64;
        }
        if (!out || t.cols == 0 || t.rows == 0 || t.cols > MAX_COLS || t.rows > MAX_ROWS) {
                fprintf(stderr, "usage: halfblock-to-png [--columns N] [--rows N] [--dark-on-light] [INPUT] OUTPUT\n");
                return 64;
        }
        f = in ? fopen(in, "rb") : stdin;
        if (!f) {
                fprintf(stderr, "halfblock-to-png: %s: %m\n", in);
                return 1;
        }
        for (;;) {
                if (len == size) {
                        size = size ? size * 2 : 65536;
                        data = realloc(data, size);
                        if (!data)
                                return 70;
                }
                size_t n = fread(data + len, 1, size - len, f);
                if (n == 0)
                        break;
                len += n;
        }
        if (in)
                fclose(f);

        t.fg = t.def_fg;
        t.bg = t.def_bg;
        t.cells = calloc((size_t) t.cols * t.rows, sizeof *t.cells);
        if (!t.cells)
                return 70;
        clear(&t, 0, t.cols * t.rows);
        feed(&t, data, len);
        free(data);
        if (write_png(&t, out) < 0) {
                fprintf(stderr, "halfblock-to-png: cannot write %s\n", out);
                return 1;
        }
        free(t.cells);
        return 0;
}
