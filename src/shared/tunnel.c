/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <unistd.h>
#include <poll.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"
#include "tunnel.h"

#define HANDSHAKE_MAX TUNNEL_HANDSHAKE_MAX

static int send_framed(int fd, const uint8_t *msg, size_t len, usec_t deadline) {
        uint8_t buf[RECORD_HEADER_SIZE + HANDSHAKE_MAX];

        buf[0] = (uint8_t) (len >> 8);
        buf[1] = (uint8_t) len;
        memcpy(buf + 2, msg, len);
        return write_full(fd, buf, len + 2, deadline);
}

bool tunnel_first_frame_whole(const uint8_t *buf, size_t n) {
        if (n < RECORD_HEADER_SIZE)
                return false;
        return n >= RECORD_HEADER_SIZE + MIN((size_t) buf[0] << 8 | buf[1], (size_t) HANDSHAKE_MAX + 1);
}

static int recv_framed(int fd, uint8_t *msg, size_t *len, usec_t deadline) {
        uint8_t hdr[RECORD_HEADER_SIZE];
        size_t l;
        int r;

        r = read_full(fd, hdr, sizeof hdr, deadline);
        if (r < 0)
                return r;
        l = (size_t) hdr[0] << 8 | hdr[1];
        if (l > HANDSHAKE_MAX)
                return -EPROTO;
        r = read_full(fd, msg, l, deadline);
        if (r < 0)
                return r;
        *len = l;
        return 0;
}

static int send_record(struct tunnel *t, enum record_type type, const void *data, size_t len, usec_t deadline) {
        uint8_t buf[RECORD_MAX_WIRE];
        int n = record_seal(&t->send, type, data, len, buf);

        if (n < 0)
                return n;
        n = write_full(t->fd, buf, (size_t) n, deadline);
        sodium_memzero(buf, sizeof buf);
        return n;
}

/* Reads one record (blocking until the deadline). Bytes after it stay in
 * the reader for the pump. */
static int recv_record(struct tunnel *t, uint8_t *type, const uint8_t **payload, size_t *len, usec_t deadline) {
        for (;;) {
                size_t room;
                uint8_t *p;
                ssize_t k;
                int r = record_reader_open(&t->reader, &t->recv, type, payload, len);

                if (r != 0)
                        return r < 0 ? r : 0;
                p = record_reader_space(&t->reader, &room);
                k = read(t->fd, p, room);
                if (k == 0)
                        return record_reader_eof(&t->reader) < 0 ? -ENODATA : -ECONNRESET;
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return negative_errno();
                        r = fd_wait(t->fd, POLLIN, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                record_reader_advance(&t->reader, (size_t) k);
        }
}

static int handshake_init(struct noise_handshake *hs, bool initiator, const uint8_t psk[NOISE_KEY_SIZE]) {
        return noise_handshake_init(hs, NOISE_NNPSK0, initiator, (const uint8_t *) TUNNEL_PROLOGUE,
                                    strlen(TUNNEL_PROLOGUE), psk);
}

int tunnel_initiate(struct tunnel *t, int fd, const uint8_t psk[NOISE_KEY_SIZE],
                    struct kairos_hello *hello, usec_t deadline) {
        return tunnel_initiate_early(t, fd, psk, hello, deadline, -1);
}

int tunnel_initiate_early(struct tunnel *t, int fd, const uint8_t psk[NOISE_KEY_SIZE],
                          struct kairos_hello *hello, usec_t deadline, int early_fd) {
        struct noise_handshake hs;
        uint8_t msg[HANDSHAKE_MAX], payload[HANDSHAKE_MAX];
        size_t len = sizeof msg, plen = sizeof payload;
        const uint8_t *rp;
        const char *why;
        uint8_t type;
        int r;

        *t = (struct tunnel) { .fd = fd };
        /* Deadlines hold only if no read or write can block. */
        r = fd_set_nonblock(fd, 1);
        if (r >= 0)
                r = handshake_init(&hs, true, psk);
        if (r < 0)
                return r;
        r = noise_handshake_write(&hs, NULL, 0, msg, &len);
        if (r >= 0)
                r = send_framed(fd, msg, len, deadline);
        if (r >= 0) {
                r = recv_framed(fd, msg, &len, deadline);
                /* A responder closes at once on a first message it cannot
                 * authenticate: it holds another secret. */
                if (r == -ECONNRESET)
                        r = -ECONNABORTED;
                else if (r >= 0 && len == sizeof TUNNEL_BUSY_FRAME - 3 && !memcmp(msg, TUNNEL_BUSY_FRAME + 2, len))
                        r = -EUSERS;
        }
        if (r >= 0)
                r = noise_handshake_read(&hs, msg, len, payload, &plen);
        if (r >= 0)
                r = noise_handshake_split(&hs, &t->send, &t->recv, NULL);
        noise_handshake_clear(&hs);
        if (r < 0)
                goto fail;

        r = send_record(t, RECORD_CLIENT_HELLO, CLIENT_HELLO, strlen(CLIENT_HELLO), deadline);
        if (r < 0)
                goto fail;
        if (early_fd > 0) {
                uint8_t early[RECORD_MAX_PAYLOAD];
                ssize_t n = recv(early_fd, early, sizeof early, MSG_PEEK | MSG_DONTWAIT);

                if (n > 0) {
                        r = send_record(t, RECORD_DATA, early, (size_t) n, deadline);
                        sodium_memzero(early, (size_t) n);
                        if (r < 0)
                                goto fail;
                        t->early_sent = (size_t) n;
                }
        }
        r = recv_record(t, &type, &rp, &len, deadline);
        if (r < 0)
                goto fail;
        /* Authenticated by the key we hold: the machine says the code was
         * rotated, and no path will do with it. */
        if (type == RECORD_ROTATED) {
                r = -EKEYREVOKED;
                goto fail;
        }
        if (type != RECORD_HELLO || hello_parse((const char *) rp, len, hello, &why) < 0) {
                r = -EPROTO;
                goto fail;
        }
        return 0;
fail:
        tunnel_done(t, false);
        return r;
}

int tunnel_accept_retired(struct tunnel *t, int fd, const uint8_t psk[NOISE_KEY_SIZE],
                          const uint8_t *retired_psk, usec_t deadline, void (*proven)(void *userdata),
                          void *userdata, bool *retired) {
        struct noise_handshake hs;
        uint8_t msg[HANDSHAKE_MAX], payload[HANDSHAKE_MAX];
        size_t len = sizeof msg, plen = sizeof payload;
        const uint8_t *rp;
        uint8_t type;
        bool old = false;
        int r;

        *t = (struct tunnel) { .fd = fd };
        r = fd_set_nonblock(fd, 1);
        if (r >= 0)
                r = handshake_init(&hs, false, psk);
        if (r < 0)
                return r;
        r = recv_framed(fd, msg, &len, deadline);
        if (r >= 0)
                r = noise_handshake_read(&hs, msg, len, payload, &plen);
        /* Not the current key: perhaps the one before the last rotate. The
         * first message holds no DH, so a second try costs next to nothing. */
        if (r == -EBADMSG && retired_psk) {
                noise_handshake_clear(&hs);
                plen = sizeof payload;
                r = handshake_init(&hs, false, retired_psk);
                if (r >= 0)
                        r = noise_handshake_read(&hs, msg, len, payload, &plen);
                old = r >= 0;
        }
        /* The first message carries no payload; one that does is not ours. */
        if (r >= 0 && plen != 0)
                r = -EPROTO;
        if (r >= 0 && proven && !old)
                proven(userdata);
        len = sizeof msg;
        if (r >= 0)
                r = noise_handshake_write(&hs, NULL, 0, msg, &len);
        if (r >= 0)
                r = send_framed(fd, msg, len, deadline);
        if (r >= 0)
                r = noise_handshake_split(&hs, &t->send, &t->recv, NULL);
        noise_handshake_clear(&hs);
        if (r < 0)
                goto fail;

        /* Key confirmation: until this record decrypts, nothing is established. */
        r = recv_record(t, &type, &rp, &len, deadline);
        if (r < 0)
                goto fail;
        if (type != RECORD_CLIENT_HELLO || len != strlen(CLIENT_HELLO) || memcmp(rp, CLIENT_HELLO, len)) {
                r = -EPROTO;
                goto fail;
        }
        if (retired)
                *retired = old;
        return 0;
fail:
        tunnel_done(t, false);
        return r;
}

int tunnel_accept(struct tunnel *t, int fd, const uint8_t psk[NOISE_KEY_SIZE], usec_t deadline,
                  void (*proven)(void *userdata), void *userdata) {
        return tunnel_accept_retired(t, fd, psk, NULL, deadline, proven, userdata, NULL);
}

int tunnel_send_rotated(struct tunnel *t, usec_t deadline) {
        return send_record(t, RECORD_ROTATED, NULL, 0, deadline);
}

int tunnel_send_hello(struct tunnel *t, const struct kairos_hello *hello, usec_t deadline) {
        char buf[HELLO_MAX_SIZE];
        int n = hello_format(hello, buf, sizeof buf);

        if (n < 0)
                return n;
        return send_record(t, RECORD_HELLO, buf, (size_t) n, deadline);
}

void tunnel_done(struct tunnel *t, bool close_fd) {
        if (close_fd && t->fd >= 0)
                close(t->fd);
        sodium_memzero(t, sizeof *t);
        t->fd = -EBADF;
}
