/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "address-policy.h"
#include "macro.h"

void address_policy_pick(const struct address_candidate *c, size_t n, struct kairos_token *t) {
        t->n_addresses = 0;
        /* Two passes: the default-route interface's addresses, then the rest. */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < n; i++)
                        if (c[i].default_route == (pass == 0))
                                (void) token_add_address(t, &c[i].address); /* full or unusable: skipped */
}

/* Interfaces with a default route, from /proc/net/route (IPv4) and
 * /proc/net/ipv6_route (IPv6): no netlink code for one question. */
static bool has_default_route(const char *ifname, int family) {
        _cleanup_fclose_ FILE *f = fopen(family == AF_INET ? "/proc/net/route" : "/proc/net/ipv6_route", "re");
        char line[512];

        if (!f)
                return false;
        while (fgets(line, sizeof line, f)) {
                char dev[IF_NAMESIZE + 1], dest[64];
                unsigned prefix;

                if (family == AF_INET) {
                        unsigned mask;
                        if (sscanf(line, "%16s %63s %*s %*s %*s %*s %*s %x", dev, dest, &mask) == 3 &&
                            !strcmp(dest, "00000000") && mask == 0 && !strcmp(dev, ifname))
                                return true;
                } else if (sscanf(line, "%63s %x %*s %*s %*s %*s %*s %*s %*s %16s", dest, &prefix, dev) == 3 &&
                           prefix == 0 && !strcmp(dest, "00000000000000000000000000000000") && !strcmp(dev, ifname))
                        return true;
        }
        return false;
}

int address_policy_candidates(struct address_candidate *c, size_t max) {
        struct ifaddrs *ifa = NULL;
        size_t n = 0;

        if (getifaddrs(&ifa) < 0)
                return negative_errno();
        for (struct ifaddrs *i = ifa; i && n < max; i = i->ifa_next) {
                struct address_candidate *a = &c[n];

                if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
                        continue;
                *a = (struct address_candidate) { .ifindex = if_nametoindex(i->ifa_name) };
                if (i->ifa_addr->sa_family == AF_INET) {
                        a->address.family = AF_INET;
                        memcpy(a->address.bytes, (const uint8_t *) i->ifa_addr + offsetof(struct sockaddr_in, sin_addr), 4);
                } else if (i->ifa_addr->sa_family == AF_INET6) {
                        a->address.family = AF_INET6;
                        memcpy(a->address.bytes, (const uint8_t *) i->ifa_addr + offsetof(struct sockaddr_in6, sin6_addr), 16);
                } else
                        continue;
                if (!token_address_usable(&a->address))
                        continue;
                a->default_route = has_default_route(i->ifa_name, a->address.family);
                n++;
        }
        freeifaddrs(ifa);
        return (int) n;
}
