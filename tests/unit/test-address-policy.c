/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The address policy: which of a machine's addresses go into the token. */
#include <arpa/inet.h>
#include <sodium.h>

#include "address-policy.h"
#include "macro.h"
#include "tap.h"

static struct address_candidate cand(const char *text, unsigned ifindex, bool def) {
        struct address_candidate c = { .ifindex = ifindex, .default_route = def };

        c.address.family = strchr(text, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(c.address.family, text, c.address.bytes) != 1)
                abort();
        return c;
}

static const char *addr(const struct kairos_token *t, size_t i) {
        static char buf[4][64];

        if (i >= t->n_addresses)
                return "(none)";
        address_to_string(&t->addresses[i], buf[i], sizeof buf[i]);
        return buf[i];
}

int main(void) {
        struct kairos_token t = {};
        struct address_candidate all[64];
        int n;

        if (sodium_init() < 0)
                return 99;

        {
                /* docker0 first in interface order, eth0 holds the default route */
                struct address_candidate c[] = {
                        cand("172.17.0.1", 3, false),
                        cand("fe80::1", 2, true),
                        cand("2001:db8::7", 2, true),
                        cand("192.168.1.20", 2, true),
                        cand("10.8.0.2", 4, false),
                        cand("fd00::2", 4, false),
                };
                address_policy_pick(c, ELEMENTSOF(c), &t);
                tap_ok(t.n_addresses == 3, "two IPv4 and one IPv6 are picked (got %zu addresses)", t.n_addresses);
                tap_str_eq(addr(&t, 0), "192.168.1.20", "the default-route interface's IPv4 address comes first");
                tap_str_eq(addr(&t, 1), "172.17.0.1", "then the next usable IPv4 address in interface order");
                tap_str_eq(addr(&t, 2), "2001:db8::7", "the default-route IPv6 address wins over the ULA, link-local is skipped");
        }
        {
                struct address_candidate c[] = {
                        cand("127.0.0.1", 1, false),
                        cand("169.254.3.4", 2, false),
                        cand("::1", 1, false),
                        cand("fe80::2", 2, true),
                };
                address_policy_pick(c, ELEMENTSOF(c), &t);
                tap_ok(t.n_addresses == 0, "loopback and link-local addresses never go into a token (got %zu)", t.n_addresses);
        }
        {
                struct address_candidate c[] = {
                        cand("10.0.0.1", 5, false),
                        cand("10.0.0.2", 5, false),
                        cand("10.0.0.3", 6, true),
                };
                address_policy_pick(c, ELEMENTSOF(c), &t);
                tap_str_eq(addr(&t, 0), "10.0.0.3", "with no IPv6, the default-route IPv4 still comes first");
                tap_str_eq(addr(&t, 1), "10.0.0.1", "and the rest fill the second IPv4 place");
                tap_ok(t.n_addresses == 2, "never more than two IPv4 addresses (got %zu)", t.n_addresses);
        }

        n = address_policy_candidates(all, ELEMENTSOF(all));
        tap_ok(n >= 0, "this machine's addresses can be listed (got %d)", n);
        for (int i = 0; i < n; i++)
                tap_ok(token_address_usable(&all[i].address), "candidate %d is usable in a token", i);
        return tap_done();
}
