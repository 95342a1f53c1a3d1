/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * delay-forward: a TCP forwarder that makes a loopback or veth hop look like
 * a long path, for tests and benchmarks on a kernel without netem.
 *
 *   delay-forward [--delay MS] [--rate BYTES/S] [--queue BYTES]
 *                 [--no-handshake] [--port-file FILE] [--control FILE]
 *                 [--trace] LISTEN-ADDR:PORT TARGET-ADDR:PORT
 *
 * It accepts connections on LISTEN (port 0: a free one, written to
 * --port-file and to stdout) and connects each to TARGET. Every chunk read
 * from one side is written to the other MS milliseconds later (the one-way
 * delay, the same in each direction, so a round trip through one forwarder
 * costs 2 x MS), in order. With --rate each direction is a link of that many
 * bytes a second: a chunk leaves when the link is free, takes len/rate to
 * send, and arrives MS after that. At most --queue bytes are held per
 * direction (default: what the link holds in flight plus 4 MiB); beyond that
 * the forwarder stops reading, and the sender's TCP flow control pushes back.
 *
 * TCP itself ends at the forwarder, so the kernel's round trip on each
 * side is loopback's: what a long path does to the endpoints' own TCP window
 * is not reproduced; what it does to every protocol on top (round trips of
 * handshakes, SSH channel windows, request pipelining) is. The TCP handshake
 * is modelled: a connection reaches TARGET 1.5 round trips (3 x MS) after it
 * was accepted, so data sent at once after connect() arrives when it would
 * have on a real path (--no-handshake: MS after). A half-close (EOF) and a
 * reset are passed on after the delay too.
 *
 * One process, epoll and a timerfd; each direction's queue is in delivery
 * order by construction (a fixed delay after a monotonic departure), so
 * the next deadline is the earliest head of all queues. SIGTERM ends it.
 *
 * --trace: a line on stderr for each chunk read, for counting a protocol's
 * round trips (bench/long-path follows the chain of chunks back from the
 * last one, each sent after the one delivered to its sender before it):
 *   trace READ-MS CONN c|s BYTES DELIVER-MS [first=TEXT]
 * READ-MS and DELIVER-MS on CLOCK_MONOTONIC (DELIVER-MS: when the chunk is
 * due at the other side, the modelled TCP handshake included), CONN the
 * connection's number, c a chunk from the side that connected to this
 * forwarder, s one from the target; first=: the printable start of a
 * connection's first chunk from its client (a relay's "please relay ...").
 *
 * --control FILE: on SIGHUP, "MS [RATE]" is read from FILE and applies to
 * what is read from then on, on every connection (a benchmark changes the
 * path under a daemon whose token names this forwarder).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define MAX_FDS 65536
#define CHUNK_MAX (64 * 1024)

struct chunk {
        struct chunk *next;
        uint64_t due;           /* ns, CLOCK_MONOTONIC: when it may be written */
        size_t len, off;
        bool eof;               /* a half-close rather than bytes */
        char data[];
};

struct dir {                    /* one direction: read from 'from', write to 'to' */
        int from, to;
        struct chunk *head, *tail;
        size_t held;            /* bytes queued, not yet written */
        uint64_t link_free;     /* ns: when the rate-limited link is free again */
        bool read_eof;          /* no more reading from 'from' */
        bool blocked;           /* 'to' was full: wait for EPOLLOUT, not the timer */
        bool done;              /* EOF passed on */
};

struct conn {
        int client, server;
        uint64_t connect_at;    /* ns: when to connect to the target; 0 once done */
        bool connecting;        /* connect() in progress */
        bool dead;
        uint64_t die_at;        /* ns: close both (a reset passed on), 0 if not */
        unsigned serial;        /* --trace: the connection's number */
        bool traced_first;      /* --trace: its client's first chunk shown */
        struct dir d[2];        /* [0] client -> server, [1] server -> client */
};

static uint64_t delay_ns, rate, queue_max;
static bool queue_fixed;
static bool trace; /* --trace: each chunk read, to stderr */
static const char *control_file;
static volatile sig_atomic_t reload;
static bool handshake = true;
static struct sockaddr_storage target;
static socklen_t target_len;
static struct conn *conns[MAX_CONNS];
static int n_slots; /* conns[] is used below this */
static unsigned n_accepted;
static struct conn *fd_conn[MAX_FDS];
static uint32_t fd_ev[MAX_FDS]; /* the epoll interest; FD_OFF: not in the set */
#define FD_OFF UINT32_MAX
static int epfd, tfd, lfd;

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len) {
        char host[256];
        const char *colon = strrchr(s, ':');
        if (!colon || (size_t) (colon - s) >= sizeof host)
                return -EINVAL;
        memcpy(host, s, (size_t) (colon - s));
        host[colon - s] = 0;
        char *h = host;
        if (h[0] == '[' && h[strlen(h) - 1] == ']') {
                h[strlen(h) - 1] = 0;
                h++;
        }
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
        struct addrinfo *ai;
        if (getaddrinfo(h, colon + 1, &hints, &ai) != 0)
                return -EINVAL;
        memcpy(ss, ai->ai_addr, ai->ai_addrlen);
        *len = ai->ai_addrlen;
        freeaddrinfo(ai);
        return 0;
}

static void set_nodelay(int fd) {
        /* The forwarder is the wire: it must not hold small writes back. */
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int) { 1 }, sizeof(int));
}

/* The epoll interest of one socket from what both directions want. A
 * socket with no interest leaves the set: a hang-up or an error is always
 * reported, and would spin the loop while its queue drains. */
static void update_fd(struct conn *c, int fd) {
        if (fd < 0)
                return;
        uint32_t ev = 0;
        for (int i = 0; i < 2; i++) {
                struct dir *d = &c->d[i];
                if (d->from == fd && !d->read_eof && d->held < queue_max)
                        ev |= EPOLLIN;
                /* Writable is waited for only when a due chunk did not fit. */
                if (d->to == fd && d->head && d->blocked)
                        ev |= EPOLLOUT;
        }
        if (ev == fd_ev[fd])
                return;
        if (ev == 0) {
                (void) epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
                fd_ev[fd] = FD_OFF;
                return;
        }
        struct epoll_event e = { .events = ev, .data.fd = fd };
        (void) epoll_ctl(epfd, fd_ev[fd] == FD_OFF ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &e);
        fd_ev[fd] = ev;
}

static void update(struct conn *c) {
        update_fd(c, c->client);
        if (!c->connecting)
                update_fd(c, c->server);
}

static void conn_free(int slot) {
        struct conn *c = conns[slot];
        for (int i = 0; i < 2; i++)
                for (struct chunk *k = c->d[i].head, *n; k; k = n) {
                        n = k->next;
                        free(k);
                }
        int fds[2] = { c->client, c->server };
        for (int i = 0; i < 2; i++)
                if (fds[i] >= 0) {
                        if (fd_ev[fds[i]] != FD_OFF)
                                (void) epoll_ctl(epfd, EPOLL_CTL_DEL, fds[i], NULL);
                        fd_ev[fds[i]] = FD_OFF;
                        fd_conn[fds[i]] = NULL;
                        close(fds[i]);
                }
        free(c);
        conns[slot] = NULL;
}

static void trace_chunk(struct conn *c, const struct dir *d, const char *buf, size_t len, uint64_t now,
                        uint64_t due) {
        bool from_client = d == &c->d[0];
        /* Held until the modelled TCP handshake has connected the target. */
        if (from_client && c->connect_at > due)
                due = c->connect_at;
        fprintf(stderr, "trace %.3f %u %c %zu %.3f", (double) now / 1e6, c->serial, from_client ? 'c' : 's', len,
                (double) due / 1e6);
        if (from_client && !c->traced_first && len > 0) {
                c->traced_first = true;
                fputs(" first=", stderr);
                for (size_t i = 0; i < len && i < 100 && buf[i] >= 0x20 && buf[i] < 0x7f; i++)
                        fputc(buf[i], stderr);
        }
        fputc('\n', stderr);
}

static void enqueue(struct conn *c, struct dir *d, const char *buf, size_t len, bool eof) {
        struct chunk *k = malloc(sizeof *k + len);
        if (!k) {
                perror("delay-forward: malloc");
                exit(1);
        }
        uint64_t now = now_ns(), depart = now;
        if (rate > 0) {
                if (d->link_free > depart)
                        depart = d->link_free;
                depart += (uint64_t) len * 1000000000ULL / rate;
                d->link_free = depart;
        }
        *k = (struct chunk) { .due = depart + delay_ns, .len = len, .eof = eof };
        if (len > 0) /* an EOF chunk has no data, and buf may be NULL */
                memcpy(k->data, buf, len);
        /* Keep the order even if the clock's reading went backwards. */
        if (d->tail && k->due < d->tail->due)
                k->due = d->tail->due;
        if (d->tail)
                d->tail->next = k;
        else
                d->head = k;
        d->tail = k;
        d->held += len;
        if (trace)
                trace_chunk(c, d, buf, len, now, k->due);
}

/* A reset or an error on one side: the other side is closed once the
 * delay has passed, as a reset would arrive. */
static void conn_abort(struct conn *c) {
        if (c->die_at == 0)
                c->die_at = now_ns() + delay_ns;
        c->d[0].read_eof = c->d[1].read_eof = true;
}

static void do_read(struct conn *c, struct dir *d) {
        static char buf[CHUNK_MAX];
        /* Under a rate, smaller chunks pace more smoothly. */
        size_t want = rate > 0 && rate < 64 * 1024 * 1024 ? 16 * 1024 : CHUNK_MAX;
        for (int rounds = 0; rounds < 16 && !d->read_eof && d->held < queue_max; rounds++) {
                ssize_t n = read(d->from, buf, want);
                if (n > 0) {
                        enqueue(c, d, buf, (size_t) n, false);
                        if ((size_t) n < want)
                                break;
                } else if (n == 0) {
                        d->read_eof = true;
                        enqueue(c, d, NULL, 0, true);
                } else if (errno == EAGAIN || errno == EINTR) {
                        break;
                } else {
                        conn_abort(c);
                }
        }
}

/* Writes what is due, until the socket is full. */
static void do_write(struct conn *c, struct dir *d) {
        uint64_t now = now_ns();
        while (d->head && d->head->due <= now && d->to >= 0) {
                struct chunk *k = d->head;
                if (k->eof) {
                        (void) shutdown(d->to, SHUT_WR);
                        d->done = true;
                } else {
                        ssize_t n = write(d->to, k->data + k->off, k->len - k->off);
                        if (n < 0) {
                                if (errno == EAGAIN)
                                        d->blocked = true;
                                else if (errno != EINTR)
                                        conn_abort(c);
                                return;
                        }
                        k->off += (size_t) n;
                        d->held -= (size_t) n;
                        if (k->off < k->len)
                                return;
                }
                d->head = k->next;
                if (!d->head)
                        d->tail = NULL;
                free(k);
        }
}

static void start_connect(struct conn *c) {
        c->connect_at = 0;
        c->server = socket(target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->server < 0 || c->server >= MAX_FDS) {
                if (c->server >= 0)
                        close(c->server);
                c->server = -1;
                conn_abort(c);
                return;
        }
        fd_conn[c->server] = c;
        set_nodelay(c->server);
        c->d[0].to = c->d[1].from = c->server;
        if (connect(c->server, (struct sockaddr *) &target, target_len) < 0 && errno != EINPROGRESS) {
                conn_abort(c);
                return;
        }
        c->connecting = true;
        struct epoll_event e = { .events = EPOLLOUT, .data.fd = c->server };
        (void) epoll_ctl(epfd, EPOLL_CTL_ADD, c->server, &e);
        fd_ev[c->server] = EPOLLOUT;
}

static void on_accept(void) {
        for (;;) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                        return;
                int slot = 0;
                while (slot < MAX_CONNS && conns[slot])
                        slot++;
                struct conn *c = slot < MAX_CONNS && fd < MAX_FDS ? calloc(1, sizeof *c) : NULL;
                if (!c) {
                        close(fd);
                        continue;
                }
                set_nodelay(fd);
                c->client = fd;
                c->server = -1;
                c->serial = ++n_accepted;
                c->d[0] = (struct dir) { .from = fd, .to = -1 };
                c->d[1] = (struct dir) { .from = -1, .to = fd };
                /* SYN one way, SYN-ACK back, ACK (with the first data) one way. */
                c->connect_at = now_ns() + (handshake ? 3 : 1) * delay_ns;
                conns[slot] = c;
                if (slot >= n_slots)
                        n_slots = slot + 1;
                fd_conn[fd] = c;
                fd_ev[fd] = FD_OFF;
                /* Reading starts at once; chunks are held until connected. */
                update(c);
        }
}

static void service(struct conn *c, int fd, uint32_t events) {
        if (fd == c->server && c->connecting) {
                int err = 0;
                socklen_t len = sizeof err;
                (void) getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0) {
                        if (err != EINPROGRESS)
                                conn_abort(c);
                        return;
                }
                c->connecting = false;
                fd_ev[fd] = EPOLLOUT; /* update() sets what it wants next */
        }
        if (events & EPOLLERR) {
                conn_abort(c);
                return;
        }
        for (int i = 0; i < 2; i++) {
                struct dir *d = &c->d[i];
                if (d->from == fd && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                        do_read(c, d);
                if (d->to == fd && (events & (EPOLLOUT | EPOLLERR))) {
                        d->blocked = false;
                        do_write(c, d);
                }
        }
}

static void arm_timer(void) {
        uint64_t next = UINT64_MAX;
        for (int i = 0; i < n_slots; i++) {
                struct conn *c = conns[i];
                if (!c)
                        continue;
                if (c->connect_at && c->connect_at < next)
                        next = c->connect_at;
                if (c->die_at && c->die_at < next)
                        next = c->die_at;
                if (c->connecting)
                        continue;
                /* A head already due counts too (the timer fires at once):
                 * it may have come due since tick() looked. */
                for (int j = 0; j < 2; j++)
                        if (c->d[j].head && c->d[j].to >= 0 && !c->d[j].blocked && c->d[j].head->due < next)
                                next = c->d[j].head->due;
        }
        struct itimerspec its = { 0 };
        if (next != UINT64_MAX)
                its.it_value = (struct timespec) { .tv_sec = (time_t) (next / 1000000000ULL), .tv_nsec = (long) (next % 1000000000ULL) };
        (void) timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Whatever came due: connects, writes, resets; frees what is finished. */
static void tick(void) {
        uint64_t now = now_ns();
        for (int i = 0; i < n_slots; i++) {
                struct conn *c = conns[i];
                if (!c)
                        continue;
                if (c->die_at && c->die_at <= now) {
                        /* An RST on the other side, as a reset would pass on. */
                        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
                        (void) setsockopt(c->client, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                        conn_free(i);
                        continue;
                }
                if (c->connect_at && c->connect_at <= now)
                        start_connect(c);
                if (!c->connecting && c->server >= 0)
                        for (int j = 0; j < 2; j++)
                                do_write(c, &c->d[j]);
                if (c->d[0].done && c->d[1].done && !c->d[0].head && !c->d[1].head) {
                        conn_free(i);
                        continue;
                }
                update(c);
        }
}

static int listen_on(const char *spec, const char *port_file) {
        struct sockaddr_storage ss;
        socklen_t len;
        if (parse_addr(spec, &ss, &len) < 0) {
                fprintf(stderr, "delay-forward: not an address and port: %s\n", spec);
                exit(64);
        }
        int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int) { 1 }, sizeof(int));
        if (fd < 0 || bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, 128) < 0) {
                fprintf(stderr, "delay-forward: cannot listen on %s: %m\n", spec);
                exit(71);
        }
        len = sizeof ss;
        getsockname(fd, (struct sockaddr *) &ss, &len);
        unsigned port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                                       : ((struct sockaddr_in *) &ss)->sin_port);
        if (port_file) {
                char tmp[4096];
                snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
                FILE *f = fopen(tmp, "w");
                if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, port_file) < 0) {
                        fprintf(stderr, "delay-forward: cannot write %s: %m\n", port_file);
                        exit(73);
                }
        }
        printf("%u\n", port);
        fflush(stdout);
        return fd;
}

static void set_queue(void) {
        if (!queue_fixed) /* the link's bytes in flight, and room for a burst */
                queue_max = (rate ? rate * delay_ns / 1000000000ULL : 0) + 4 * 1024 * 1024;
}

static void on_hup(int sig) {
        (void) sig;
        reload = 1;
}

static void read_control(void) {
        FILE *f = fopen(control_file, "re");
        double ms;
        unsigned long long r = 0;
        if (!f || fscanf(f, "%lf %llu", &ms, &r) < 1 || ms < 0) {
                fprintf(stderr, "delay-forward: cannot read \"MS [RATE]\" from %s\n", control_file);
                if (f)
                        fclose(f);
                return;
        }
        fclose(f);
        delay_ns = (uint64_t) (ms * 1e6);
        rate = r;
        set_queue();
}

static void usage(int code) {
        fprintf(code ? stderr : stdout,
                "Usage: delay-forward [--delay MS] [--rate BYTES/S] [--queue BYTES] [--no-handshake]\n"
                "                     [--port-file FILE] [--control FILE] [--trace] LISTEN-ADDR:PORT TARGET-ADDR:PORT\n"
                "Forwards TCP connections, each chunk MS ms later in each direction (a round\n"
                "trip of 2 x MS), optionally at a rate. Prints the port it listens on.\n");
        exit(code);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "delay", required_argument, NULL, 'd' },
                { "rate", required_argument, NULL, 'r' },
                { "queue", required_argument, NULL, 'q' },
                { "no-handshake", no_argument, NULL, 'H' },
                { "port-file", required_argument, NULL, 'p' },
                { "control", required_argument, NULL, 'c' },
                { "trace", no_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *port_file = NULL;
        double delay_ms = 0;
        int o;
        while ((o = getopt_long(argc, argv, "d:r:q:p:h", opts, NULL)) >= 0)
                switch (o) {
                case 'd': delay_ms = strtod(optarg, NULL); break;
                case 'r': rate = strtoull(optarg, NULL, 10); break;
                case 'q': queue_max = strtoull(optarg, NULL, 10); queue_fixed = queue_max > 0; break;
                case 'c': control_file = optarg; break;
                case 't': trace = true; break;
                case 'H': handshake = false; break;
                case 'p': port_file = optarg; break;
                case 'h': usage(0); break;
                default: usage(64);
                }
        if (argc - optind != 2 || delay_ms < 0)
                usage(64);
        delay_ns = (uint64_t) (delay_ms * 1e6);
        set_queue();
        if (control_file) {
                read_control();
                struct sigaction sa = { .sa_handler = on_hup }; /* no SA_RESTART: epoll_wait returns */
                sigaction(SIGHUP, &sa, NULL);
        }
        if (parse_addr(argv[optind + 1], &target, &target_len) < 0) {
                fprintf(stderr, "delay-forward: not an address and port: %s\n", argv[optind + 1]);
                return 64;
        }
        signal(SIGPIPE, SIG_IGN);
        lfd = listen_on(argv[optind], port_file);
        epfd = epoll_create1(EPOLL_CLOEXEC);
        tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        struct epoll_event e = { .events = EPOLLIN, .data.fd = lfd };
        epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &e);
        e.data.fd = tfd;
        epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &e);

        for (;;) {
                struct epoll_event evs[64];
                arm_timer();
                int n = epoll_wait(epfd, evs, 64, -1);
                if (n < 0 && errno != EINTR) {
                        perror("delay-forward: epoll_wait");
                        return 1;
                }
                if (reload) {
                        reload = 0;
                        read_control();
                }
                for (int i = 0; i < n; i++) {
                        int fd = evs[i].data.fd;
                        if (fd == lfd) {
                                on_accept();
                        } else if (fd == tfd) {
                                uint64_t x;
                                if (read(tfd, &x, sizeof x) < 0) /* EAGAIN: nothing due yet */
                                        continue;
                        } else {
                                struct conn *c = fd >= 0 && fd < MAX_FDS ? fd_conn[fd] : NULL;
                                if (c)
                                        service(c, fd, evs[i].events);
                                else
                                        (void) epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
                        }
                }
                tick();
        }
}
