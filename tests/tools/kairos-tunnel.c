/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kairos-tunnel: both ends of the kairos tunnel, for tests, benchmarks and
 * the demo, before and beside the real programs. Not installed.
 *
 *   kairos-tunnel new-token [--address ADDR]... [--port P] [--relay tcp:H:P]...
 *   kairos-tunnel respond --token-file F [--listen ADDR:PORT] [--relay tcp:H:P]...
 *                         [--hostname NAME] [--replace-interval SEC] [--summary-interval SEC]
 *                         (--sink | -- CMD [ARG...])
 *   kairos-tunnel initiate --token-file F [--direct ADDR:PORT]... [--relay tcp:H:P]...
 *                         [--no-token-addresses] [--no-relay] [--timeout SEC]
 *   kairos-tunnel handshake-later --token-file F --direct IPV4:PORT --go FILE [--timeout SEC]
 *
 * respond runs CMD for every established tunnel with the tunnel on its
 * stdin and stdout, or with --sink reads what arrives into /dev/null (the
 * benchmark's consumer, like cat >/dev/null on the raw path); initiate moves its own stdin and stdout through one
 * tunnel. handshake-later connects, says "connected" on stdout, and only
 * once FILE exists makes the handshake, saying "established" (exit 0) or
 * why not (exit 2): a connection opened before something happens on the
 * machine (a rotate). Progress and errors go to stderr. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "dial.h"
#include "kdf.h"
#include "log.h"
#include "relay-waiters.h"
#include "token.h"
#include "tunnel.h"

static const char *token_file;
static const char *relays[DIAL_MAX_RELAYS], *directs[DIAL_MAX_DIRECT], *listen_on;
static size_t n_relays, n_directs;
static const char *hostname_arg = "kairos-test";
static unsigned replace_interval, summary_interval, timeout_sec = 30;
static int no_token_addresses, no_relay, sink;
static char **command;
static struct kairos_token token;

static int load_token(void) {
        char text[KAIROS_TOKEN_TEXT_MAX];
        struct token_error err;
        FILE *f = fopen(token_file, "re");
        size_t n;

        if (!f)
                return log_error_errno(-errno, "Cannot open token file %s: %m", token_file);
        n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        if (token_decode(text, &token, &err) < 0)
                return log_error_errno(-EINVAL, "%s: %s", token_file, err.message);
        return 0;
}

static int cmd_new_token(void) {
        char text[KAIROS_TOKEN_TEXT_MAX];

        token_new(&token);
        for (size_t i = 0; i < n_directs; i++) {
                struct kairos_address a = {};
                a.family = strchr(directs[i], ':') ? AF_INET6 : AF_INET;
                if (inet_pton(a.family, directs[i], a.bytes) != 1 || token_add_address(&token, &a) < 0)
                        return log_error_errno(-EINVAL, "Address %s cannot stand in a token.", directs[i]);
        }
        for (size_t i = 0; i < n_relays; i++)
                snprintf(token.relays[token.n_relays++], KAIROS_RELAY_TEXT_MAX, "%s", relays[i]);
        if (token_encode(&token, text, sizeof text) < 0)
                return log_error_errno(-EINVAL, "Cannot encode the token (too many addresses or relays?).");
        printf("%s\n", text);
        return 0;
}

/* In the child: handshake, hello, then CMD on the tunnel. */
static _Noreturn void serve(int fd, const char *path) {
        struct kairos_hello hello = { .version = KAIROS_PROTOCOL_VERSION, .n_keys = 1 };
        uint8_t psk[KAIROS_PSK_SIZE];
        struct tunnel t;
        int sp[2], r, status;
        pid_t pid;

        kdf_psk(token.secret, psk);
        r = tunnel_accept(&t, fd, psk, deadline_after(10 * USEC_PER_SEC), NULL, NULL);
        sodium_memzero(psk, sizeof psk);
        if (r < 0) {
                log_warning("Tunnel via %s not established: %s.", path, record_strerror(r));
                _exit(2);
        }
        log_info("Tunnel established via %s.", path);
        snprintf(hello.hostname, sizeof hello.hostname, "%s", hostname_arg);
        snprintf(hello.keys[0], sizeof hello.keys[0], "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDummyKeyForTestsOnly0000000000000");
        r = tunnel_send_hello(&t, &hello, deadline_after(10 * USEC_PER_SEC));
        if (r < 0)
                _exit(2);
        if (sink) {
                int in = open("/dev/null", O_RDONLY | O_CLOEXEC), out = open("/dev/null", O_WRONLY | O_CLOEXEC);
                r = tunnel_pump(&t, in, out, -1, NULL);
                log_full(r < 0 ? LOG_ERR : LOG_INFO, 0, "Tunnel via %s %s.", path, r < 0 ? record_strerror(r) : "closed");
                _exit(r < 0 ? 1 : 0);
        }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                _exit(2);
        pid = fork();
        if (pid == 0) {
                dup2(sp[1], 0);
                dup2(sp[1], 1);
                execvp(command[0], command);
                _exit(127);
        }
        close(sp[1]);
        r = tunnel_pump(&t, sp[0], sp[0], -1, NULL);
        if (r < 0)
                log_error("Tunnel via %s ended with an error: %s.", path, record_strerror(r));
        else
                log_info("Tunnel via %s closed.", path);
        close(sp[0]);
        tunnel_done(&t, true);
        waitpid(pid, &status, 0);
        _exit(r < 0 ? 1 : 0);
}

static void spawn(int fd, const char *path) {
        pid_t pid = fork();

        if (pid == 0)
                serve(fd, path);
        close(fd);
}

static void on_paired(int fd, const char *relay, unsigned slot, void *userdata) {
        char path[400];

        snprintf(path, sizeof path, "relay %s slot %u", relay, slot);
        spawn(fd, path);
}

static void on_changed(void *userdata) {
        static unsigned last = UINT_MAX;
        struct relay_waiters *w = *(struct relay_waiters **) userdata;
        unsigned waiting = 0, total = 0;

        if (!w)
                return;
        for (size_t i = 0; i < relay_waiters_count(w); i++) {
                waiting += relay_waiters_waiting(w, i);
                total += KAIROS_RELAY_SLOTS;
        }
        if (waiting != last)
                log_info("Waiting on %u of %u relay slots.", waiting, total);
        last = waiting;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

        if (c >= 0)
                spawn(c, "direct");
        return 0;
}

static int listen_tcp(const char *spec) {
        char host[256], buf[300], port_s[8];
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai;
        uint16_t port;
        int fd, one = 1;

        snprintf(buf, sizeof buf, "tcp:%s", spec);
        if (relay_parse(buf, host, sizeof host, &port) < 0)
                return log_error_errno(-EINVAL, "--listen %s: not ADDR:PORT.", spec);
        snprintf(port_s, sizeof port_s, "%u", port);
        if (getaddrinfo(host, port_s, &hints, &ai) != 0)
                return log_error_errno(-EINVAL, "--listen %s: not a numeric address.", spec);
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
                freeaddrinfo(ai);
                return log_error_errno(-errno, "--listen %s: %m", spec);
        }
        freeaddrinfo(ai);
        return fd;
}

static int cmd_respond(void) {
        static struct relay_waiters *waiters;
        struct relay_waiters_callbacks cb = { .paired = on_paired, .changed = on_changed };
        const char *use[DIAL_MAX_RELAYS + KAIROS_TOKEN_MAX_RELAYS];
        sd_event *e = NULL;
        size_t n = 0;
        int r, lfd = -1;

        if (!command && !sink)
                return log_error_errno(-EINVAL, "respond needs --sink or a command after --.");
        r = load_token();
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_relays; i++)
                use[n++] = relays[i];
        for (size_t i = 0; i < token.n_relays && !n_relays; i++)
                use[n++] = token.relays[i];
        signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
        sd_event_default(&e);
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        sd_event_add_signal(e, NULL, SIGTERM, NULL, NULL);
        sd_event_add_signal(e, NULL, SIGINT, NULL, NULL);
        if (listen_on) {
                lfd = listen_tcp(listen_on);
                if (lfd < 0)
                        return lfd;
                sd_event_add_io(e, NULL, lfd, EPOLLIN, on_accept, NULL);
                log_info("Listening on %s.", listen_on);
        }
        if (n > 0 && !no_relay) {
                r = relay_waiters_new(e, token.secret, use, n, &cb, &waiters, &waiters);
                if (r < 0)
                        return log_error_errno(r, "Bad relay: %m");
                if (replace_interval)
                        relay_waiters_set_replace_interval(waiters, replace_interval);
                if (summary_interval)
                        relay_waiters_set_summary_interval(waiters, summary_interval);
        }
        r = sd_event_loop(e);
        relay_waiters_free(waiters);
        sd_event_unref(e);
        return r;
}

static void progress(void *userdata, const char *line) {
        log_info("%s", line);
}

static int cmd_initiate(void) {
        struct dial_options o = { .token = &token, .progress = progress };
        struct dial_result res;
        struct tunnel_stats st = {};
        int r;

        r = load_token();
        if (r < 0)
                return r;
        memcpy(o.direct, directs, sizeof directs);
        o.n_direct = n_directs;
        memcpy(o.relays, relays, sizeof relays);
        o.n_relays = n_relays;
        o.skip_token_addresses = no_token_addresses;
        o.skip_relays = no_relay;
        o.timeout = timeout_sec * USEC_PER_SEC;
        r = dial(&o, &res);
        if (r < 0) {
                (void) dial_wait_idle(2 * USEC_PER_SEC);
                log_error("Not reachable: %s%s", res.last_error[0] ? res.last_error : "no path to try",
                          res.handshake_failed ? " (a peer answered but did not hold the secret)" : "");
                return r;
        }
        log_info("Reachable via %s (host %s).", res.where, res.hello.hostname);
        r = tunnel_pump(&res.tunnel, STDIN_FILENO, STDOUT_FILENO, -1, &st);
        tunnel_done(&res.tunnel, true);
        (void) dial_wait_idle(2 * USEC_PER_SEC);
        if (r < 0)
                return log_error_errno(r, "Tunnel ended with an error: %s.", record_strerror(r));
        log_info("Tunnel closed: %llu bytes sent, %llu received.", (unsigned long long) st.bytes_out,
                 (unsigned long long) st.bytes_in);
        return 0;
}

static int cmd_handshake_later(const char *go) {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        uint8_t psk[KAIROS_PSK_SIZE];
        struct kairos_hello hello;
        struct tunnel t;
        char host[64];
        unsigned port;
        usec_t until;
        int fd, r;

        r = load_token();
        if (r < 0)
                return r;
        if (n_directs != 1 || !go || sscanf(directs[0], "%63[0-9.]:%u", host, &port) != 2 ||
            inet_pton(AF_INET, host, &sa.sin_addr) != 1 || port > 65535)
                return log_error_errno(-EINVAL, "handshake-later needs --direct IPV4:PORT and --go FILE.");
        sa.sin_port = htons((uint16_t) port);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return log_error_errno(-errno, "Cannot connect to %s: %m", directs[0]);
        printf("connected\n");
        fflush(stdout);
        until = deadline_after(timeout_sec * USEC_PER_SEC);
        while (access(go, F_OK) < 0 && now_usec() < until)
                usleep(20 * 1000);
        kdf_psk(token.secret, psk);
        r = tunnel_initiate(&t, fd, psk, &hello, deadline_after(10 * USEC_PER_SEC));
        sodium_memzero(psk, sizeof psk);
        if (r == 0) {
                printf("established\n");
                tunnel_done(&t, true);
                return 0;
        }
        printf("failed: %s\n", r == -EUSERS ? "busy" : record_strerror(r));
        close(fd);
        return 2;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "token-file", required_argument, NULL, 't' },
                { "address", required_argument, NULL, 'a' },
                { "direct", required_argument, NULL, 'd' },
                { "relay", required_argument, NULL, 'r' },
                { "listen", required_argument, NULL, 'l' },
                { "hostname", required_argument, NULL, 'H' },
                { "replace-interval", required_argument, NULL, 'R' },
                { "summary-interval", required_argument, NULL, 'U' },
                { "timeout", required_argument, NULL, 'T' },
                { "no-token-addresses", no_argument, NULL, 'N' },
                { "no-relay", no_argument, NULL, 'n' },
                { "verbose", no_argument, NULL, 'v' },
                { "sink", no_argument, NULL, 'S' },
                { "go", required_argument, NULL, 'g' },
                {}
        };
        const char *cmd, *go = NULL;
        int c, r;

        if (argc < 2) {
                fprintf(stderr, "usage: kairos-tunnel new-token|respond|initiate [OPTIONS]\n");
                return 64;
        }
        cmd = argv[1];
        optind = 2;
        while ((c = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (c) {
                case 't': token_file = optarg; break;
                case 'a': case 'd': if (n_directs < DIAL_MAX_DIRECT) directs[n_directs++] = optarg; break;
                case 'r': if (n_relays < DIAL_MAX_RELAYS) relays[n_relays++] = optarg; break;
                case 'l': listen_on = optarg; break;
                case 'H': hostname_arg = optarg; break;
                case 'R': replace_interval = (unsigned) atoi(optarg); break;
                case 'U': summary_interval = (unsigned) atoi(optarg); break;
                case 'T': timeout_sec = (unsigned) atoi(optarg); break;
                case 'N': no_token_addresses = 1; break;
                case 'n': no_relay = 1; break;
                case 'v': log_set_max_level(LOG_DEBUG); break;
                case 'S': sink = 1; break;
                case 'g': go = optarg; break;
                default: return 64;
                }
        if (optind < argc)
                command = argv + optind;
        if (sodium_init() < 0)
                return 70;
        signal(SIGPIPE, SIG_IGN);

        if (!strcmp(cmd, "new-token"))
                r = cmd_new_token();
        else if (!strcmp(cmd, "respond"))
                r = cmd_respond();
        else if (!strcmp(cmd, "initiate"))
                r = cmd_initiate();
        else if (!strcmp(cmd, "handshake-later")) {
                r = cmd_handshake_later(go);
                token_clear(&token);
                return r < 0 ? 1 : r;
        }
        else {
                fprintf(stderr, "kairos-tunnel: unknown command %s\n", cmd);
                return 64;
        }
        token_clear(&token);
        return r < 0 ? (r == -ETIMEDOUT ? 69 : 1) : 0;
}
