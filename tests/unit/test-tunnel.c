/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tunnel over socketpairs, each end in its own thread: handshake and
 * hello, a wrong PSK, 8 MiB each way at once through tunnel_pump, many small
 * records in one write, a tampered record, and a replayed first handshake
 * message, which must give an attacker nothing and cost the responder no
 * more than its deadline. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "tap.h"
#include "tunnel.h"

#define HANDSHAKE_TIMEOUT (5 * USEC_PER_SEC)
#define PUMP_BYTES (8u << 20)
#define FIRST_MESSAGE (RECORD_HEADER_SIZE + NOISE_DH_SIZE + NOISE_TAG_SIZE) /* e, and the tag of an empty payload */

static const char *const host_keys[] = {
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC7eI2ennAip5kXazWB7cbH54ipW/EnAojok/8TIG/pt",
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBO5mLQVrz2y0rNjKHTztmySApDvQ5ZuQPrB4UV8Gl"
        "+B02/tIWQbms2A4DW3cvoUPTgXfzjLy0Y2FLlsl0T0G/Po=",
};

static struct kairos_hello server_hello;

struct responder {
        struct tunnel t;
        int fd;
        const uint8_t *psk;
        usec_t timeout;
        int r;
        unsigned proven; /* calls of the proven hook */
};

static void on_proven(void *userdata) {
        ((struct responder *) userdata)->proven++;
}

static void *respond(void *arg) {
        struct responder *s = arg;

        s->r = tunnel_accept(&s->t, s->fd, s->psk, deadline_after(s->timeout), on_proven, s);
        if (s->r == 0)
                s->r = tunnel_send_hello(&s->t, &server_hello, deadline_after(s->timeout));
        if (s->r < 0) /* as a daemon would: the initiator then sees the end at once */
                close(s->fd);
        return NULL;
}

static void start(pthread_t *th, void *(*fn)(void *), void *arg) {
        if (pthread_create(th, NULL, fn, arg) != 0) {
                printf("Bail out! pthread_create failed\n");
                exit(1);
        }
}

static void pair(int sv[2]) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                printf("Bail out! socketpair: %s\n", strerror(errno));
                exit(1);
        }
}

/* Runs both handshakes at once; the initiator's result is returned, the
 * responder's in res->r. */
static int handshake(const uint8_t *psk_i, const uint8_t *psk_r, struct tunnel *ini, struct kairos_hello *hello,
                     struct responder *res) {
        pthread_t th;
        int sv[2], r;

        pair(sv);
        *res = (struct responder) { .fd = sv[1], .psk = psk_r, .timeout = HANDSHAKE_TIMEOUT };
        start(&th, respond, res);
        r = tunnel_initiate(ini, sv[0], psk_i, hello, deadline_after(HANDSHAKE_TIMEOUT));
        if (r < 0)
                close(sv[0]); /* the responder then sees the end instead of waiting */
        pthread_join(th, NULL);
        if (r < 0 && res->r == 0)
                tunnel_done(&res->t, true);
        if (res->r < 0 && r == 0)
                tunnel_done(ini, true);
        return r;
}

static void test_handshake(void) {
        static struct kairos_hello got;
        struct responder res;
        struct tunnel ini;
        uint8_t psk[NOISE_KEY_SIZE], other[NOISE_KEY_SIZE];
        int r;

        randombytes_buf(psk, sizeof psk);
        r = handshake(psk, psk, &ini, &got, &res);
        tap_ok(r == 0 && res.r == 0, "with the same PSK, tunnel_initiate and tunnel_accept both succeed (got %d and %d)", r, res.r);
        tap_ok(r == 0 && got.version == KAIROS_PROTOCOL_VERSION && !strcmp(got.hostname, server_hello.hostname) &&
               got.n_keys == 2 && !strcmp(got.keys[0], host_keys[0]) && !strcmp(got.keys[1], host_keys[1]),
               "the initiator receives the hello intact: version, host name and both host keys");
        if (r == 0 && res.r == 0) {
                tunnel_done(&ini, true);
                tunnel_done(&res.t, true);
        }

        memcpy(other, psk, sizeof psk);
        other[0] ^= 1;
        r = handshake(psk, other, &ini, &got, &res);
        tap_ok(res.r == -EBADMSG, "with a PSK one bit off, tunnel_accept fails with -EBADMSG (got %d)", res.r);
        tap_ok(r < 0, "with a PSK one bit off, tunnel_initiate fails too (got %d, %s)", r, r < 0 ? record_strerror(r) : "success");
}

/* ---- after a rotate: the old key gets ROTATED, and only that ---- */

struct retired_responder {
        struct responder base;
        const uint8_t *retired_psk;
        bool retired;
};

static void *respond_retired(void *arg) {
        struct retired_responder *s = arg;
        struct responder *b = &s->base;

        b->r = tunnel_accept_retired(&b->t, b->fd, b->psk, s->retired_psk, deadline_after(b->timeout), on_proven, b,
                                     &s->retired);
        if (b->r == 0)
                b->r = s->retired ? tunnel_send_rotated(&b->t, deadline_after(b->timeout)) :
                                    tunnel_send_hello(&b->t, &server_hello, deadline_after(b->timeout));
        if (b->r == 0)
                tunnel_done(&b->t, false);
        close(b->fd);
        return NULL;
}

static int handshake_retired(const uint8_t *psk_i, const uint8_t *psk_r, const uint8_t *old,
                             struct retired_responder *res) {
        static struct kairos_hello got;
        struct tunnel ini;
        pthread_t th;
        int sv[2], r;

        pair(sv);
        *res = (struct retired_responder) {
                .base = { .fd = sv[1], .psk = psk_r, .timeout = HANDSHAKE_TIMEOUT }, .retired_psk = old,
        };
        start(&th, respond_retired, res);
        r = tunnel_initiate(&ini, sv[0], psk_i, &got, deadline_after(HANDSHAKE_TIMEOUT));
        if (r == 0)
                tunnel_done(&ini, false);
        close(sv[0]);
        pthread_join(th, NULL);
        return r;
}

static void test_retired(void) {
        struct retired_responder res;
        uint8_t cur[NOISE_KEY_SIZE], old[NOISE_KEY_SIZE], other[NOISE_KEY_SIZE];
        int r;

        randombytes_buf(cur, sizeof cur);
        randombytes_buf(old, sizeof old);
        randombytes_buf(other, sizeof other);
        r = handshake_retired(old, cur, old, &res);
        tap_ok(r == -EKEYREVOKED && res.retired && res.base.r == 0,
               "the key before a rotate: the initiator gets -EKEYREVOKED (got %d), the responder knew it was the old one",
               r);
        tap_ok(res.base.proven == 0, "the old key does not count as proven (admission): %u calls", res.base.proven);
        r = handshake_retired(cur, cur, old, &res);
        tap_ok(r == 0 && !res.retired && res.base.proven == 1,
               "the current key with an old one kept: the hello as always (got %d, retired %d)", r, res.retired);
        r = handshake_retired(other, cur, old, &res);
        tap_ok(r < 0 && r != -EKEYREVOKED && res.base.r == -EBADMSG,
               "a third key: refused as before (initiator %d, responder %d), never told rotated", r, res.base.r);
        r = handshake_retired(old, cur, NULL, &res);
        tap_ok(r < 0 && r != -EKEYREVOKED && res.base.r == -EBADMSG,
               "the old key once none is kept: refused like any other (initiator %d, responder %d)", r, res.base.r);
}

/* ---- 8 MiB each way ---- */

struct pump_arg {
        struct tunnel *t;
        int plain;
        struct tunnel_stats stats;
        int r;
};

static void *pump(void *arg) {
        struct pump_arg *a = arg;
        a->r = tunnel_pump(a->t, a->plain, a->plain, -1, &a->stats);
        return NULL;
}

struct app {
        int fd;
        const uint8_t *out;
        uint8_t *in;
        size_t len, got;
        int err;
};

static void *app_write(void *arg) {
        struct app *a = arg;

        for (size_t at = 0; at < a->len;) {
                size_t chunk = 1 + randombytes_uniform(200000);
                ssize_t k = send(a->fd, a->out + at, chunk < a->len - at ? chunk : a->len - at, MSG_NOSIGNAL);
                if (k < 0) {
                        a->err = -errno;
                        return NULL;
                }
                at += (size_t) k;
        }
        if (shutdown(a->fd, SHUT_WR) < 0)
                a->err = -errno;
        return NULL;
}

static void *app_read(void *arg) {
        struct app *a = arg;

        for (;;) {
                ssize_t k = read(a->fd, a->in + a->got, a->len + 1 - a->got);
                if (k < 0) {
                        a->err = -errno;
                        return NULL;
                }
                if (k == 0)
                        return NULL;
                a->got += (size_t) k;
                if (a->got > a->len) /* more than was sent */
                        return NULL;
        }
}

static void test_pump(void) {
        struct responder res;
        struct tunnel ini;
        static struct kairos_hello got;
        struct pump_arg pa, pb;
        struct app wa, ra, wb, rb;
        pthread_t th[6];
        uint8_t psk[NOISE_KEY_SIZE], *a_out, *b_out, *a_in, *b_in;
        int sa[2], sb[2], r;
        usec_t t0;

        randombytes_buf(psk, sizeof psk);
        r = handshake(psk, psk, &ini, &got, &res);
        if (!tap_ok(r == 0 && res.r == 0, "a tunnel for the pump is established (got %d and %d)", r, res.r))
                return;

        a_out = malloc(PUMP_BYTES), b_out = malloc(PUMP_BYTES);
        a_in = malloc(PUMP_BYTES + 1), b_in = malloc(PUMP_BYTES + 1);
        if (!a_out || !b_out || !a_in || !b_in) {
                printf("Bail out! out of memory\n");
                exit(1);
        }
        randombytes_buf(a_out, PUMP_BYTES);
        randombytes_buf(b_out, PUMP_BYTES);
        pair(sa), pair(sb);
        /* A: the initiator's pump, its plain side sa[1]; the application at sa[0]. */
        pa = (struct pump_arg) { .t = &ini, .plain = sa[1] };
        pb = (struct pump_arg) { .t = &res.t, .plain = sb[1] };
        wa = (struct app) { .fd = sa[0], .out = a_out, .len = PUMP_BYTES };
        ra = (struct app) { .fd = sa[0], .in = a_in, .len = PUMP_BYTES };
        wb = (struct app) { .fd = sb[0], .out = b_out, .len = PUMP_BYTES };
        rb = (struct app) { .fd = sb[0], .in = b_in, .len = PUMP_BYTES };
        t0 = now_usec();
        start(&th[0], pump, &pa);
        start(&th[1], pump, &pb);
        start(&th[2], app_write, &wa);
        start(&th[3], app_read, &ra);
        start(&th[4], app_write, &wb);
        start(&th[5], app_read, &rb);
        for (int i = 0; i < 6; i++)
                pthread_join(th[i], NULL);
        tap_diag("8 MiB each way took %.2f s", (double) (now_usec() - t0) / 1e6);

        tap_ok(pa.r == 0 && pb.r == 0, "both pumps end with 0 once each side's input reached its end (got %d and %d)", pa.r, pb.r);
        tap_ok(wa.err == 0 && wb.err == 0 && ra.err == 0 && rb.err == 0, "the applications at both ends read and write without error");
        tap_ok(rb.got == PUMP_BYTES && !memcmp(b_in, a_out, PUMP_BYTES),
               "the 8 MiB written at the initiator's end arrive whole and unchanged at the responder's (got %zu bytes)", rb.got);
        tap_ok(ra.got == PUMP_BYTES && !memcmp(a_in, b_out, PUMP_BYTES),
               "the 8 MiB written at the responder's end arrive whole and unchanged at the initiator's (got %zu bytes)", ra.got);
        tap_ok(pa.stats.bytes_out == PUMP_BYTES && pa.stats.bytes_in == PUMP_BYTES && pb.stats.bytes_out == PUMP_BYTES &&
               pb.stats.bytes_in == PUMP_BYTES, "the pumps count 8 MiB in and out on each side (got %llu/%llu and %llu/%llu)",
               (unsigned long long) pa.stats.bytes_in, (unsigned long long) pa.stats.bytes_out,
               (unsigned long long) pb.stats.bytes_in, (unsigned long long) pb.stats.bytes_out);

        tunnel_done(&ini, true);
        tunnel_done(&res.t, true);
        for (int i = 0; i < 2; i++)
                close(sa[i]), close(sb[i]);
        free(a_out), free(b_out), free(a_in), free(b_in);
}

/* A record altered on the wire ends the pump with -EBADMSG, and nothing from
 * it or after it reaches the plain side. */
static void test_pump_tampered(void) {
        static uint8_t wire[3 * RECORD_MAX_WIRE];
        static struct kairos_hello got;
        struct responder res;
        struct tunnel ini;
        struct pump_arg pb;
        uint8_t psk[NOISE_KEY_SIZE], out[256];
        pthread_t th;
        int sb[2], r, n = 0, k;
        ssize_t got_n;

        randombytes_buf(psk, sizeof psk);
        r = handshake(psk, psk, &ini, &got, &res);
        if (!tap_ok(r == 0 && res.r == 0, "a tunnel for the tampering test is established (got %d and %d)", r, res.r))
                return;
        k = record_seal(&ini.send, RECORD_DATA, (const uint8_t *) "good;", 5, wire);
        n += k;
        k = record_seal(&ini.send, RECORD_DATA, (const uint8_t *) "evil;", 5, wire + n);
        wire[n + 4] ^= 0x20; /* inside the sealed payload */
        n += k;
        k = record_seal(&ini.send, RECORD_DATA, (const uint8_t *) "after", 5, wire + n);
        n += k;
        if (write_full(ini.fd, wire, (size_t) n, deadline_after(HANDSHAKE_TIMEOUT)) < 0)
                printf("# could not write the records\n");

        pair(sb);
        pb = (struct pump_arg) { .t = &res.t, .plain = sb[1] };
        start(&th, pump, &pb);
        pthread_join(th, NULL);
        tap_ok(pb.r == -EBADMSG, "a tampered record ends the responder's pump with -EBADMSG (got %d)", pb.r);
        close(sb[1]);
        got_n = read(sb[0], out, sizeof out);
        tap_ok(got_n == 5 && !memcmp(out, "good;", 5),
               "only the record before the tampered one reached the plain side (got %zd bytes)", got_n);
        close(sb[0]);
        tunnel_done(&ini, true);
        tunnel_done(&res.t, true);
}

/* Many small records, some empty, and the CLOSE in one write: one read(2)
 * of the responder takes them all in, more than the pump passes on in one
 * writev(2). Everything arrives, in order, then the end of the stream. */
static void test_pump_small_records(void) {
        static uint8_t wire[300 * (RECORD_HEADER_SIZE + 1 + 50 + NOISE_TAG_SIZE) + RECORD_MAX_WIRE];
        static uint8_t sent[300 * 50], got_plain[300 * 50 + 1];
        static struct kairos_hello got;
        struct responder res;
        struct tunnel ini;
        struct pump_arg pb;
        pthread_t th;
        uint8_t psk[NOISE_KEY_SIZE];
        size_t n = 0, n_sent = 0, n_got = 0;
        int sb[2], r;
        ssize_t k;

        randombytes_buf(psk, sizeof psk);
        r = handshake(psk, psk, &ini, &got, &res);
        if (!tap_ok(r == 0 && res.r == 0, "a tunnel for the small-records test is established (got %d and %d)", r, res.r))
                return;
        for (size_t i = 0; i < 300; i++) {
                size_t len = i % 51; /* 0 to 50 bytes: some records are empty */

                randombytes_buf(sent + n_sent, len);
                r = record_seal(&ini.send, RECORD_DATA, sent + n_sent, len, wire + n);
                if (r < 0)
                        break;
                n += (size_t) r;
                n_sent += len;
        }
        r = record_seal(&ini.send, RECORD_CLOSE, NULL, 0, wire + n);
        if (r > 0)
                n += (size_t) r;
        if (write_full(ini.fd, wire, n, deadline_after(HANDSHAKE_TIMEOUT)) < 0)
                printf("# could not write the records\n");

        pair(sb);
        shutdown(sb[0], SHUT_WR); /* the responder's application has nothing to say */
        pb = (struct pump_arg) { .t = &res.t, .plain = sb[1] };
        start(&th, pump, &pb);
        while (n_got < sizeof got_plain && (k = read(sb[0], got_plain + n_got, sizeof got_plain - n_got)) > 0)
                n_got += (size_t) k;
        pthread_join(th, NULL);
        tap_ok(pb.r == 0, "300 small records and a CLOSE in one write: the responder's pump ends cleanly (got %d)", pb.r);
        tap_ok(n_got == n_sent && !memcmp(got_plain, sent, n_sent),
               "the %zu bytes of 300 small records (some empty) arrive whole, in order, then the end of the stream (got %zu)",
               n_sent, n_got);
        close(sb[0]);
        close(sb[1]);
        tunnel_done(&ini, true);
        tunnel_done(&res.t, true);
}

/* Records that follow the hello closely arrive in the same read(2) as the
 * hello: the pump must deliver them from the reader. */
static void *respond_eagerly(void *arg) {
        static uint8_t wire[3 * RECORD_MAX_WIRE];
        static char text[HELLO_MAX_SIZE];
        struct responder *s = arg;
        int n, k;

        s->r = tunnel_accept(&s->t, s->fd, s->psk, deadline_after(s->timeout), NULL, NULL);
        if (s->r < 0) {
                close(s->fd);
                return NULL;
        }
        n = hello_format(&server_hello, text, sizeof text);
        n = record_seal(&s->t.send, RECORD_HELLO, (const uint8_t *) text, (size_t) n, wire);
        k = record_seal(&s->t.send, RECORD_DATA, (const uint8_t *) "early data", 10, wire + n);
        n += k;
        k = record_seal(&s->t.send, RECORD_CLOSE, NULL, 0, wire + n);
        n += k;
        s->r = write_full(s->fd, wire, (size_t) n, deadline_after(s->timeout)); /* one write: one read at the other end */
        return NULL;
}

static void test_records_with_hello(void) {
        static struct kairos_hello got;
        struct responder res;
        struct pump_arg pa;
        struct tunnel ini;
        pthread_t th;
        char out[64] = "";
        int sv[2], sa[2], r;
        ssize_t n;

        pair(sv);
        res = (struct responder) { .fd = sv[1], .psk = (const uint8_t *) "0123456789abcdef0123456789abcdef", .timeout = HANDSHAKE_TIMEOUT };
        start(&th, respond_eagerly, &res);
        r = tunnel_initiate(&ini, sv[0], res.psk, &got, deadline_after(HANDSHAKE_TIMEOUT));
        pthread_join(th, NULL);
        if (!tap_ok(r == 0 && res.r == 0, "a responder sending hello, data and close in one write: the handshake succeeds (got %d, %d)",
                    r, res.r)) {
                close(sv[0]);
                return;
        }
        pair(sa);
        shutdown(sa[0], SHUT_WR); /* nothing to send from this end */
        pa = (struct pump_arg) { .t = &ini, .plain = sa[1] };
        start(&th, pump, &pa);
        pthread_join(th, NULL);
        n = read(sa[0], out, sizeof out - 1);
        tap_ok(pa.r == 0, "the pump ends cleanly on the close that came with the hello (got %d)", pa.r);
        tap_ok(n == 10 && !memcmp(out, "early data", 10), "the data that came in the same read as the hello is delivered (got %zd bytes)", n);
        tunnel_done(&ini, true);
        tunnel_done(&res.t, true);
        close(sa[0]), close(sa[1]);
}

/* ---- early data: ssh's banner sent with the key confirmation ---- */

struct early_responder {
        struct responder s;
        char got[64]; /* the first DATA record, read before the hello is sent */
        size_t len;
};

/* Reads one DATA record and only then sends the hello: an initiator that
 * waited for the hello before sending would deadlock here. */
static void *respond_after_data(void *arg) {
        struct early_responder *e = arg;
        struct responder *s = &e->s;
        const uint8_t *payload;
        uint8_t type;
        size_t len = 0, room;
        int k = 0;

        s->r = tunnel_accept(&s->t, s->fd, s->psk, deadline_after(s->timeout), NULL, NULL);
        while (s->r == 0 && (k = record_reader_open(&s->t.reader, &s->t.recv, &type, &payload, &len)) == 0) {
                struct pollfd pf = { .fd = s->fd, .events = POLLIN };
                uint8_t *at = record_reader_space(&s->t.reader, &room);
                ssize_t n = poll(&pf, 1, 5000) > 0 ? read(s->fd, at, room) : -1;

                if (n <= 0)
                        s->r = -ETIMEDOUT;
                else
                        record_reader_advance(&s->t.reader, (size_t) n);
        }
        if (s->r == 0 && (k < 0 || type != RECORD_DATA || len >= sizeof e->got))
                s->r = -EPROTO;
        if (s->r == 0) {
                memcpy(e->got, payload, len);
                e->len = len;
                s->r = tunnel_send_hello(&s->t, &server_hello, deadline_after(s->timeout));
        }
        if (s->r < 0)
                close(s->fd);
        return NULL;
}

static void test_early_data(void) {
        static const char banner[] = "SSH-2.0-OpenSSH_9.2p1\r\n", rest[] = "the rest";
        static struct kairos_hello got;
        struct early_responder e = {};
        struct pump_arg pi, pr;
        struct tunnel ini;
        pthread_t th, tr;
        char out[64] = "";
        int sv[2], sa[2], sb[2], r;
        ssize_t n;

        pair(sv);
        pair(sa);
        /* What ssh wrote the moment it connected, waiting in the bridge's socket. */
        if (write(sa[0], banner, strlen(banner)) < 0)
                printf("Bail out! write: %s\n", strerror(errno));
        e.s = (struct responder) { .fd = sv[1], .psk = (const uint8_t *) "0123456789abcdef0123456789abcdef", .timeout = HANDSHAKE_TIMEOUT };
        start(&th, respond_after_data, &e);
        r = tunnel_initiate_early(&ini, sv[0], e.s.psk, &got, deadline_after(HANDSHAKE_TIMEOUT), sa[1]);
        pthread_join(th, NULL);
        if (!tap_ok(r == 0 && e.s.r == 0, "early data: the handshake succeeds with the responder waiting for data before its hello (got %d, %d)",
                    r, e.s.r)) {
                close(sv[0]), close(sa[0]), close(sa[1]);
                return;
        }
        tap_ok(e.len == strlen(banner) && !memcmp(e.got, banner, e.len) && ini.early_sent == e.len,
               "the bytes waiting at the plain end went with the key confirmation, before the hello (%zu bytes)", e.len);
        /* The pump reads past what was only peeked at: the responder's
         * plain side gets the rest, not the banner a second time. */
        if (write(sa[0], rest, strlen(rest)) < 0)
                printf("Bail out! write: %s\n", strerror(errno));
        shutdown(sa[0], SHUT_WR);
        pair(sb);
        shutdown(sb[0], SHUT_WR);
        pi = (struct pump_arg) { .t = &ini, .plain = sa[1] };
        pr = (struct pump_arg) { .t = &e.s.t, .plain = sb[1] };
        start(&th, pump, &pi);
        start(&tr, pump, &pr);
        pthread_join(th, NULL);
        pthread_join(tr, NULL);
        n = read(sb[0], out, sizeof out - 1);
        tap_ok(pi.r == 0 && pr.r == 0 && n == (ssize_t) strlen(rest) && !memcmp(out, rest, strlen(rest)),
               "then the pump sends only what followed (got %zd bytes: \"%s\"; pumps %d, %d)", n, n > 0 ? out : "", pi.r, pr.r);
        tunnel_done(&ini, true);
        tunnel_done(&e.s.t, true);
        close(sa[0]), close(sa[1]), close(sb[0]), close(sb[1]);
}

/* ---- a replayed first handshake message ---- */

struct initiator {
        int fd;
        const uint8_t *psk;
        struct kairos_hello hello;
        int r;
};

static void *initiate(void *arg) {
        struct initiator *s = arg;
        struct tunnel t;

        s->r = tunnel_initiate(&t, s->fd, s->psk, &s->hello, deadline_after(HANDSHAKE_TIMEOUT));
        return NULL;
}

/* The same with a blocking descriptor, as accept(2) gives one: in a child
 * process, so that a responder that never returns cannot hang the test.
 * (tunnel_accept() once blocked for ever here: it now makes the descriptor
 * non-blocking so its deadline holds.) */
static void test_replay_blocking(const uint8_t first[FIRST_MESSAGE], const uint8_t *psk) {
        int sv[2], status = 0, killed = 0;
        usec_t t0;
        pid_t pid;

        pair(sv);
        write_full(sv[0], first, FIRST_MESSAGE, deadline_after(HANDSHAKE_TIMEOUT));
        fflush(stdout);
        t0 = now_usec();
        pid = fork();
        if (pid == 0) {
                struct tunnel t;
                int r = tunnel_accept(&t, sv[1], psk, deadline_after(500 * USEC_PER_MSEC), NULL, NULL);
                _exit(r == -ETIMEDOUT ? 0 : r == 0 ? 1 : 2);
        }
        close(sv[1]);
        /* A tunnel_accept that ignores its deadline never returns: 10 s
         * tells it from one that returns at 0.5 s however loaded the
         * machine is (the child's start is counted too). */
        while (pid > 0 && waitpid(pid, &status, WNOHANG) == 0) {
                if (now_usec() - t0 > 10 * USEC_PER_SEC) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        killed = 1;
                        break;
                }
                usleep(10000);
        }
        tap_ok(pid > 0 && !killed && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                 "replayed first message on a blocking descriptor: tunnel_accept gives -ETIMEDOUT at its 0.5 s deadline (%s)",
                 killed ? "still waiting after 10 s, killed" : "returned");
        close(sv[0]);
}

static void test_replay(void) {
        static struct initiator ini;
        struct responder res;
        uint8_t psk[NOISE_KEY_SIZE], first[FIRST_MESSAGE], extra, reply[256];
        pthread_t th;
        int sv[2], r;
        usec_t t0, took;

        /* Capture a genuine first message, then let that initiator go. */
        randombytes_buf(psk, sizeof psk);
        pair(sv);
        ini = (struct initiator) { .fd = sv[0], .psk = psk };
        start(&th, initiate, &ini);
        r = read_full(sv[1], first, sizeof first, deadline_after(HANDSHAKE_TIMEOUT));
        tap_ok(r == 0 && first[0] == 0 && first[1] == NOISE_DH_SIZE + NOISE_TAG_SIZE,
               "the initiator's first message is a 2-byte length and %d bytes (e and an empty payload's tag)",
               NOISE_DH_SIZE + NOISE_TAG_SIZE);
        fd_set_nonblock(sv[1], 1);
        tap_ok(read(sv[1], &extra, 1) < 0 && errno == EAGAIN, "nothing follows the first message before the reply");
        close(sv[1]);
        pthread_join(th, NULL);
        close(sv[0]);
        tap_ok(ini.r < 0, "the initiator whose peer closed after its first message fails (got %d: %s)", ini.r,
               ini.r < 0 ? record_strerror(ini.r) : "success");

        /* Replayed to a fresh responder that then hears nothing more. */
        for (int variant = 0; variant < 3; variant++) {
                const char *how = (const char *[]) { "then silence", "then the end of the stream",
                                                     "then a forged record" }[variant];
                int want = (int[]) { -ETIMEDOUT, -ECONNRESET, -EBADMSG }[variant];

                pair(sv);
                /* Non-blocking, as the deadline needs (see test_replay_blocking). */
                fd_set_nonblock(sv[1], 1);
                write_full(sv[0], first, sizeof first, deadline_after(HANDSHAKE_TIMEOUT));
                res = (struct responder) { .fd = sv[1], .psk = psk, .timeout = 500 * USEC_PER_MSEC };
                t0 = now_usec();
                start(&th, respond, &res);
                r = read_full(sv[0], reply, 2, deadline_after(HANDSHAKE_TIMEOUT));
                if (r == 0)
                        r = read_full(sv[0], reply + 2, MIN((size_t) (reply[0] << 8 | reply[1]), sizeof reply - 2), deadline_after(HANDSHAKE_TIMEOUT));
                if (variant == 1)
                        shutdown(sv[0], SHUT_WR);
                else if (variant == 2) {
                        uint8_t forged[RECORD_HEADER_SIZE + 1 + 16 + NOISE_TAG_SIZE];
                        randombytes_buf(forged, sizeof forged);
                        forged[0] = 0, forged[1] = sizeof forged - 2;
                        write_full(sv[0], forged, sizeof forged, deadline_after(HANDSHAKE_TIMEOUT));
                }
                pthread_join(th, NULL);
                took = now_usec() - t0;
                tap_ok(r == 0, "a replayed first message gets a reply (the responder cannot tell yet), %s", how);
                tap_ok(res.r == want, "replayed first message, %s: tunnel_accept fails with %s (got %d)", how,
                       want == -ETIMEDOUT ? "-ETIMEDOUT" : want == -ECONNRESET ? "-ECONNRESET" : "-EBADMSG", res.r);
                /* Without its deadline it would wait as long as the peer
                 * stays silent (the test would end at its alarm): the bound
                 * leaves room for a thread's start and the handshake's
                 * crypto under ASan on a loaded machine. */
                tap_ok(took < 500 * USEC_PER_MSEC + 4 * USEC_PER_SEC,
                       "replayed first message, %s: tunnel_accept returns within its 0.5 s deadline (took %.3f s)", how,
                       (double) took / 1e6);
                close(sv[0]);
                if (res.r == 0)
                        tunnel_done(&res.t, true);
        }
        test_replay_blocking(first, psk);
}

/* The proven hook, and a responder that answers "busy". */
static void test_proven_and_busy(void) {
        static struct initiator ini;
        uint8_t psk[NOISE_KEY_SIZE], other[NOISE_KEY_SIZE], first[FIRST_MESSAGE];
        struct kairos_hello hello;
        struct responder res;
        struct tunnel t;
        pthread_t th;
        int sv[2], r;

        randombytes_buf(psk, sizeof psk);
        randombytes_buf(other, sizeof other);
        r = handshake(psk, psk, &t, &hello, &res);
        tap_ok(r == 0 && res.proven == 1, "the same secret: the proven hook is called once (%u)", res.proven);
        if (r == 0) {
                tunnel_done(&t, true);
                tunnel_done(&res.t, true);
        }
        r = handshake(psk, other, &t, &hello, &res);
        tap_ok(r < 0 && res.proven == 0, "another secret: the proven hook is never called (%u)", res.proven);

        /* A responder that refuses the connection: "busy" instead of its answer. */
        pair(sv);
        ini = (struct initiator) { .fd = sv[0], .psk = psk };
        start(&th, initiate, &ini);
        r = read_full(sv[1], first, sizeof first, deadline_after(HANDSHAKE_TIMEOUT));
        if (r == 0)
                r = write_full(sv[1], TUNNEL_BUSY_FRAME, sizeof TUNNEL_BUSY_FRAME - 1, deadline_after(HANDSHAKE_TIMEOUT));
        close(sv[1]);
        pthread_join(th, NULL);
        close(sv[0]);
        tap_ok(r == 0 && ini.r == -EUSERS, "a \"busy\" answer: tunnel_initiate fails with -EUSERS, not as a wrong secret (got %d)",
               ini.r);
}

static void watchdog(int sig) {
        static const char msg[] = "Bail out! test-tunnel took longer than 120 s\n";
        (void) sig;
        if (write(STDOUT_FILENO, msg, sizeof msg - 1) < 0)
                _exit(2);
        _exit(1);
}

int main(void) {
        if (sodium_init() < 0) {
                printf("Bail out! sodium_init failed\n");
                return 99;
        }
        signal(SIGPIPE, SIG_IGN);
        signal(SIGALRM, watchdog);
        alarm(120);

        server_hello = (struct kairos_hello) { .version = KAIROS_PROTOCOL_VERSION, .n_keys = 2 };
        strcpy(server_hello.hostname, "recovery-box");
        strcpy(server_hello.keys[0], host_keys[0]);
        strcpy(server_hello.keys[1], host_keys[1]);

        test_handshake();
        test_retired();
        test_pump();
        test_pump_tampered();
        test_pump_small_records();
        test_records_with_hello();
        test_early_data();
        test_replay();
        test_proven_and_busy();
        return tap_done();
}
