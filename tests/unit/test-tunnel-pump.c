/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tunnel's records after the handshake, over socketpairs, each end in
 * its own thread: 8 MiB each way at once through tunnel_pump, a tampered
 * record, many small records in one write, records right behind the hello,
 * ssh's banner sent with the key confirmation (early data), and ssh's second
 * small write not held back by Nagle against a delayed ACK. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "tap.h"
#include "tunnel-fixture.h"

#define PUMP_BYTES (8u << 20)

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

/* ---- Nagle against a delayed ACK ---- */

/* A loopback TCP connection, as ssh's to the bridge: [0] ssh's end (Nagle
 * on, as ssh leaves it without a pty), [1] the bridge's (TCP_NODELAY). */
static int tcp_pair(int sv[2]) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;
        _cleanup_close_ int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c = -EBADF;

        if (l < 0 || bind(l, (struct sockaddr *) &a, sizeof a) < 0 || listen(l, 1) < 0 ||
            getsockname(l, (struct sockaddr *) &a, &len) < 0)
                return -errno;
        c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0 || connect(c, (struct sockaddr *) &a, sizeof a) < 0)
                return -errno;
        sv[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (sv[1] < 0)
                return -errno;
        sv[0] = c;
        c = -EBADF;
        (void) setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &(int) { 1 }, sizeof(int));
        return 0;
}

static int compare_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

static int read_exactly(int fd, void *buf, size_t len) {
        for (size_t at = 0; at < len;) {
                ssize_t k = read(fd, (uint8_t *) buf + at, len - at);
                if (k <= 0)
                        return k < 0 ? -errno : -EPIPE;
                at += (size_t) k;
        }
        return 0;
}

/* The pattern of an SSH key exchange (NEWKEYS, then SERVICE_REQUEST): the
 * machine's answer arrives, ssh writes two small packets at once. ssh's
 * kernel sends the second only when the first is acknowledged; had the
 * bridge's kernel delayed that ACK (it does after it has just written to
 * ssh), the second would wait 40 ms, or a round trip of the path for the
 * next answer. The pump acknowledges small reads at once: the machine gets
 * the second packet right behind the first. */
static void test_nagle(void) {
        struct responder res;
        struct tunnel ini;
        static struct kairos_hello got;
        struct pump_arg pa, pb;
        pthread_t th[2];
        uint8_t psk[NOISE_KEY_SIZE], buf[256] = {};
        int ssh[2] = { -EBADF, -EBADF }, machine[2], r;
        double gap[8] = {}, median;
        int n = 0;

        randombytes_buf(psk, sizeof psk);
        r = handshake(psk, psk, &ini, &got, &res);
        if (!tap_ok(r == 0 && res.r == 0, "a tunnel for the Nagle check is established (got %d and %d)", r, res.r))
                return;
        r = tcp_pair(ssh);
        if (!tap_ok(r == 0, "a loopback TCP connection in place of ssh's (%d)", r))
                return;
        pair(machine);
        pa = (struct pump_arg) { .t = &ini, .plain = ssh[1] };
        pb = (struct pump_arg) { .t = &res.t, .plain = machine[1] };
        start(&th[0], pump, &pa);
        start(&th[1], pump, &pb);
        for (int i = 0; i < 8 && r == 0; i++) {
                usec_t first;

                r = write(machine[0], buf, 200) == 200 ? 0 : -EIO;
                if (r == 0)
                        r = read_exactly(ssh[0], buf, 200);
                if (r == 0)
                        r = write(ssh[0], buf, 16) == 16 && write(ssh[0], buf, 44) == 44 ? 0 : -EIO;
                if (r == 0)
                        r = read_exactly(machine[0], buf, 16);
                first = now_usec();
                if (r == 0)
                        r = read_exactly(machine[0], buf, 44);
                if (r == 0 && i > 0) /* the first comes before any ACK was delayed */
                        gap[n++] = (double) (now_usec() - first) / 1000.0;
                usleep(20000); /* the path, before the next answer */
        }
        /* The median of the rounds: a stall is in every one, a busy
         * machine's scheduling delay in a few. */
        qsort(gap, (size_t) n, sizeof gap[0], compare_double);
        median = n > 0 ? gap[n / 2] : 0;
        tap_ok(r == 0 && n == 7 && median < 20.0,
               "two small writes of ssh right after an answer: the second reaches the machine %.1f ms after the first "
               "(median of %d; under 20: not held by Nagle against a delayed ACK, 40 ms) (%d)", median, n, r);
        shutdown(ssh[0], SHUT_WR);
        shutdown(machine[0], SHUT_WR);
        for (int i = 0; i < 2; i++)
                pthread_join(th[i], NULL);
        tunnel_done(&ini, true);
        tunnel_done(&res.t, true);
        for (int i = 0; i < 2; i++)
                close(ssh[i]), close(machine[i]);
}

int main(void) {
        fixture_init("test-tunnel-pump");
        test_pump();
        test_pump_tampered();
        test_pump_small_records();
        test_records_with_hello();
        test_early_data();
        test_nagle();
        return tap_done();
}
