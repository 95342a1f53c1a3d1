/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "macro.h"
#include "tunnel.h"

/* The two directions of a pump, each with one buffer so that a slow reader
 * on one side never stops the other direction (no deadlock when both ways
 * are full), and no more is read than can be passed on (back-pressure).
 *
 * Upwards, one readv(2) spreads the plaintext over several record slots,
 * where each record is sealed in place, and one writev(2) sends them: few
 * system calls here and at the relay, and no copy of the plaintext. */
#define UP_RECORDS 4

struct pump {
        struct tunnel *t;
        int in_fd, out_fd;
        /* plain -> tunnel: slot i holds one record at up[i * RECORD_MAX_WIRE] */
        uint8_t up[(UP_RECORDS + 1) * RECORD_MAX_WIRE];
        struct iovec iov[UP_RECORDS + 1];
        size_t n_iov, iov_at;
        size_t up_len, up_off; /* bytes to send in all, and sent */
        bool in_eof, close_sent;
        /* tunnel -> plain: the payload of the last record, inside the reader */
        const uint8_t *down;
        size_t down_len, down_off;
        bool close_received;
        /* Counts every step that moved bytes or reached an end: the loop
         * sleeps in poll(2) only after a round in which nothing moved. */
        uint64_t moved;
};

static void end_output(int out_fd, int in_fd) {
        if (shutdown(out_fd, SHUT_WR) < 0 && errno == ENOTSOCK && out_fd != in_fd)
                close(out_fd);
}

static int fill_up(struct pump *p, struct tunnel_stats *stats) {
        struct iovec in[UP_RECORDS];
        ssize_t k;
        int n;

        for (size_t i = 0; i < UP_RECORDS; i++)
                in[i] = (struct iovec) { p->up + i * RECORD_MAX_WIRE + RECORD_HEADER_SIZE + 1, RECORD_MAX_PAYLOAD };
        k = readv(p->in_fd, in, UP_RECORDS);
        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : negative_errno();
        p->moved++;

        p->n_iov = p->iov_at = p->up_len = p->up_off = 0;
        for (size_t i = 0; (size_t) k > i * RECORD_MAX_PAYLOAD; i++) {
                uint8_t *slot = p->up + i * RECORD_MAX_WIRE;
                n = record_seal(&p->t->send, RECORD_DATA, slot + RECORD_HEADER_SIZE + 1,
                                MIN((size_t) k - i * RECORD_MAX_PAYLOAD, RECORD_MAX_PAYLOAD), slot);
                if (n < 0)
                        return n;
                p->iov[p->n_iov++] = (struct iovec) { slot, (size_t) n };
                p->up_len += (size_t) n;
        }
        if (k == 0) {
                uint8_t *slot = p->up + UP_RECORDS * RECORD_MAX_WIRE;
                p->in_eof = true;
                n = record_seal(&p->t->send, RECORD_CLOSE, NULL, 0, slot);
                if (n < 0)
                        return n;
                p->iov[p->n_iov++] = (struct iovec) { slot, (size_t) n };
                p->up_len += (size_t) n;
        }
        stats->bytes_out += (uint64_t) k;
        return 0;
}

/* Sends what the slots hold, resuming after a partial writev(2). */
static int flush_up(struct pump *p) {
        ssize_t k = writev(p->t->fd, p->iov + p->iov_at, (int) (p->n_iov - p->iov_at));

        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : negative_errno();
        p->moved++;
        p->up_off += (size_t) k;
        while (k > 0) {
                struct iovec *v = &p->iov[p->iov_at];
                if ((size_t) k >= v->iov_len) {
                        k -= (ssize_t) v->iov_len;
                        p->iov_at++;
                } else {
                        v->iov_base = (uint8_t *) v->iov_base + k;
                        v->iov_len -= (size_t) k;
                        k = 0;
                }
        }
        return 0;
}

static int flush_down(struct pump *p) {
        ssize_t k = write_some(p->out_fd, p->down + p->down_off, p->down_len - p->down_off);

        if (k == -EAGAIN)
                return 0;
        if (k < 0)
                return (int) k;
        p->moved++;
        p->down_off += (size_t) k;
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
                p->moved++;
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
        p->moved++;
        if (k == 0) {
                int r = record_reader_eof(&p->t->reader);
                return r < 0 ? r : -ECONNRESET;
        }
        record_reader_advance(&p->t->reader, (size_t) k);
        /* The transit relay does not set TCP_NODELAY: the tail of what it
         * passes on waits in its socket until we acknowledge the rest, and
         * our kernel delays that ACK when we have nothing to send (an sftp
         * client waiting for replies to its requests). Acknowledging at
         * once took sftp through the relay from 45 to 90 MiB/s. Linux
         * leaves quick-ACK mode on its own, hence after every read. */
        if (p->t->quickack)
                (void) setsockopt(p->t->fd, IPPROTO_TCP, TCP_QUICKACK, &(int) { 1 }, sizeof(int));
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
        p->up_len = p->up_off = p->down_len = p->down_off = p->n_iov = p->iov_at = 0;
        p->in_eof = p->close_sent = p->close_received = false;
        p->moved = 0;
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
                uint64_t before = p->moved;

                if (p->up_off == p->up_len && !p->in_eof)
                        r = fill_up(p, stats);
                if (r >= 0 && p->up_off < p->up_len) {
                        r = flush_up(p);
                        if (r >= 0 && p->up_off == p->up_len && p->in_eof)
                                p->close_sent = true;
                        /* The peer ended its direction and left: what we still
                         * had to say has nobody to hear it. A clean end. */
                        if ((r == -EPIPE || r == -ECONNRESET) && p->close_received && p->down_off == p->down_len) {
                                r = 0;
                                break;
                        }
                }
                if (r >= 0 && !p->close_received && p->down_off == p->down_len) {
                        r = read_down(p);
                        if (r >= 0)
                                r = next_down(p, stats);
                }
                if (r >= 0 && p->down_off < p->down_len) {
                        r = flush_down(p);
                        if (r >= 0)
                                r = next_down(p, stats);
                }
                if (r < 0)
                        break;
                if (before != p->moved)
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
        sodium_memzero(p->up, sizeof p->up);
        return r;
}
