/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* At most `burst` events per `interval`, as systemd's ratelimit does: what
 * logs a line per connection must not let a flood push real events out of
 * the journal. The events held back are counted, to be said in one line. */

#include <stdbool.h>

#include "io.h"

struct ratelimit {
        usec_t interval, start;
        unsigned burst, n, suppressed;
};

#define RATELIMIT(i, b) ((struct ratelimit) { .interval = (i), .burst = (b) })

/* true: go ahead. On the first event of a new interval, *held (if not NULL)
 * gets how many were held back in the last one (then reset). */
static inline bool ratelimit_below(struct ratelimit *r, unsigned *held) {
        usec_t now = now_usec();

        if (held)
                *held = 0;
        if (r->start == 0 || now - r->start > r->interval) {
                if (held)
                        *held = r->suppressed;
                r->start = now;
                r->n = r->suppressed = 0;
        }
        if (r->n < r->burst) {
                r->n++;
                return true;
        }
        r->suppressed++;
        return false;
}
