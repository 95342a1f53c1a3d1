/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "tunnel.h"

/* The two directions of a pump, each with one buffer so that a slow reader
 * on one side never stops the other direction (no deadlock when both ways
 * are full), and no more is read than can be passed on (back-pressure). */
/* Plaintext taken in one read(2), sealed into several records that leave
 * in one write(2): fewer system calls here and at the relay. */
#define UP_RECORDS 4

struct pump {
        struct tunnel *t;
        int in_fd, out_fd;
        /* plain -> tunnel */
        uint8_t plain[UP_RECORDS * RECORD_MAX_PAYLOAD];
        uint8_t up[UP_RECORDS * RECORD_MAX_WIRE];
        size_t up_len, up_off;
        bool in_eof, close_sent;
        /* tunnel -> plain: the payload of the last record, inside the reader */
        const uint8_t *down;
        size_t down_len, down_off;
        bool close_received;
};

static void end_output(int out_fd, int in_fd) {
        if (shutdown(out_fd, SHUT_WR) < 0 && errno == ENOTSOCK && out_fd != in_fd)
                close(out_fd);
}

static int fill_up(struct pump *p, struct tunnel_stats *stats) {
        ssize_t k = read(p->in_fd, p->plain, sizeof p->plain);
        size_t len = 0;
        int n;

        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : negative_errno();
        if (k == 0) {
                p->in_eof = true;
                n = record_seal(&p->t->send, RECORD_CLOSE, NULL, 0, p->up);
                if (n < 0)
                        return n;
                len = (size_t) n;
        }
        for (size_t at = 0; at < (size_t) k; at += RECORD_MAX_PAYLOAD) {
                n = record_seal(&p->t->send, RECORD_DATA, p->plain + at, MIN((size_t) k - at, RECORD_MAX_PAYLOAD),
                                p->up + len);
                if (n < 0)
                        return n;
                len += (size_t) n;
        }
        stats->bytes_out += (uint64_t) MAX(k, 0);
        p->up_len = len;
        p->up_off = 0;
        return 0;
}

static int flush(int fd, const uint8_t *buf, size_t len, size_t *off) {
        ssize_t k = write_some(fd, buf + *off, len - *off);

        if (k == -EAGAIN)
                return 0;
        if (k < 0)
                return (int) k;
        *off += (size_t) k;
        return 0;
}

/* Opens buffered records until one carries bytes for out_fd. */
static int next_down(struct pump *p, struct tunnel_stats *stats) {
        while (!p->close_received && p->down_off == p->down_len) {
                const uint8_t *payload;
                uint8_t type;
                size_t len;
                int r = record_reader_open(&p->t->reader, &p->t->recv, &type, &payload, &len);

                if (r <= 0)
                        return r;
                if (type == RECORD_CLOSE) {
                        p->close_received = true;
                        end_output(p->out_fd, p->in_fd);
                } else if (type == RECORD_DATA) {
                        p->down = payload;
                        p->down_len = len;
                        p->down_off = 0;
                        stats->bytes_in += len;
                } else
                        return -EPROTO;
        }
        return 0;
}

static int read_down(struct pump *p) {
        size_t room;
        uint8_t *at = record_reader_space(&p->t->reader, &room);
        ssize_t k = read(p->t->fd, at, room);

        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : negative_errno();
        if (k == 0) {
                int r = record_reader_eof(&p->t->reader);
                return r < 0 ? r : -ECONNRESET;
        }
        record_reader_advance(&p->t->reader, (size_t) k);
        return 0;
}

int tunnel_pump(struct tunnel *t, int in_fd, int out_fd, int stop_fd, struct tunnel_stats *stats) {
        struct tunnel_stats dummy = {};
        /* 130 KiB of buffers: on the heap, not on a thread's stack. */
        _cleanup_free_ struct pump *p = malloc(sizeof *p);
        int r = 0;

        if (!p)
                return -ENOMEM;
        p->t = t;
        p->in_fd = in_fd;
        p->out_fd = out_fd;
        p->up_len = p->up_off = p->down_len = p->down_off = 0;
        p->in_eof = p->close_sent = p->close_received = false;
        p->down = NULL;

        if (!stats)
                stats = &dummy;
        fd_set_nonblock(in_fd, 1);
        fd_set_nonblock(out_fd, 1);
        fd_set_nonblock(t->fd, 1);
        /* Records that came in with the hello are already in the reader. */
        r = next_down(p, stats);

        /* Work until every direction would block, then poll: on a busy
         * tunnel most rounds need no poll(2) at all. */
        while (r >= 0 && !(p->close_sent && p->close_received && p->down_off == p->down_len)) {
                struct pollfd pf[4];
                nfds_t n = 0;
                size_t before = p->up_off + p->up_len + p->down_off + p->down_len + p->t->reader.end +
                                p->t->reader.start + p->in_eof + p->close_received;

                if (p->up_off == p->up_len && !p->in_eof)
                        r = fill_up(p, stats);
                if (r >= 0 && p->up_off < p->up_len) {
                        r = flush(t->fd, p->up, p->up_len, &p->up_off);
                        if (r >= 0 && p->up_off == p->up_len && p->in_eof)
                                p->close_sent = true;
                }
                if (r >= 0 && !p->close_received && p->down_off == p->down_len) {
                        r = read_down(p);
                        if (r >= 0)
                                r = next_down(p, stats);
                }
                if (r >= 0 && p->down_off < p->down_len) {
                        r = flush(out_fd, p->down, p->down_len, &p->down_off);
                        if (r >= 0)
                                r = next_down(p, stats);
                }
                if (r < 0)
                        break;
                if (before != p->up_off + p->up_len + p->down_off + p->down_len + p->t->reader.end +
                              p->t->reader.start + p->in_eof + p->close_received)
                        continue; /* something moved: try again before sleeping */

                if (p->up_off == p->up_len && !p->in_eof)
                        pf[n++] = (struct pollfd) { .fd = in_fd, .events = POLLIN };
                if (p->up_off < p->up_len)
                        pf[n++] = (struct pollfd) { .fd = t->fd, .events = POLLOUT };
                if (!p->close_received && p->down_off == p->down_len)
                        pf[n++] = (struct pollfd) { .fd = t->fd, .events = POLLIN };
                if (p->down_off < p->down_len)
                        pf[n++] = (struct pollfd) { .fd = out_fd, .events = POLLOUT };
                if (stop_fd >= 0)
                        pf[n++] = (struct pollfd) { .fd = stop_fd, .events = POLLIN };
                if (n == 0)
                        continue;
                if (poll(pf, n, -1) < 0 && errno != EINTR) {
                        r = negative_errno();
                        break;
                }
                if (stop_fd >= 0 && pf[n - 1].revents) {
                        r = -ECANCELED;
                        break;
                }
        }
        sodium_memzero(p->plain, sizeof p->plain);
        return r;
}
