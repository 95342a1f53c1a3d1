/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "netaddr.h"

int netaddr_route_source(const struct sockaddr *to, socklen_t len, struct sockaddr_storage *ret) {
        socklen_t rlen = sizeof *ret;
        int fd, e = 0;

        fd = socket(to->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        /* A UDP connect only looks the route up. */
        if (connect(fd, to, len) < 0 || getsockname(fd, (struct sockaddr *) ret, &rlen) < 0)
                e = negative_errno();
        close(fd);
        return e;
}

bool netaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
        if (a->ss_family != b->ss_family)
                return false;
        if (a->ss_family == AF_INET)
                return ((const struct sockaddr_in *) a)->sin_addr.s_addr == ((const struct sockaddr_in *) b)->sin_addr.s_addr;
        if (a->ss_family == AF_INET6)
                return !memcmp(&((const struct sockaddr_in6 *) a)->sin6_addr, &((const struct sockaddr_in6 *) b)->sin6_addr,
                               sizeof(struct in6_addr));
        return true;
}

bool netaddr_is_local(const struct sockaddr_storage *a) {
        struct sockaddr_storage b = *a;
        socklen_t len;
        int fd, r;

        if (b.ss_family == AF_INET6) {
                ((struct sockaddr_in6 *) &b)->sin6_port = 0;
                len = sizeof(struct sockaddr_in6);
        } else if (b.ss_family == AF_INET) {
                ((struct sockaddr_in *) &b)->sin_port = 0;
                len = sizeof(struct sockaddr_in);
        } else
                return true;
        fd = socket(b.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return true;
        r = bind(fd, (struct sockaddr *) &b, len) < 0 ? -errno : 0;
        close(fd);
        return r != -EADDRNOTAVAIL;
}

void netaddr_reset_on_close(int fd, int family) {
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
        int one = 1;

        if (family == AF_INET6)
                (void) setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof one);
        else
                (void) setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one);
        (void) setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}
