/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small questions to the kernel about the machine's own addresses, for the
 * relay waiters to follow a network that changes under them. */

#include <stdbool.h>
#include <sys/socket.h>

/* The address the kernel would send from to reach `to` now, or -errno when
 * there is no route (the link is down, the network gone). Sends nothing. */
int netaddr_route_source(const struct sockaddr *to, socklen_t len, struct sockaddr_storage *ret);

/* Same host address (ports ignored); AF_INET and AF_INET6. */
bool netaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/* Whether the machine still has this address (it can be bound). true when
 * it cannot tell. */
bool netaddr_is_local(const struct sockaddr_storage *a);

/* Makes close(fd) send a reset even when the socket's address is gone: a
 * transparent socket (IP_TRANSPARENT, CAP_NET_ADMIN) may send from an
 * address the machine no longer has. Without the capability the reset
 * simply stays home. */
void netaddr_reset_on_close(int fd, int family);
