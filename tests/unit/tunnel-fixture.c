/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tunnel-fixture.h"

const char *const host_keys[2] = {
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC7eI2ennAip5kXazWB7cbH54ipW/EnAojok/8TIG/pt",
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBO5mLQVrz2y0rNjKHTztmySApDvQ5ZuQPrB4UV8Gl"
        "+B02/tIWQbms2A4DW3cvoUPTgXfzjLy0Y2FLlsl0T0G/Po=",
};

struct kairos_hello server_hello;


void on_proven(void *userdata) {
        ((struct responder *) userdata)->proven++;
}

void *respond(void *arg) {
        struct responder *s = arg;

        s->r = tunnel_accept(&s->t, s->fd, s->psk, deadline_after(s->timeout), on_proven, s);
        if (s->r == 0)
                s->r = tunnel_send_hello(&s->t, &server_hello, deadline_after(s->timeout));
        if (s->r < 0) /* as a daemon would: the initiator then sees the end at once */
                close(s->fd);
        return NULL;
}

void start(pthread_t *th, void *(*fn)(void *), void *arg) {
        if (pthread_create(th, NULL, fn, arg) != 0) {
                printf("Bail out! pthread_create failed\n");
                exit(1);
        }
}

void pair(int sv[2]) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                printf("Bail out! socketpair: %s\n", strerror(errno));
                exit(1);
        }
}

int handshake(const uint8_t *psk_i, const uint8_t *psk_r, struct tunnel *ini, struct kairos_hello *hello,
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

static const char *watched;

static void watchdog(int sig) {
        char msg[160];
        int n = snprintf(msg, sizeof msg, "Bail out! %s took longer than 120 s\n", watched);

        (void) sig;
        if (write(STDOUT_FILENO, msg, (size_t) n) < 0)
                _exit(2);
        _exit(1);
}

void fixture_init(const char *test_name) {
        if (sodium_init() < 0) {
                printf("Bail out! sodium_init failed\n");
                exit(99);
        }
        watched = test_name;
        signal(SIGPIPE, SIG_IGN);
        signal(SIGALRM, watchdog);
        alarm(120);
        server_hello = (struct kairos_hello) { .version = KAIROS_PROTOCOL_VERSION, .n_keys = 2 };
        strcpy(server_hello.hostname, "recovery-box");
        strcpy(server_hello.keys[0], host_keys[0]);
        strcpy(server_hello.keys[1], host_keys[1]);
}
