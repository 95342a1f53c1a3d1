/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "listeners.h"
#include "log.h"
#include "macro.h"

static uint16_t port_of(int fd) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;

        if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
                return 0;
        if (ss.ss_family == AF_INET)
                return ntohs(((struct sockaddr_in *) &ss)->sin_port);
        if (ss.ss_family == AF_INET6)
                return ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
        return 0;
}

/* [::]:port with IPv4 mapped in, so one socket serves both families. */
static int bind_any(uint16_t port) {
        struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any };
        int fd, one = 1, zero = 0;

        fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                /* No IPv6 in this kernel: IPv4 only. */
                struct sockaddr_in sa4 = { .sin_family = AF_INET, .sin_port = htons(port) };
                fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (fd < 0)
                        return negative_errno();
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                if (bind(fd, (struct sockaddr *) &sa4, sizeof sa4) < 0 || listen(fd, SOMAXCONN) < 0) {
                        int r = negative_errno();
                        close(fd);
                        return r;
                }
                return fd;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, SOMAXCONN) < 0) {
                int r = negative_errno();
                close(fd);
                return r;
        }
        return fd;
}

int listeners_open(struct listeners *l, uint16_t bind_tunnel, uint16_t bind_ssh) {
        char **names = NULL;
        int n;

        *l = (struct listeners) { .tunnel_fd = -1, .ssh_fd = -1 };
        n = sd_listen_fds_with_names(true, &names);
        if (n < 0)
                log_warning_errno(n, "Cannot take the sockets systemd passed: %m");
        for (int i = 0; i < MAX(n, 0); i++) {
                int fd = SD_LISTEN_FDS_START + i;
                const char *name = names && names[i] ? names[i] : "";

                if (!strcmp(name, "tunnel") && l->tunnel_fd < 0)
                        l->tunnel_fd = fd;
                else if (!strcmp(name, "ssh") && l->ssh_fd < 0)
                        l->ssh_fd = fd;
                else {
                        log_warning("Ignoring socket \"%s\" from systemd: expected \"tunnel\" or \"ssh\".", name);
                        close(fd);
                        continue;
                }
                l->from_systemd = true;
        }
        for (int i = 0; names && i < n; i++)
                free(names[i]);
        free(names);

        if (!l->from_systemd) {
                if (bind_tunnel) {
                        l->tunnel_fd = bind_any(bind_tunnel);
                        if (l->tunnel_fd < 0)
                                log_warning_errno(l->tunnel_fd, "Cannot listen on tunnel port %u: %m (the relay path still works)",
                                                  bind_tunnel);
                }
                if (bind_ssh) {
                        l->ssh_fd = bind_any(bind_ssh);
                        if (l->ssh_fd < 0)
                                log_warning_errno(l->ssh_fd, "Cannot listen on SSH port %u: %m", bind_ssh);
                }
        }
        if (l->tunnel_fd >= 0)
                l->tunnel_port = port_of(l->tunnel_fd);
        return 0;
}

void listeners_close(struct listeners *l) {
        if (l->tunnel_fd >= 0)
                close(l->tunnel_fd);
        if (l->ssh_fd >= 0)
                close(l->ssh_fd);
        l->tunnel_fd = l->ssh_fd = -1;
}
