/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Tells when the machine's addresses or default routes may have changed
 * (DHCP arriving after the QR code is already on screen, a cable plugged
 * in, a new lease): the kernel's rtnetlink notifications, debounced, plus a
 * slow periodic check in case a notification was lost. */

#include <systemd/sd-event.h>

struct netwatch;

int netwatch_new(sd_event *event, void (*changed)(void *userdata), void *userdata, struct netwatch **ret);
struct netwatch *netwatch_free(struct netwatch *w);
