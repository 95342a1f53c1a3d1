/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "resolve.h"

/* Shared by the loop and the thread; the last of the two frees it. */
struct resolve_query {
        atomic_int refs;
        char host[256], port[8];
        int pipe[2];
        sd_event_source *io;
        resolve_callback_t cb;
        void *userdata;
        int error;
        struct sockaddr_storage addr;
        socklen_t len;
};

static void query_unref(struct resolve_query *q) {
        if (atomic_fetch_sub(&q->refs, 1) != 1)
                return;
        if (q->pipe[0] >= 0)
                close(q->pipe[0]);
        if (q->pipe[1] >= 0)
                close(q->pipe[1]);
        free(q);
}

static void *run(void *userdata) {
        struct resolve_query *q = userdata;
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *ai = NULL;
        char done = 1;

        q->error = getaddrinfo(q->host, q->port, &hints, &ai);
        if (q->error == 0 && ai) {
                memcpy(&q->addr, ai->ai_addr, ai->ai_addrlen);
                q->len = ai->ai_addrlen;
        } else if (q->error == 0)
                q->error = EAI_NONAME;
        if (ai)
                freeaddrinfo(ai);
        (void) !write(q->pipe[1], &done, 1);
        query_unref(q);
        return NULL;
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct resolve_query *q = userdata;

        q->io = sd_event_source_disable_unref(q->io);
        q->cb(q->error, q->error ? NULL : (const struct sockaddr *) &q->addr, q->len, q->userdata);
        query_unref(q);
        return 0;
}

int resolve_start(sd_event *event, const char *host, uint16_t port, resolve_callback_t cb, void *userdata,
                  struct resolve_query **ret) {
        struct resolve_query *q;
        pthread_attr_t attr;
        pthread_t th;
        int r;

        q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        q->pipe[0] = q->pipe[1] = -1;
        atomic_init(&q->refs, 2);
        snprintf(q->host, sizeof q->host, "%s", host);
        snprintf(q->port, sizeof q->port, "%u", port);
        q->cb = cb;
        q->userdata = userdata;
        if (pipe2(q->pipe, O_CLOEXEC) < 0) {
                free(q);
                return negative_errno();
        }
        r = sd_event_add_io(event, &q->io, q->pipe[0], EPOLLIN, on_done, q);
        if (r < 0) {
                close(q->pipe[0]);
                close(q->pipe[1]);
                free(q);
                return r;
        }
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = -pthread_create(&th, &attr, run, q);
        pthread_attr_destroy(&attr);
        if (r < 0) {
                q->io = sd_event_source_disable_unref(q->io);
                atomic_store(&q->refs, 1);
                query_unref(q);
                return r;
        }
        *ret = q;
        return 0;
}

struct resolve_query *resolve_cancel(struct resolve_query *q) {
        if (!q)
                return NULL;
        q->io = sd_event_source_disable_unref(q->io);
        query_unref(q);
        return NULL;
}
