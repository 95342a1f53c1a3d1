/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dial-curl.h"
#include "dial-internal.h"
#include "macro.h"
#include "relay.h"

static void set_nodelay(int fd) {
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int) { 1 }, sizeof(int));
}

static int connect_addr(const struct addrinfo *ai, usec_t deadline, struct attempt *a) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        int r, err = 0;
        socklen_t len = sizeof err;

        if (fd < 0)
                return negative_errno();
        dial_set_fd(a, fd);
        set_nodelay(fd);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
                return negative_errno();
        r = fd_wait(fd, POLLOUT, deadline);
        if (r < 0)
                return r;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                return negative_errno();
        return err ? -err : fd;
}

void *dial_run_direct(void *userdata) {
        struct attempt *a = userdata;
        struct race *r = a->race;
        char last[600] = "", port[8];

        snprintf(port, sizeof port, "%u", a->port);
        if (dial_pause_for(r, a->delay))
                goto done;
        dial_say(r, "trying %s", a->label);
        while (!r->cancel && now_usec() < r->deadline) {
                struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *ai = NULL;
                int e = getaddrinfo(a->host, port, &hints, &ai);

                if (e != 0) {
                        dial_note_error(a, -EHOSTUNREACH, gai_strerror(e), last, sizeof last);
                        goto retry;
                }
                for (struct addrinfo *p = ai; p && !r->cancel; p = p->ai_next) {
                        struct kairos_hello hello;
                        struct tunnel t;
                        int fd = connect_addr(p, MIN(r->deadline, now_usec() + 5 * USEC_PER_SEC), a);
                        bool connected = fd >= 0;

                        if (fd >= 0) {
                                dial_direct_progress(a, true);
                                fd = tunnel_initiate_early(&t, fd, r->psk, &hello, MIN(r->deadline, now_usec() + 10 * USEC_PER_SEC),
                                                           r->early_fd);
                        }
                        if (fd >= 0) {
                                freeaddrinfo(ai);
                                dial_claim(a, &t, &hello);
                                goto done;
                        }
                        if (fd == -EKEYREVOKED) {
                                dial_note_error_at(a, fd, true, ROTATED_TEXT, last, sizeof last);
                                dial_drop_fd(a);
                                freeaddrinfo(ai);
                                goto done;
                        }
                        if (!r->cancel)
                                dial_note_error_at(a, fd, connected, fd == -EBADMSG || fd == -ECONNABORTED ?
                                              "answered, but does not hold this token's secret (another machine, an old token, or interference)" :
                                              fd == -EUSERS ? BUSY_TEXT :
                                              connected && fd == -ETIMEDOUT ? "accepted the connection, then never answered the handshake" :
                                              record_strerror(fd), last, sizeof last);
                        dial_drop_fd(a);
                }
                freeaddrinfo(ai);
        retry:
                dial_direct_progress(a, false);
                if (dial_pause_for(r, USEC_PER_SEC))
                        break;
        }
done:
        dial_attempt_finished(a);
        return NULL;
}

void *dial_run_relay(void *userdata) {
        struct attempt *a = userdata;
        struct race *r = a->race;
        char last[600] = "";
        unsigned slot = randombytes_uniform(KAIROS_RELAY_SLOTS);

        if (dial_head_start(r, a))
                goto done;
        dial_say(r, "trying %s", a->label);
        while (!r->cancel && now_usec() < r->deadline) {
                char err[300] = "";
                struct kairos_hello hello;
                struct tunnel t;
                int fd, k;

                fd = curl_dial(a->host, a->port, MIN(r->deadline - now_usec(), 10 * USEC_PER_SEC), &r->cancel,
                               err, sizeof err);
                if (fd < 0) {
                        if (!r->cancel)
                                dial_note_error(a, fd, err, last, sizeof last);
                        if (dial_pause_for(r, USEC_PER_SEC))
                                break;
                        continue;
                }
                dial_set_fd(a, fd);
                set_nodelay(fd);
                socket_set_keepalive(fd, 10, 5, 3);
                /* What to tell if time runs out while we wait here. */
                pthread_mutex_lock(&r->lock);
                if (r->last_rank == 0) {
                        snprintf(r->last_error, sizeof r->last_error, "%s: waiting for the recovery machine at the relay", a->label);
                        r->last_rank = 1;
                }
                pthread_mutex_unlock(&r->lock);
                k = relay_wait_paired(fd, r->channels[slot], r->side, MIN(r->deadline, now_usec() + r->slot_wait));
                bool paired = k >= 0;
                if (k >= 0)
                        k = tunnel_initiate_early(&t, fd, r->psk, &hello, MIN(r->deadline, now_usec() + 10 * USEC_PER_SEC),
                                                  r->early_fd);
                if (k >= 0)
                        t.quickack = true;
                if (k >= 0 && dial_claim(a, &t, &hello))
                        goto done;
                if (k >= 0 || r->cancel)
                        goto done;
                dial_drop_fd(a);
                if (paired && k == -EKEYREVOKED) {
                        dial_note_error(a, k, ROTATED_TEXT, last, sizeof last);
                        goto done;
                }
                if (paired && k == -EUSERS)
                        dial_note_error(a, k, BUSY_TEXT, last, sizeof last);
                else if (paired)
                        /* Whatever went wrong after "ok" (garbage, a close, silence):
                         * whoever paired with us does not hold the secret. */
                        dial_note_error(a, -ENOTCONN,
                                   k == -ETIMEDOUT ? "paired, but no answer to the handshake: interference at the relay? Use the direct path, or rotate the token" :
                                   "paired, but the handshake failed: interference at the relay? Use the direct path, or rotate the token",
                                   last, sizeof last);
                else if (k == -ECONNABORTED)
                        /* Closed by the relay right after pairing: the waiter we
                         * met had lost its way to the machine (a NAT that forgot
                         * it, an address change). Pairing proves the channel,
                         * so this is no wrong token: try the next slot. */
                        dial_note_error_at(a, -ECONNRESET, true, "paired with a stale waiter (its machine's side was gone); trying another slot",
                                   last, sizeof last);
                else if (k != -ECONNRESET && k != -ETIMEDOUT)
                        dial_note_error(a, k, k == -EBUSY || k == -EPROTO || k == -EBADMSG ? relay_strerror(k) : record_strerror(k),
                                   last, sizeof last);
                else
                        dial_note_error(a, k, "waiting for the recovery machine at the relay", last, sizeof last);
                /* Another slot; a short pause so a relay closing at once is not hammered. */
                slot = (slot + 1) % KAIROS_RELAY_SLOTS;
                if (dial_pause_for(r, k == -EUSERS ? 500 * USEC_PER_MSEC :
                                 k == -ECONNRESET || k == -ECONNABORTED ? 50 * USEC_PER_MSEC : 0))
                        break;
        }
done:
        dial_attempt_finished(a);
        return NULL;
}

