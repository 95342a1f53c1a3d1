/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which of the machine's addresses go into the token, so a bridge on the
 * same network can take the direct path:
 *  - only addresses a peer can reach: not loopback, link-local, multicast,
 *    unspecified (token_address_usable()); global and private both count;
 *  - those of the interface that holds the default route first (IPv4 and
 *    IPv6 separately), then the others in interface order;
 *  - at most two IPv4 and one IPv6 (the token's room: QR version 4-M). */

#include <stdbool.h>
#include <stddef.h>

#include "token.h"

struct address_candidate {
        struct kairos_address address;
        unsigned ifindex;
        bool default_route; /* the interface holds the default route of this family */
};

/* Pure policy: fills t's addresses from the candidates (in their order). */
void address_policy_pick(const struct address_candidate *c, size_t n, struct kairos_token *t);

/* The machine's candidates now, from getifaddrs() and the kernel's routing
 * tables in /proc/net; returns how many (at most max), or -errno. */
int address_policy_candidates(struct address_candidate *c, size_t max);
