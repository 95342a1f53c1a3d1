/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the manager shows, and where: the consoles (display.h), plymouth
 * (plymouth.h) and qr.png in the runtime directory. The manager says what
 * changed; this file turns its state into a display_info. */

struct manager;

/* QR code on the consoles and through plymouth, qr.png written. */
int screen_start(struct manager *m);
/* Sessions or relays changed: the text beside the code is redrawn. */
void screen_update(struct manager *m);
/* New token text (addresses, or a rotation): new code, new qr.png. */
void screen_token_changed(struct manager *m);
/* Consoles or plymouth settings changed on reload. */
void screen_config_changed(struct manager *m);
void screen_stop(struct manager *m);
