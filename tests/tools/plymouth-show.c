/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plymouth.h on an sd-event loop, as the daemon uses it:
 *
 *   plymouth-show [--socket NAME] [--timeout-ms N] PASSWORD
 *
 * shows the message and hides the splash, while a 10 ms timer on the same
 * loop measures how long the loop was ever kept from running. Prints
 * "result=R max-gap-ms=G" and exits 0 if plymouth showed it (R 1), 2 if
 * there was no plymouth (R 0), 1 on failure. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "log.h"
#include "plymouth.h"

#define TICK (10 * USEC_PER_MSEC)

static int result = -EINPROGRESS;
static usec_t last_tick, max_gap;

static void on_done(struct plymouth *p, int r, void *userdata) {
        result = r;
        sd_event_exit(userdata, 0);
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        usec_t now = now_usec();

        max_gap = MAX(max_gap, now - last_tick);
        last_tick = now;
        (void) sd_event_source_set_time_relative(s, TICK);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static int on_guard(sd_event_source *s, uint64_t usec, void *userdata) {
        fprintf(stderr, "plymouth-show: plymouth.c did not finish within 60 s\n");
        return sd_event_exit(userdata, 3);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "timeout-ms", required_argument, NULL, 't' },
                { "verbose", no_argument, NULL, 'v' },
                {}
        };
        _cleanup_(sd_event_source_disable_unrefp) sd_event_source *tick = NULL, *guard = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_plymouth_ struct plymouth *p = NULL;
        const char *socket_name = NULL;
        usec_t timeout = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 's': socket_name = optarg; break;
                case 't': timeout = (usec_t) atoi(optarg) * USEC_PER_MSEC; break;
                case 'v': log_set_max_level(LOG_DEBUG); break;
                default: return 64;
                }
        if (optind + 1 != argc) {
                fprintf(stderr, "usage: plymouth-show [--socket NAME] [--timeout-ms N] PASSWORD\n");
                return 64;
        }

        if (sd_event_new(&e) < 0 || plymouth_new(e, on_done, e, &p) < 0)
                return 70;
        if (socket_name && plymouth_set_socket(p, socket_name) < 0)
                return 70;
        plymouth_set_timeout(p, timeout);
        last_tick = now_usec();
        /* Accuracy 1 µs: sd-event would otherwise coalesce the tick by up
         * to 250 ms, which would read as a loop held up. */
        if (sd_event_add_time_relative(e, &tick, CLOCK_MONOTONIC, TICK, 1, on_tick, NULL) < 0 ||
            sd_event_source_set_enabled(tick, SD_EVENT_ON) < 0 ||
            sd_event_add_time_relative(e, &guard, CLOCK_MONOTONIC, 60 * USEC_PER_SEC, 0, on_guard, e) < 0)
                return 70;
        if (plymouth_show(p, argv[optind]) < 0)
                return 70;
        r = sd_event_loop(e);
        /* The loop's last stretch counts too. */
        max_gap = MAX(max_gap, now_usec() - last_tick);
        printf("result=%d max-gap-ms=%llu\n", result, (unsigned long long) (max_gap / USEC_PER_MSEC));
        if (r != 0)
                return r < 0 ? 70 : r;
        return result == 1 ? 0 : result == 0 ? 2 : 1;
}
