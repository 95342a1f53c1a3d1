/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "serve.h"

struct bridge {
        struct dial_options options;
        struct bridge_callbacks cb;
        void *userdata;
        pthread_mutex_t lock;
        pthread_cond_t idle;
        unsigned connections;
        unsigned threads; /* serving threads alive: the bridge is freed only at 0 */
        enum dial_path preferred;
        int stop[2]; /* readable once the bridge stops: every pump ends */
        int warn[2]; /* readable after a first Ctrl-C with sessions open */
        usec_t warned_at; /* when that Ctrl-C was said; 0 if none */
        /* The machine proved the token was rotated: no new connection can
         * be carried; the bridge stops once the open ones have ended. */
        bool rotated;
        /* The probe's tunnel, kept for the first ssh until spare_until: its
         * TCP connection and handshake are done, 3 round trips saved. */
        struct dial_result *spare;
        usec_t spare_until;
};

struct connection {
        struct bridge *b;
        int fd;
};

static void expire_spare(struct bridge *b, bool force);

struct bridge *bridge_new(const struct dial_options *o, const struct bridge_callbacks *cb, void *userdata) {
        struct bridge *b = calloc(1, sizeof *b);

        if (!b)
                return NULL;
        b->options = *o;
        b->cb = *cb;
        b->userdata = userdata;
        b->preferred = o->prefer;
        pthread_mutex_init(&b->lock, NULL);
        pthread_cond_init(&b->idle, NULL);
        if (pipe2(b->stop, O_CLOEXEC) < 0) {
                free(b);
                return NULL;
        }
        if (pipe2(b->warn, O_CLOEXEC | O_NONBLOCK) < 0) {
                close(b->stop[0]);
                close(b->stop[1]);
                free(b);
                return NULL;
        }
        b->options.cancel_fd = b->stop[0];
        return b;
}

void bridge_free(struct bridge *b) {
        if (!b)
                return;
        expire_spare(b, true);
        close(b->stop[0]);
        close(b->stop[1]);
        close(b->warn[0]);
        close(b->warn[1]);
        pthread_mutex_destroy(&b->lock);
        pthread_cond_destroy(&b->idle);
        free(b);
}

/* Dials with the path that won last time first. Progress is for the first
 * dial only: later, each ssh connection would repeat it. */
static int dial_preferred(struct bridge *b, struct dial_result *res, bool progress, int early_fd) {
        struct dial_options o;
        int r;

        pthread_mutex_lock(&b->lock);
        o = b->options;
        o.prefer = b->preferred;
        o.early_fd = early_fd;
        pthread_mutex_unlock(&b->lock);
        if (!progress) {
                o.progress = NULL;
                /* The machine took this token before: a "not this token" now
                 * means it was rotated, and no other path will do. */
                o.stop_on_rejection = true;
        }
        r = dial(&o, res);
        if (r >= 0) {
                pthread_mutex_lock(&b->lock);
                b->preferred = res->path;
                pthread_mutex_unlock(&b->lock);
        }
        return r;
}

/* A clean end, so the daemon logs a close and not an error. */
static void close_tunnel(struct tunnel *t) {
        uint8_t buf[RECORD_MAX_WIRE];
        int n = record_seal(&t->send, RECORD_CLOSE, NULL, 0, buf);

        if (n > 0)
                (void) write_full(t->fd, buf, (size_t) n, deadline_after(USEC_PER_SEC));
        tunnel_done(t, true);
}

int bridge_probe(struct bridge *b, struct dial_result *res) {
        int r = dial_preferred(b, res, true, -1);

        if (r < 0)
                return r;
        /* Kept for the first ssh, which then starts its SSH handshake at
         * once. Only for a while: the machine gives a tunnel that does not
         * log in BRIDGE_SPARE_USEC * 2 at least (its login timeout), and
         * one nobody uses should not stay open. */
        pthread_mutex_lock(&b->lock);
        b->spare = malloc(sizeof *b->spare);
        if (b->spare) {
                *b->spare = *res;
                b->spare_until = now_usec() + BRIDGE_SPARE_USEC;
        }
        pthread_mutex_unlock(&b->lock);
        if (!b->spare)
                close_tunnel(&res->tunnel);
        res->tunnel.fd = -EBADF; /* the spare's now */
        return 0;
}

/* The spare if it is still fresh and alive, else NULL (and it is closed):
 * a spare the machine or the path ended (a FIN or a reset, seen without
 * reading) must not cost anyone the time to find that out. */
static struct dial_result *take_spare(struct bridge *b) {
        struct dial_result *s;

        pthread_mutex_lock(&b->lock);
        s = b->spare;
        b->spare = NULL;
        pthread_mutex_unlock(&b->lock);
        if (!s)
                return NULL;
        if (now_usec() < b->spare_until) {
                struct pollfd p = { .fd = s->tunnel.fd, .events = POLLRDHUP };

                if (poll(&p, 1, 0) == 0)
                        return s;
        }
        close_tunnel(&s->tunnel);
        free(s);
        return NULL;
}

/* Closes the spare when its time is up (or at once, if force). */
static void expire_spare(struct bridge *b, bool force) {
        struct dial_result *s = NULL;

        pthread_mutex_lock(&b->lock);
        if (b->spare && (force || now_usec() >= b->spare_until)) {
                s = b->spare;
                b->spare = NULL;
        }
        pthread_mutex_unlock(&b->lock);
        if (s) {
                close_tunnel(&s->tunnel);
                free(s);
        }
}

/* Open sessions, for the SIGINT handler (which may not take the lock). */
static volatile sig_atomic_t sessions_open, stopped_by;

static void count(struct bridge *b, int delta, const struct dial_result *res) {
        unsigned n;

        pthread_mutex_lock(&b->lock);
        b->connections += (unsigned) delta;
        n = b->connections;
        sessions_open = (sig_atomic_t) n;
        /* Ctrl-C came while sessions were open, and now they have all
         * ended (often only the last ssh's close, a moment behind the
         * keypress): what was asked for, stopping, happens now. */
        if (n == 0 && b->warned_at > 0 && now_usec() - b->warned_at <= BRIDGE_SIGINT_WINDOW_USEC) {
                char x = 1;

                stopped_by = SIGINT;
                (void) !write(b->stop[1], &x, 1);
        }
        /* Rotated: nothing more to carry once the sessions logged in
         * before (which the machine keeps) have ended. */
        if (n == 0 && b->rotated) {
                char x = 1;

                (void) !write(b->stop[1], &x, 1);
        }
        if (n == 0)
                pthread_cond_broadcast(&b->idle);
        pthread_mutex_unlock(&b->lock);
        if (b->cb.changed)
                b->cb.changed(b->userdata, n, res ? res->path : DIAL_PATH_NONE, res ? res->where : "");
}

/* A serving thread's very last touch of the bridge: once threads is 0,
 * stop_all() returns and the bridge may be freed, so nothing may follow. */
static void thread_done(struct bridge *b) {
        pthread_mutex_lock(&b->lock);
        if (--b->threads == 0)
                pthread_cond_broadcast(&b->idle);
        pthread_mutex_unlock(&b->lock);
}

static void *serve_connection(void *userdata) {
        struct connection *c = userdata;
        struct bridge *b = c->b;
        struct dial_result res, *spare = take_spare(b);
        int r;

        if (spare) {
                res = *spare;
                free(spare);
                r = 0;
        } else
                /* ssh's banner, written the moment it connected, goes along
                 * with the key confirmation: a round trip less to the prompt. */
                r = dial_preferred(b, &res, false, c->fd);
        if (r < 0) {
                if (r == -EKEYREVOKED) {
                        pthread_mutex_lock(&b->lock);
                        b->rotated = true;
                        pthread_mutex_unlock(&b->lock);
                }
                /* The ssh connection ends at once: ssh says so, and the
                 * callback tells the user why. */
                close(c->fd);
                if (r != -ECANCELED && b->cb.failed)
                        b->cb.failed(b->userdata, &res);
                count(b, -1, NULL);
                free(c);
                thread_done(b);
                return NULL;
        }
        count(b, 0, &res);
        r = tunnel_pump(&res.tunnel, c->fd, c->fd, b->stop[0], NULL);
        if (r < 0 && r != -ECANCELED)
                log_warning("Connection through %s ended: %s.", res.where, record_strerror(r));
        tunnel_done(&res.tunnel, true);
        close(c->fd);
        count(b, -1, &res);
        free(c);
        thread_done(b);
        return NULL;
}

static int listen_unix(const char *path, char *shown, size_t shown_size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct stat st;
        mode_t old;
        int fd, r;

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        /* A socket left by an earlier bridge goes; anything else stays. */
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
                        return -EEXIST;
                if (connect_unix_probe(&sa) == 0)
                        return -EADDRINUSE;
                (void) unlink(path);
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        /* Only its owner may connect: it leads to a root shell. */
        old = umask(0177);
        r = bind(fd, (struct sockaddr *) &sa, sizeof sa);
        umask(old);
        if (r < 0 || listen(fd, 64) < 0) {
                r = negative_errno();
                close(fd);
                return r;
        }
        snprintf(shown, shown_size, "%s", path);
        return fd;
}

int connect_unix_probe(const struct sockaddr_un *sa) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

        if (fd < 0)
                return negative_errno();
        r = connect(fd, (const struct sockaddr *) sa, sizeof *sa) < 0 ? negative_errno() : 0;
        close(fd);
        return r;
}

bool bridge_listen_is_unix(const char *spec) {
        return strchr(spec, '/') != NULL;
}

int bridge_listen_check(const char *spec) {
        char host[256], buf[300];
        uint16_t port;

        if (bridge_listen_is_unix(spec))
                return strlen(spec) < sizeof(((struct sockaddr_un *) NULL)->sun_path) ? 0 : -ENAMETOOLONG;
        if (snprintf(buf, sizeof buf, "tcp:%s", spec) >= (int) sizeof buf)
                return -EINVAL;
        /* relay_parse() refuses port 0; --listen takes it (a free port). */
        {
                size_t n = strlen(buf);
                if (n >= 2 && !strcmp(buf + n - 2, ":0"))
                        snprintf(buf + n - 1, sizeof buf - (n - 1), "1");
        }
        return relay_parse(buf, host, sizeof host, &port);
}

int bridge_listen(const char *spec, bool allow_remote, char *shown, size_t shown_size) {
        char host[256], buf[300], port_s[8];
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_PASSIVE }, *ai = NULL;
        struct sockaddr_storage bound;
        socklen_t bound_len = sizeof bound;
        uint16_t port;
        bool any_port = false;
        int fd, one = 1, r;

        if (bridge_listen_is_unix(spec))
                return listen_unix(spec, shown, shown_size);
        if (bridge_listen_check(spec) < 0)
                return -EINVAL;
        snprintf(buf, sizeof buf, "tcp:%s", spec);
        {
                size_t n = strlen(buf);
                if (n >= 2 && !strcmp(buf + n - 2, ":0")) {
                        any_port = true;
                        snprintf(buf + n - 1, sizeof buf - (n - 1), "1");
                }
        }
        if (relay_parse(buf, host, sizeof host, &port) < 0)
                return -EINVAL;
        snprintf(port_s, sizeof port_s, "%u", any_port ? 0 : port);
        if (getaddrinfo(host, port_s, &hints, &ai) != 0)
                return -EINVAL;
        if (!allow_remote) {
                bool loopback = ai->ai_family == AF_INET ?
                        (ntohl(((struct sockaddr_in *) ai->ai_addr)->sin_addr.s_addr) >> 24) == 127 :
                        IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr);
                if (!loopback) {
                        freeaddrinfo(ai);
                        return -EPERM;
                }
        }
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                freeaddrinfo(ai);
                return negative_errno();
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
                r = negative_errno();
                close(fd);
                freeaddrinfo(ai);
                return r;
        }
        freeaddrinfo(ai);
        /* Port 0: the kernel's choice, read back for the ssh command. */
        if (getsockname(fd, (struct sockaddr *) &bound, &bound_len) == 0)
                port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &bound)->sin6_port :
                                                           ((struct sockaddr_in *) &bound)->sin_port);
        snprintf(shown, shown_size, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
        return fd;
}

static void stop_all(struct bridge *b) {
        char x = 1;

        (void) !write(b->stop[1], &x, 1); /* for the pumps, if the loop ended otherwise */
        pthread_mutex_lock(&b->lock);
        while (b->connections > 0 || b->threads > 0)
                pthread_cond_wait(&b->idle, &b->lock);
        pthread_mutex_unlock(&b->lock);
}

/* SIGTERM, and SIGINT with no session open, write to the stop pipe:
 * dialing, the accept loop and every pump watch its reading end. A first
 * SIGINT with sessions open only warns (a stray Ctrl-C must not kill an
 * fsck); a second within BRIDGE_SIGINT_WINDOW_USEC stops. */
static int stop_write_fd = -1, warn_write_fd = -1;
static usec_t last_sigint; /* touched by the handler only */

static void on_signal(int sig) {
        char x = 1;
        int saved = errno;

        if (sig == SIGINT && sessions_open > 0) {
                usec_t now = now_usec();

                if (last_sigint == 0 || now - last_sigint > BRIDGE_SIGINT_WINDOW_USEC) {
                        last_sigint = now;
                        (void) !write(warn_write_fd, &x, 1);
                        errno = saved;
                        return;
                }
        }
        stopped_by = sig;
        (void) !write(stop_write_fd, &x, 1);
        errno = saved;
}

void bridge_handle_signals(struct bridge *b) {
        struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

        stop_write_fd = b->stop[1];
        warn_write_fd = b->warn[1];
        sigemptyset(&sa.sa_mask);
        sigaddset(&sa.sa_mask, SIGINT);
        sigaddset(&sa.sa_mask, SIGTERM);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
}

int bridge_stopped_by(void) {
        return stopped_by;
}

bool bridge_rotated(struct bridge *b) {
        bool r;

        pthread_mutex_lock(&b->lock);
        r = b->rotated;
        pthread_mutex_unlock(&b->lock);
        return r;
}

unsigned bridge_connections(struct bridge *b) {
        unsigned n;

        pthread_mutex_lock(&b->lock);
        n = b->connections;
        pthread_mutex_unlock(&b->lock);
        return n;
}

int bridge_serve(struct bridge *b, int listen_fd) {
        for (;;) {
                struct pollfd p[3] = { { .fd = listen_fd, .events = POLLIN }, { .fd = b->stop[0], .events = POLLIN },
                                       { .fd = b->warn[0], .events = POLLIN } };
                pthread_attr_t attr;
                struct connection *c;
                pthread_t th;
                int fd, wait_ms = -1;

                pthread_mutex_lock(&b->lock);
                if (b->spare)
                        wait_ms = (int) ((b->spare_until - MIN(now_usec(), b->spare_until)) / USEC_PER_MSEC) + 1;
                pthread_mutex_unlock(&b->lock);
                if (poll(p, 3, wait_ms) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[1].revents)
                        break;
                expire_spare(b, false);
                if (p[2].revents) {
                        char drain[16];

                        unsigned n;

                        while (read(b->warn[0], drain, sizeof drain) > 0)
                                ;
                        pthread_mutex_lock(&b->lock);
                        b->warned_at = now_usec();
                        n = b->connections;
                        pthread_mutex_unlock(&b->lock);
                        if (n == 0) /* all ended since the keypress */
                                break;
                        if (b->cb.interrupted)
                                b->cb.interrupted(b->userdata, n);
                        continue;
                }
                if (!p[0].revents)
                        continue;
                fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;
                if (bridge_rotated(b)) {
                        /* Known already: no need to ask the machine again. */
                        struct dial_result res = { .rotated = true, .tunnel.fd = -1 };

                        close(fd);
                        snprintf(res.last_error, sizeof res.last_error, "the machine said so before");
                        if (b->cb.failed)
                                b->cb.failed(b->userdata, &res);
                        continue;
                }
                /* What comes from the tunnel goes on to ssh at once: a reply's
                 * tail must not wait for ssh's delayed ACK (see dial.c). */
                (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int) { 1 }, sizeof(int));
                c = malloc(sizeof *c);
                if (!c) {
                        close(fd);
                        continue;
                }
                *c = (struct connection) { .b = b, .fd = fd };
                count(b, +1, NULL);
                pthread_mutex_lock(&b->lock);
                b->threads++;
                pthread_mutex_unlock(&b->lock);
                pthread_attr_init(&attr);
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                if (pthread_create(&th, &attr, serve_connection, c) != 0) {
                        close(fd);
                        free(c);
                        count(b, -1, NULL);
                        thread_done(b);
                }
                pthread_attr_destroy(&attr);
        }
        close(listen_fd);
        expire_spare(b, true);
        stop_all(b);
        (void) dial_wait_idle(2 * USEC_PER_SEC);
        return 0;
}

int bridge_stdio(struct bridge *b, struct dial_result *res, void (*ready)(const struct dial_result *res, void *userdata),
                 void *userdata) {
        int r = dial_preferred(b, res, true, -1);

        if (r < 0)
                return r;
        if (ready)
                ready(res, userdata);
        r = tunnel_pump(&res->tunnel, STDIN_FILENO, STDOUT_FILENO, b->stop[0], NULL);
        tunnel_done(&res->tunnel, true);
        (void) dial_wait_idle(2 * USEC_PER_SEC);
        return r;
}
