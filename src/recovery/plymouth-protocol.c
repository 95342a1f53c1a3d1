/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "plymouth-protocol.h"

int plymouth_connect(const char *name) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n;
        int fd, r;

        if (!name)
                name = PLYMOUTH_SOCKET_NAME;
        n = strlen(name);
        if (n == 0 || n + 1 > sizeof sa.sun_path)
                return -EINVAL;
        /* Abstract: a NUL first, and the length ends with the name. */
        memcpy(sa.sun_path + 1, name, n);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        /* A unix stream connect never waits for the peer's accept (it
         * queues in the backlog, or fails with EAGAIN when that is full):
         * it is done or failed when this returns. */
        if (connect(fd, (struct sockaddr *) &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0) {
                r = negative_errno();
                close(fd);
                return r;
        }
        return fd;
}

ssize_t plymouth_request(uint8_t *buf, char command, const char *argument) {
        size_t n;

        /* plymouthd takes the second byte as "\002: an argument follows". */
        if (command == '\0' || command == '\002')
                return -EINVAL;
        buf[0] = (uint8_t) command;
        if (!argument) {
                buf[1] = '\0';
                return 2;
        }
        n = strlen(argument);
        if (n > PLYMOUTH_ARGUMENT_MAX)
                return -EINVAL;
        buf[1] = '\002';
        buf[2] = (uint8_t) (n + 1);
        memcpy(buf + 3, argument, n);
        buf[3 + n] = '\0';
        return (ssize_t) (n + 4);
}

int plymouth_reply(uint8_t byte) {
        return byte == PLYMOUTH_ACK ? 1 : byte == PLYMOUTH_NAK ? 0 : -EBADMSG;
}
