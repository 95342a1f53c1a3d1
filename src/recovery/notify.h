/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Sending the code out of band: when recovery starts and after every
 * rotate, the current token, password, host key fingerprint, host name,
 * machine id and the reason for recovery are signed with the machine key
 * and sealed to each NotifyKey= (sealed.h), and the sealed codes are POSTed
 * to NotifyURL= by kairos-recovery-notify, a separate helper: the daemon
 * never links libcurl, so the initramfs of those who do not send carries
 * none of it. Failed attempts are retried with a backoff (2 s doubling to
 * 5 min) until one is delivered; the state is in STATUS= and the journal.
 * Nothing secret is ever in an argument, the environment or a log line:
 * the helper gets the sealed body on a pipe. */

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "conf.h"

struct notify;

/* What is sealed: the caller's current values, read at each attempt (so a
 * retry carries the addresses the token has by then). */
struct notify_source {
        const char *token_text;
        const char *password;
        const char *fingerprint;
        const char *hostname;
};

typedef void (*notify_changed_t)(void *userdata);

/* NULL in *ret (and 0) when the configuration sends nothing. */
int notify_new(sd_event *e, const struct recovery_config *c, const char *helper, const struct notify_source *src,
               notify_changed_t changed, void *userdata, struct notify **ret);
struct notify *notify_free(struct notify *n);

/* Seals and sends now (a new token: at start, after rotate), replacing an
 * attempt under way. */
void notify_send(struct notify *n);

/* The network changed (an address came): a code not delivered yet is sent
 * now instead of after the backoff, which may have grown to minutes while
 * there was no network. */
void notify_network_changed(struct notify *n);

/* One phrase for STATUS=: "code sent", "sending code (try 3, next in 8s)". */
const char *notify_status(const struct notify *n);

/* The body to POST: one sealed code a line (plain), or a push message
 * around them (ntfy); malloc'ed in *ret. 0 or -errno (with a log line). */
int notify_body(const struct recovery_config *c, const struct notify_source *src, const char *reason,
                char **ret, size_t *ret_size);

/* Why recovery started: $KAIROS_RECOVERY_REASON (set by the units that
 * start recovery by themselves), else that it was chosen at boot. */
const char *notify_reason(void);
