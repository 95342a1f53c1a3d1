/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "ask-file.h"

/* The longest passphrase we read and send. */
#define UNLOCK_PASSPHRASE_MAX 1024

/* Answers r as systemd's agents do: one datagram "+PASSPHRASE" (no NUL) to
 * its Socket=. The asker checks that the sender is root (SCM_CREDENTIALS,
 * which the kernel adds). The copy made here is wiped. 0, or -errno:
 * -ENOENT or -ECONNREFUSED when nobody listens there any more (the request
 * was answered meanwhile). */
int ask_reply(const struct ask_request *r, const char *passphrase, size_t len);
