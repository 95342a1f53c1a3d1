/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "macro.h"
#include "netwatch.h"

#define DEBOUNCE (200 * USEC_PER_MSEC)
#define PERIODIC (60 * USEC_PER_SEC)

struct netwatch {
        int fd;
        sd_event_source *io, *debounce, *periodic;
        void (*changed)(void *userdata);
        void *userdata;
};

static int on_debounce(sd_event_source *s, uint64_t usec, void *userdata) {
        struct netwatch *w = userdata;

        w->changed(w->userdata);
        return 0;
}

static int on_netlink(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct netwatch *w = userdata;
        char buf[8192];

        /* The content does not matter: whatever changed, the policy looks again. */
        while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
                ;
        sd_event_source_set_time_relative(w->debounce, DEBOUNCE);
        sd_event_source_set_enabled(w->debounce, SD_EVENT_ONESHOT);
        return 0;
}

static int on_periodic(sd_event_source *s, uint64_t usec, void *userdata) {
        struct netwatch *w = userdata;

        w->changed(w->userdata);
        sd_event_source_set_time_relative(s, PERIODIC);
        sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

int netwatch_new(sd_event *event, void (*changed)(void *userdata), void *userdata, struct netwatch **ret) {
        struct sockaddr_nl sa = {
                .nl_family = AF_NETLINK,
                .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
        };
        struct netwatch *w = calloc(1, sizeof *w);
        int r;

        if (!w)
                return -ENOMEM;
        w->changed = changed;
        w->userdata = userdata;
        w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (w->fd < 0 || bind(w->fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                r = negative_errno();
                netwatch_free(w);
                return r;
        }
        r = sd_event_add_io(event, &w->io, w->fd, EPOLLIN, on_netlink, w);
        if (r >= 0)
                r = sd_event_add_time_relative(event, &w->debounce, CLOCK_MONOTONIC, DEBOUNCE, 0, on_debounce, w);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->debounce, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time_relative(event, &w->periodic, CLOCK_MONOTONIC, PERIODIC, USEC_PER_SEC,
                                               on_periodic, w);
        if (r < 0) {
                netwatch_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

struct netwatch *netwatch_free(struct netwatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->io);
        sd_event_source_disable_unref(w->debounce);
        sd_event_source_disable_unref(w->periodic);
        if (w->fd >= 0)
                close(w->fd);
        free(w);
        return NULL;
}
