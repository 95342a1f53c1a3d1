/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The recovery screen on the consoles.
 *
 * Layout (display_render(), a pure function): the QR code of the token in
 * half blocks at the left (qr.h: light modules are glyphs), the token as
 * text under it in groups of four (what a person types, or pastes from a
 * serial log), and to the right of the code: the title, the SSH password,
 * the host name, the addresses with the tunnel port, the SSH host key
 * fingerprint, the relay status, the sessions connected now, one line of
 * help, and on a VT the keys to the local shell (Alt+F2) when there is one. With the default token (QR version 4 or less) it fits 80x24: 37
 * columns of code, 2 of gap, 41 of text. Long values wrap under their
 * label (host name and relay status are cut with "..." instead). What does
 * not fit is taken away in a fixed order: the list of sessions shortens
 * ("and N more"), then the blank lines go, then the last lines are cut; the
 * token text under the code goes if the rows are too few; the code itself is
 * never cut.
 *
 * Two forms of the same picture:
 *  - VT (a kernel virtual terminal): home and clear the screen first, and
 *    pin the code's colours to light grey on black, so that it has the right
 *    polarity even on a terminal whose default is dark on light.
 *  - serial: what reads on a serial console and in its logs (a BMC's
 *    serial-over-LAN log, a cloud console log, `virsh console`): no escape
 *    sequence at all (the terminal type is unknown and a log keeps every
 *    byte), every line ended by CR LF (whatever the line's termios), a fresh
 *    line first, no line wider than the screen, and one row less than the
 *    screen so that the last newline does not scroll the title away. It
 *    assumes a light-on-dark terminal and UTF-8, as nearly all are; the token
 *    text under the code serves the others.
 *
 * The console writer (display_new() ...) sits on an sd-event loop and never
 * blocks it: each console is opened O_WRONLY|O_NOCTTY|O_NONBLOCK|O_CLOEXEC
 * and keeps at most one frame pending; a console that does not drain (a
 * serial line with flow control stuck, a terminal stopped with ^S) simply
 * gets the newest frame once it drains, and the stale ones are dropped.
 * Consoles are redrawn when what they show changes and now and then (kernel
 * messages scroll over the screen): every 30 s on a VT, every 5 minutes on a
 * serial line (a frame is 3 KB, and serial logs are kept).
 *
 * The password and the token go to the consoles only, never to the log;
 * display_free() and display_info_clear() wipe the copies. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "io.h"
#include "kdf.h"
#include "qr.h"
#include "token.h"

#define DISPLAY_HOSTNAME_MAX 256
#define DISPLAY_FINGERPRINT_MAX 128
#define DISPLAY_SESSIONS_MAX 16 /* "from" entries kept; n_sessions may be more */
#define DISPLAY_FROM_MAX 64
#define DISPLAY_RELAY_MAX 128
#define DISPLAY_DEFAULT_COLUMNS 80
#define DISPLAY_DEFAULT_ROWS 24

#define DISPLAY_TITLE "kairos remote recovery"
#define DISPLAY_HELP "Photograph the code; run kairos-bridge --qr-code-image PHOTO"

/* What the screen shows. Plain data, copied by display_update(); strings
 * are NUL-terminated and may hold anything: bytes that are not printable
 * ASCII are shown as '?', so no field can send an escape sequence to a
 * console. */
struct display_info {
        char token[KAIROS_TOKEN_TEXT_MAX]; /* text form ("KAIROS:..."): the code; "" for none yet */
        char password[KAIROS_PASSWORD_SIZE];
        char hostname[DISPLAY_HOSTNAME_MAX];
        uint16_t port; /* the tunnel port, shown with each address */
        size_t n_addresses;
        struct kairos_address addresses[KAIROS_TOKEN_MAX_ADDRESSES];
        char fingerprint[DISPLAY_FINGERPRINT_MAX]; /* "SHA256:..." of the SSH host key, or "" */
        unsigned n_sessions;                       /* connected now */
        char sessions[DISPLAY_SESSIONS_MAX][DISPLAY_FROM_MAX]; /* where from, the first ones */
        char relay[DISPLAY_RELAY_MAX];             /* relay status in a few words, or "" */
        /* The VT of the local root shell ("tty2", kairos-recovery-shell@.service),
         * or "": the VT form says which keys reach it. */
        char local_shell[16];
};

/* Fills token, password, port and addresses from t; the rest stays.
 * -EINVAL if t does not encode. */
int display_info_set_token(struct display_info *i, const struct kairos_token *t);
/* Wipes the token and the password. */
void display_info_clear(struct display_info *i);

enum display_form {
        DISPLAY_FORM_AUTO = -1, /* VT if the console is a kernel VT (KDGKBTYPE works), else serial */
        DISPLAY_FORM_VT = 0,
        DISPLAY_FORM_SERIAL = 1,
};

/* The frame for a console of columns x rows (0: 80 and 24), as a new
 * NUL-terminated string. qr: the code of i->token, or NULL to encode it
 * here. -EINVAL for DISPLAY_FORM_AUTO, -ENOMEM, or qr_encode()'s error. */
int display_render(const struct display_info *i, const struct qr_code *qr, enum display_form form,
                   unsigned columns, unsigned rows, char **ret);

/* A console name as the kernel lists it in /sys/class/tty/console/active
 * ("tty0", "ttyS0", "hvc0") or a path ("/dev/pts/3") into the device to open.
 * "tty0" is the foreground VT: the one named in SYSFS/class/tty/tty0/active
 * (sysfs NULL: /sys), or /dev/tty1 if that cannot be read. "console" and
 * names with "/" or ".." other than absolute /dev paths are refused (-EINVAL). */
int display_console_path(const char *name, const char *sysfs, char **ret);

struct display;

/* A writer on event for the given consoles (names or paths as above), or
 * with consoles NULL the kernel's active ones. A console that cannot be
 * opened now is logged and tried again at each redraw: none is fatal. */
int display_new(sd_event *event, const char *const *consoles, struct display **ret);
/* One more console, with its form (DISPLAY_FORM_AUTO to detect it). */
int display_add_console(struct display *d, const char *name, enum display_form form);
struct display *display_free(struct display *d);

/* Shows i on every console: a frame is queued where what the console
 * shows changes. Never blocks; returns 0, or -ENOMEM/qr errors (the
 * previous picture stays). */
int display_update(struct display *d, const struct display_info *i);
/* Draws every console again now (someone cleared the screen: plymouth). */
void display_redraw(struct display *d);
/* Periodic redraw intervals (0 keeps the current one). */
void display_set_redraw_interval(struct display *d, usec_t vt, usec_t serial);

/* For tests and STATUS=: consoles, and bytes still pending on console i. */
size_t display_consoles(const struct display *d);
size_t display_pending(const struct display *d, size_t i);

static inline void display_freep(struct display **d) {
        if (*d)
                display_free(*d);
}
#define _cleanup_display_ _cleanup_(display_freep)
