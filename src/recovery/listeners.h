/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon's listening sockets: from systemd (sd_listen_fds_with_names():
 * "tunnel" from kairos-recovery.socket, "ssh" from the opt-in
 * kairos-recovery-ssh.socket), or, run by hand without socket activation,
 * bound by the daemon itself on the configured ports. */

#include <stdbool.h>
#include <stdint.h>

struct listeners {
        int tunnel_fd, ssh_fd;    /* -1 when absent */
        bool from_systemd;
        uint16_t tunnel_port;     /* what the token announces */
};

/* bind_*: ports to bind when systemd passed nothing (0: do not bind). */
int listeners_open(struct listeners *l, uint16_t bind_tunnel, uint16_t bind_ssh);
void listeners_close(struct listeners *l);
