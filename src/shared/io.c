/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "macro.h"

usec_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

usec_t deadline_after(usec_t timeout) {
        return timeout == USEC_INFINITY ? USEC_INFINITY : now_usec() + timeout;
}

int poll_timeout(usec_t deadline) {
        usec_t n;

        if (deadline == USEC_INFINITY)
                return -1;
        n = now_usec();
        if (n >= deadline)
                return 0;
        return (int) MIN((deadline - n + 999) / 1000, (usec_t) 1 << 30);
}

int fd_set_nonblock(int fd, int nonblock) {
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0)
                return negative_errno();
        flags = nonblock ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        if (fcntl(fd, F_SETFL, flags) < 0)
                return negative_errno();
        return 0;
}

int fd_wait(int fd, short events, usec_t deadline) {
        for (;;) {
                struct pollfd p = { .fd = fd, .events = events };
                int t = poll_timeout(deadline), r;

                r = poll(&p, 1, t);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (r == 0)
                        return -ETIMEDOUT;
                return p.revents;
        }
}

int read_full(int fd, void *buf, size_t n, usec_t deadline) {
        uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = read(fd, p, n);
                if (k > 0) {
                        p += k;
                        n -= (size_t) k;
                        continue;
                }
                if (k == 0)
                        return -ECONNRESET;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return negative_errno();
                int r = fd_wait(fd, POLLIN, deadline);
                if (r < 0)
                        return r;
        }
        return 0;
}

int write_full(int fd, const void *buf, size_t n, usec_t deadline) {
        const uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = write_some(fd, p, n);
                if (k >= 0) {
                        p += k;
                        n -= (size_t) k;
                        continue;
                }
                if (k != -EAGAIN)
                        return (int) k;
                int r = fd_wait(fd, POLLOUT, deadline);
                if (r < 0)
                        return r;
        }
        return 0;
}

int socket_set_keepalive(int fd, unsigned idle_sec, unsigned interval_sec, unsigned count) {
        int one = 1, idle = (int) idle_sec, intvl = (int) interval_sec, cnt = (int) count;
        unsigned user_timeout = (idle_sec + interval_sec * count) * 1000;

        if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) < 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) < 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl) < 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) < 0 ||
            /* Unacknowledged data (a waiter's handshake line) must not hang either. */
            setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout) < 0)
                return negative_errno();
        return 0;
}

ssize_t write_some(int fd, const void *buf, size_t n) {
        for (;;) {
                ssize_t k = send(fd, buf, n, MSG_NOSIGNAL);
                if (k < 0 && errno == ENOTSOCK)
                        k = write(fd, buf, n);
                if (k >= 0)
                        return k;
                if (errno != EINTR)
                        return negative_errno();
        }
}

ssize_t writev_some(int fd, bool socket, const struct iovec *iov, size_t n_iov) {
        struct msghdr m = { .msg_iov = (struct iovec *) iov, .msg_iovlen = n_iov };

        for (;;) {
                ssize_t k = socket ? sendmsg(fd, &m, MSG_NOSIGNAL) : writev(fd, iov, (int) n_iov);
                if (k >= 0)
                        return k;
                if (errno != EINTR)
                        return negative_errno();
        }
}

int fd_is_socket(int fd) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        return S_ISSOCK(st.st_mode);
}
