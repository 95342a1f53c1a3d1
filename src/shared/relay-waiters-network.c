/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "log.h"
#include "macro.h"
#include "netaddr.h"
#include "relay-waiters-internal.h"

/* A waiter whose address went: the relay would keep it, and pair a bridge
 * with it, until its own TCP gives up. A reset tells the relay now: sent
 * from the vanished address (netaddr_reset_on_close), through the NAT that
 * still maps it. */
static void waiter_abort(struct waiter *wt) {
        if (wt->fd >= 0)
                netaddr_reset_on_close(wt->fd, wt->relay->addr.ss_family);
        rw_waiter_close(wt);
}

static void relay_network_changed(struct relay *r) {
        struct sockaddr_storage src, local;
        char a[INET6_ADDRSTRLEN] = "?";
        unsigned moved = 0;
        bool again = false;
        int e;

        if (r->addr_len == 0) {
                /* Not resolved (perhaps for want of a network): look again now. */
                for (unsigned s = 0; s < KAIROS_RELAY_SLOTS; s++)
                        if (r->slots[s].reopen)
                                sd_event_source_set_time_relative(r->slots[s].reopen, 0);
                return;
        }
        e = netaddr_route_source((const struct sockaddr *) &r->addr, r->addr_len, &src);
        if (e < 0) {
                /* No way to the relay: said now rather than when keepalive
                 * gives up. The waiters stay open: closed now, with no route
                 * for their FIN, the relay would keep them as ghosts; they
                 * are replaced or reset once a route is back. */
                if (!r->no_route) {
                        r->no_route = true;
                        rw_set_reachable(r, false, e, "no route to it (network down?)");
                        rw_changed(r->w); /* the status counts no waiting slot now */
                }
                return;
        }
        if (r->no_route) {
                r->no_route = false;
                again = true; /* whatever the waiters' address: register anew */
        }
        if (!r->reachable) {
                /* A way to the relay again: try now, not at the end of the backoff. */
                r->backoff = 0;
                for (unsigned s = 0; s < KAIROS_RELAY_SLOTS; s++)
                        if (r->slots[s].reopen)
                                sd_event_source_set_time_relative(r->slots[s].reopen, 0);
        }
        /* Waiters that leave from an address the route no longer uses (the
         * machine's address changed), or that outlived a time without a
         * route: replaced, the new one first, as every few minutes anyway.
         * One whose address went is of no use: reset. */
        for (unsigned s = 0; s < KAIROS_RELAY_SLOTS; s++) {
                struct slot *sl = &r->slots[s];
                socklen_t len = sizeof local;

                if (sl->cur.state != WAITER_WAITING || sl->next.state != WAITER_IDLE ||
                    getsockname(sl->cur.fd, (struct sockaddr *) &local, &len) < 0 ||
                    (!again && netaddr_same(&local, &src)))
                        continue;
                if (netaddr_is_local(&local))
                        rw_open_waiter(r, &sl->next);
                else {
                        waiter_abort(&sl->cur);
                        rw_schedule_open(r, s, 0);
                }
                moved++;
        }
        if (moved == 0)
                return;
        if (src.ss_family == AF_INET6)
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &src)->sin6_addr, a, sizeof a);
        else if (src.ss_family == AF_INET)
                inet_ntop(AF_INET, &((struct sockaddr_in *) &src)->sin_addr, a, sizeof a);
        log_info("Relay %s: the network changed; registering %u waiter%s again from %s.", r->name, moved,
                 moved == 1 ? "" : "s", a);
}

void relay_waiters_network_changed(struct relay_waiters *w) {
        for (size_t i = 0; i < w->n_relays; i++)
                relay_network_changed(&w->relays[i]);
}

