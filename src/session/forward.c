/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* direct-tcpip channels (ssh -L, ssh -W). libssh 0.10 has no server
 * callback for them, so they come as queued messages; the reply (channel
 * open or failure) waits until the connection to the target is made, by a
 * thread, so that a slow name lookup or a silent target never stalls the
 * other channels of the connection. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

#define FORWARD_CONNECT_TIMEOUT_SEC 15
#define FORWARDS_PENDING_MAX 16

struct forward_request {
        struct forward_request *next;
        ssh_message msg;
        char host[256];
        char port[8];
        int notify_fd;
        /* set by the thread */
        int fd;
        int error;
};

/* Requests still in a thread when the session ended: kept reachable until
 * the process exits (the threads cannot be interrupted in getaddrinfo). */
static struct forward_request *abandoned;

static int connect_one(const struct addrinfo *ai, usec_t deadline) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        int r, error = 0;
        socklen_t len = sizeof error;

        if (fd < 0)
                return negative_errno();
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
                r = negative_errno();
                close(fd);
                return r;
        }
        r = fd_wait(fd, POLLOUT, deadline);
        if (r >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                r = negative_errno();
        else if (r >= 0 && error)
                r = -error;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

static void *connect_thread(void *userdata) {
        struct forward_request *f = userdata;
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *ai = NULL;
        usec_t deadline = deadline_after(FORWARD_CONNECT_TIMEOUT_SEC * USEC_PER_SEC);
        int r;

        f->fd = -EBADF;
        r = getaddrinfo(f->host, f->port, &hints, &ai);
        if (r != 0)
                f->error = r == EAI_SYSTEM ? negative_errno() : -EHOSTUNREACH;
        else {
                f->error = -EHOSTUNREACH;
                for (struct addrinfo *a = ai; a && f->fd < 0; a = a->ai_next) {
                        r = connect_one(a, deadline);
                        if (r >= 0)
                                f->fd = r;
                        else
                                f->error = r;
                }
                freeaddrinfo(ai);
        }
        if (f->fd >= 0) {
                int one = 1;

                setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                f->error = 0;
        }
        /* A pointer is far below PIPE_BUF: the write is atomic. */
        if (write(f->notify_fd, &f, sizeof f) != (ssize_t) sizeof f)
                log_error_errno(negative_errno(), "Cannot hand a forwarded connection back: %m");
        return NULL;
}

int forward_open(struct server *s, ssh_message msg) {
        const char *host = ssh_message_channel_request_open_destination(msg);
        int port = ssh_message_channel_request_open_destination_port(msg);
        struct forward_request *f;
        pthread_attr_t attr;
        pthread_t thread;
        size_t pending = 0;
        int r;

        for (f = s->forwards; f; f = f->next)
                pending++;
        if (!host || !*host || strlen(host) >= sizeof f->host || port <= 0 || port > 65535 ||
            pending >= FORWARDS_PENDING_MAX)
                return -EINVAL;
        f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        f->msg = msg;
        snprintf(f->host, sizeof f->host, "%s", host);
        snprintf(f->port, sizeof f->port, "%d", port);
        f->notify_fd = s->forward_notify[1];
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = -pthread_create(&thread, &attr, connect_thread, f);
        pthread_attr_destroy(&attr);
        if (r < 0) {
                free(f);
                return log_error_errno(r, "Cannot start a connect thread: %m");
        }
        f->next = s->forwards;
        s->forwards = f;
        log_debug("Forwarding to %s port %s requested.", f->host, f->port);
        return 0;
}

static void unlink_request(struct server *s, struct forward_request *f) {
        for (struct forward_request **p = &s->forwards; *p; p = &(*p)->next)
                if (*p == f) {
                        *p = f->next;
                        return;
                }
}

static void complete(struct server *s, struct forward_request *f) {
        char name[300];

        snprintf(name, sizeof name, "forward to %s port %s", f->host, f->port);
        if (f->fd >= 0 && !s->done && s->n_channels < CHANNELS_MAX) {
                ssh_channel c = ssh_message_channel_request_open_reply_accept(f->msg);
                struct channel *ch = c ? chan_new(s, c, CHANNEL_FORWARD, name) : NULL;

                if (ch) {
                        chan_attach(ch, f->fd, true, f->fd, -1);
                        f->fd = -EBADF;
                        log_info("%s: connected.", ch->name);
                } else if (c) {
                        ssh_channel_close(c);
                        ssh_channel_free(c);
                }
        } else {
                /* libssh can only say "administratively prohibited"; the
                 * real reason is in our log. */
                log_full(LOG_NOTICE, f->error, "Cannot open %s: %m", name);
                ssh_message_reply_default(f->msg);
        }
        closep(&f->fd);
        ssh_message_free(f->msg);
        free(f);
}

void forward_complete(struct server *s) {
        struct forward_request *f;

        while (read(s->forward_notify[0], &f, sizeof f) == (ssize_t) sizeof f) {
                unlink_request(s, f);
                complete(s, f);
        }
}

void forwards_abandon(struct server *s) {
        while (s->forwards) {
                struct forward_request *f = s->forwards;

                s->forwards = f->next;
                /* The message belongs to the session, which goes now. */
                ssh_message_free(f->msg);
                f->msg = NULL;
                f->next = abandoned;
                abandoned = f;
        }
}
