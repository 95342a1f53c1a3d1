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
#include <limits.h>
#include <unistd.h>

#include "macro.h"
#include "tunnel.h"

/* The two directions of a pump, each with one buffer so that a slow reader
 * on one side never stops the other direction (no deadlock when both ways
 * are full), and no more is read than can be passed on (back-pressure).
 *
 * Upwards, one readv(2) spreads the plaintext over several record slots,
 * where each record is sealed in place, and one writev(2) sends them.
 * Downwards, one read(2) takes in several records, each is opened in place
 * in the reader, and one writev(2) passes all their payloads on. No copy of
 * the plaintext, and few system calls here and at the relay. */
#define UP_RECORDS 4
#define DOWN_RECORDS 16

/* After a step moved bytes, the loop goes round again without poll(2);
 * a direction that was blocked is looked at again by a poll(2) with no
 * wait at least every this many rounds, so a busy direction never starves
 * the other one. */
#define ROUNDS_WITHOUT_POLL 16

/* A read of ssh's connection shorter than this was a handshake or
 * interactive packet: acknowledged at once (see fill_up()). */
#define QUICKACK_BELOW 4096

struct pump {
        struct tunnel *t;
        int in_fd, out_fd;
        bool out_is_socket, tunnel_is_socket;
        bool in_is_tcp; /* the bridge's ssh connection: acknowledged at once */
        /* plain -> tunnel: slot i holds one record at up[i * RECORD_MAX_WIRE] */
        uint8_t up[(UP_RECORDS + 1) * RECORD_MAX_WIRE];
        struct iovec iov[UP_RECORDS + 1];
        size_t n_iov, iov_at;
        bool in_eof, close_sent;
        /* tunnel -> plain: payloads of opened records, in place in the reader */
        struct iovec down[DOWN_RECORDS];
        size_t n_down, down_at;
        int down_error; /* a bad record after those: reported once they are out */
        bool close_received, output_ended;
        /* Whether a call may move bytes: false after it got less than it
         * asked for (so the next would most likely get EAGAIN), true again
         * when poll(2) says so. Saves a failing system call a round. */
        bool in_ready, tunnel_in_ready, tunnel_out_ready, out_ready;
        /* Counts every step that moved bytes or reached an end: the loop
         * sleeps in poll(2) only after a round in which nothing moved. */
        uint64_t moved;
};

static bool fd_is_tcp(int fd) {
        int protocol = 0;
        socklen_t len = sizeof protocol;

        return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == 0 && protocol == IPPROTO_TCP;
}

static void end_output(int out_fd, int in_fd) {
        if (shutdown(out_fd, SHUT_WR) < 0 && errno == ENOTSOCK && out_fd != in_fd)
                close(out_fd);
}

static bool up_pending(const struct pump *p) {
        return p->iov_at < p->n_iov;
}

static bool down_pending(const struct pump *p) {
        return p->down_at < p->n_down;
}

static int fill_up(struct pump *p, struct tunnel_stats *stats) {
        struct iovec in[UP_RECORDS];
        ssize_t k;
        int n;

        for (size_t i = 0; i < UP_RECORDS; i++)
                in[i] = (struct iovec) { p->up + i * RECORD_MAX_WIRE + RECORD_HEADER_SIZE + 1, RECORD_MAX_PAYLOAD };
        k = readv(p->in_fd, in, UP_RECORDS);
        if (k < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        return negative_errno();
                p->in_ready = errno == EINTR;
                return 0;
        }
        p->moved++;
        p->in_ready = (size_t) k == UP_RECORDS * RECORD_MAX_PAYLOAD;
        /* ssh leaves Nagle on without a pty: a small write (SERVICE_REQUEST
         * right after NEWKEYS) waits until the one before is acknowledged,
         * and our kernel delays that ACK while we have nothing to send back,
         * until the reply to the earlier packet has crossed the path: a
         * whole round trip lost (at 20 ms) or the 40 ms delayed-ACK timer.
         * Linux leaves quick-ACK mode on its own, hence after every small
         * read; not after large ones: a bulk upload acknowledged at every
         * read went 4-6 % slower. */
        if (p->in_is_tcp && k < QUICKACK_BELOW)
                (void) setsockopt(p->in_fd, IPPROTO_TCP, TCP_QUICKACK, &(int) { 1 }, sizeof(int));

        p->n_iov = p->iov_at = 0;
        for (size_t i = 0; (size_t) k > i * RECORD_MAX_PAYLOAD; i++) {
                uint8_t *slot = p->up + i * RECORD_MAX_WIRE;
                n = record_seal(&p->t->send, RECORD_DATA, slot + RECORD_HEADER_SIZE + 1,
                                MIN((size_t) k - i * RECORD_MAX_PAYLOAD, RECORD_MAX_PAYLOAD), slot);
                if (n < 0)
                        return n;
                p->iov[p->n_iov++] = (struct iovec) { slot, (size_t) n };
        }
        if (k == 0) {
                uint8_t *slot = p->up + UP_RECORDS * RECORD_MAX_WIRE;
                p->in_eof = true;
                n = record_seal(&p->t->send, RECORD_CLOSE, NULL, 0, slot);
                if (n < 0)
                        return n;
                p->iov[p->n_iov++] = (struct iovec) { slot, (size_t) n };
        }
        stats->bytes_out += (uint64_t) k;
        return 0;
}

/* Sends what *at..n of iov holds, resuming after a partial write: returns
 * 0 and clears *ready when not all of it went out. */
static int flush(int fd, bool socket, struct iovec *iov, size_t n, size_t *at, bool *ready, uint64_t *moved) {
        ssize_t k = writev_some(fd, socket, iov + *at, MIN(n - *at, (size_t) IOV_MAX));

        if (k == -EAGAIN) {
                *ready = false;
                return 0;
        }
        if (k < 0)
                return (int) k;
        (*moved)++;
        while (*at < n && (size_t) k >= iov[*at].iov_len)
                k -= (ssize_t) iov[(*at)++].iov_len;
        if (*at < n) {
                iov[*at].iov_base = (uint8_t *) iov[*at].iov_base + k;
                iov[*at].iov_len -= (size_t) k;
                *ready = false;
        }
        return 0;
}

/* Opens the records the reader holds, up to DOWN_RECORDS, and lines up
 * their payloads for out_fd. A CLOSE record ends the list: out_fd ends
 * once all before it went out. */
static int open_down(struct pump *p, struct tunnel_stats *stats) {
        p->n_down = p->down_at = 0;
        while (!p->close_received && p->n_down < DOWN_RECORDS) {
                const uint8_t *payload;
                uint8_t type;
                size_t len;
                int r = record_reader_open(&p->t->reader, &p->t->recv, &type, &payload, &len);

                if (r == 0)
                        break;
                if (r > 0 && type == RECORD_CLOSE)
                        p->close_received = true;
                else if (r > 0 && type == RECORD_DATA) {
                        if (len > 0)
                                p->down[p->n_down++] = (struct iovec) { (void *) payload, len };
                        stats->bytes_in += len;
                } else {
                        /* What came before the bad record is authentic: it
                         * goes out first, then the pump ends. */
                        p->down_error = r < 0 ? r : -EPROTO;
                        break;
                }
                p->moved++;
        }
        if (!down_pending(p) && p->down_error < 0)
                return p->down_error;
        return 0;
}

static int read_down(struct pump *p) {
        size_t room;
        uint8_t *at = record_reader_space(&p->t->reader, &room);
        ssize_t k = read(p->t->fd, at, room);

        if (k < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        return negative_errno();
                p->tunnel_in_ready = errno == EINTR;
                return 0;
        }
        p->moved++;
        if (k == 0) {
                int r = record_reader_eof(&p->t->reader);
                return r < 0 ? r : -ECONNRESET;
        }
        p->tunnel_in_ready = (size_t) k == room;
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

/* One round of work in the downward direction: pass on what is opened,
 * open more, read more; end out_fd once the peer's CLOSE is reached. */
static int pump_down(struct pump *p, struct tunnel_stats *stats) {
        int r;

        if (down_pending(p) && p->out_ready) {
                r = flush(p->out_fd, p->out_is_socket, p->down, p->n_down, &p->down_at, &p->out_ready, &p->moved);
                if (r < 0)
                        return r;
        }
        if (!down_pending(p) && p->down_error < 0)
                return p->down_error;
        if (!down_pending(p) && !p->close_received) {
                r = open_down(p, stats);
                if (r >= 0 && !down_pending(p) && !p->close_received && p->tunnel_in_ready) {
                        r = read_down(p);
                        if (r >= 0)
                                r = open_down(p, stats);
                }
                if (r < 0)
                        return r;
        }
        if (p->close_received && !down_pending(p) && !p->output_ended) {
                end_output(p->out_fd, p->in_fd);
                p->output_ended = true;
                p->moved++;
        }
        return 0;
}

/* What tunnel_initiate_early() sent was only peeked at: read past it. It
 * was there then, so this never waits long. */
static int skip_early(struct tunnel *t, int in_fd) {
        uint8_t buf[4096];

        while (t->early_sent > 0) {
                ssize_t k = read(in_fd, buf, MIN(sizeof buf, t->early_sent));

                if (k > 0) {
                        t->early_sent -= (size_t) k;
                } else if (k == 0) {
                        return -EPROTO;
                } else if (errno == EAGAIN) {
                        struct pollfd pf = { .fd = in_fd, .events = POLLIN };

                        (void) poll(&pf, 1, 1000);
                } else if (errno != EINTR) {
                        return negative_errno();
                }
        }
        return 0;
}

int tunnel_pump(struct tunnel *t, int in_fd, int out_fd, int stop_fd, struct tunnel_stats *stats) {
        struct tunnel_stats dummy = {};
        /* 130 KiB of buffers: on the heap, not on a thread's stack. */
        _cleanup_free_ struct pump *p = malloc(sizeof *p);
        unsigned rounds = 0;
        int r = 0;

        if (!p)
                return -ENOMEM;
        *p = (struct pump) {
                .t = t,
                .in_fd = in_fd,
                .out_fd = out_fd,
                .out_is_socket = fd_is_socket(out_fd) > 0,
                .tunnel_is_socket = fd_is_socket(t->fd) > 0,
                .in_is_tcp = fd_is_tcp(in_fd),
                .in_ready = true,
                .tunnel_in_ready = true,
                .tunnel_out_ready = true,
                .out_ready = true,
        };
        if (!stats)
                stats = &dummy;
        fd_set_nonblock(in_fd, 1);
        fd_set_nonblock(out_fd, 1);
        fd_set_nonblock(t->fd, 1);
        r = skip_early(t, in_fd);
        /* Records that came in with the hello are already in the reader. */
        if (r >= 0)
                r = open_down(p, stats);

        /* Work until every direction would block, then poll: on a busy
         * tunnel most rounds need no poll(2) at all. */
        while (r >= 0 && !(p->close_sent && p->output_ended)) {
                struct pollfd pf[5];
                bool *ready[5];
                nfds_t n = 0;
                uint64_t before = p->moved;
                int k;

                if (!up_pending(p) && !p->in_eof && p->in_ready)
                        r = fill_up(p, stats);
                if (r >= 0 && up_pending(p) && p->tunnel_out_ready) {
                        r = flush(t->fd, p->tunnel_is_socket, p->iov, p->n_iov, &p->iov_at, &p->tunnel_out_ready, &p->moved);
                        if (r >= 0 && !up_pending(p) && p->in_eof)
                                p->close_sent = true;
                        /* The peer ended its direction and left: what we still
                         * had to say has nobody to hear it. A clean end. */
                        if ((r == -EPIPE || r == -ECONNRESET) && p->output_ended) {
                                r = 0;
                                break;
                        }
                }
                if (r >= 0)
                        r = pump_down(p, stats);
                if (r < 0)
                        break;
                if (before != p->moved && ++rounds < ROUNDS_WITHOUT_POLL)
                        continue; /* something moved: try again before sleeping */

                /* Everything wanted and not known to be ready; with no wait
                 * when the last round moved bytes. */
#define WANT(want, fd_, ev, flag)                                                     \
        if ((want) && !(flag)) {                                                      \
                pf[n] = (struct pollfd) { .fd = (fd_), .events = (ev) };              \
                ready[n++] = &(flag);                                                 \
        }
                WANT(!up_pending(p) && !p->in_eof, in_fd, POLLIN, p->in_ready);
                WANT(up_pending(p), t->fd, POLLOUT, p->tunnel_out_ready);
                WANT(!down_pending(p) && !p->close_received, t->fd, POLLIN, p->tunnel_in_ready);
                WANT(down_pending(p), out_fd, POLLOUT, p->out_ready);
#undef WANT
                /* Nothing moved and nothing to wait for: a call was
                 * interrupted (EINTR), go round again. */
                if (n == 0 && before == p->moved)
                        continue;
                if (stop_fd >= 0) {
                        pf[n] = (struct pollfd) { .fd = stop_fd, .events = POLLIN };
                        ready[n++] = NULL;
                }
                rounds = 0;
                k = poll(pf, n, before != p->moved ? 0 : -1);
                if (k < 0 && errno != EINTR) {
                        r = negative_errno();
                        break;
                }
                for (nfds_t i = 0; k > 0 && i < n; i++) {
                        if (!pf[i].revents)
                                continue;
                        if (!ready[i]) {
                                r = -ECANCELED;
                                break;
                        }
                        *ready[i] = true;
                }
        }
        sodium_memzero(p->up, sizeof p->up);
        return r;
}
