/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Name resolution for an sd-event loop. libsystemd does not export
 * sd-resolve (no public header), so getaddrinfo() runs in a thread of its
 * own and the answer comes back through a pipe the loop watches: the loop
 * never blocks on DNS, and nothing beyond libc is needed in the initramfs. */

#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

struct resolve_query;

/* error: 0, or an EAI_* code; addr is the first address found. */
typedef void (*resolve_callback_t)(int error, const struct sockaddr *addr, socklen_t len, void *userdata);

int resolve_start(sd_event *event, const char *host, uint16_t port, resolve_callback_t cb, void *userdata,
                  struct resolve_query **ret);
/* Cancels: the callback is not called; the thread finishes on its own. */
struct resolve_query *resolve_cancel(struct resolve_query *q);
