/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "reply.h"

int ask_reply(const struct ask_request *r, const char *passphrase, size_t len) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        char buf[1 + UNLOCK_PASSPHRASE_MAX];
        ssize_t k;
        int e;

        if (len > UNLOCK_PASSPHRASE_MAX)
                return -E2BIG;
        if (strlen(r->socket) >= sizeof sa.sun_path)
                return -EINVAL;
        memcpy(sa.sun_path, r->socket, strlen(r->socket));
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        buf[0] = '+';
        memcpy(buf + 1, passphrase, len);
        k = sendto(fd, buf, 1 + len, MSG_NOSIGNAL, (struct sockaddr *) &sa, sizeof sa);
        e = errno;
        sodium_memzero(buf, sizeof buf);
        if (k < 0)
                return -e;
        return (size_t) k == 1 + len ? 0 : -EIO;
}
