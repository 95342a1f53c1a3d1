/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tunnel over socketpairs, each end in its own thread: handshake and
 * hello, a wrong PSK, the answer to a rotated key, and a replayed first
 * handshake message, which must give an attacker nothing and cost the
 * responder no more than its deadline; the proven hook and "busy". The
 * records after the handshake: test-tunnel-pump. */
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
#include "tunnel-fixture.h"

#define FIRST_MESSAGE (RECORD_HEADER_SIZE + NOISE_DH_SIZE + NOISE_TAG_SIZE) /* e, and the tag of an empty payload */

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

int main(void) {
        fixture_init("test-tunnel");
        test_handshake();
        test_retired();
        test_replay();
        test_proven_and_busy();
        return tap_done();
}
