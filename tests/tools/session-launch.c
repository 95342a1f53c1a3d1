/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* session-launch: starts kairos-recovery-session the way kairos-recovery
 * does, for tests (not installed).
 *
 *   session-launch serve --helper PATH --token-file F --hostkey KEY [--hostkey KEY]...
 *                  [--authorized-keys F] [--transport ssh|tunnel] [--max-auth-tries N]
 *                  [--auth-timeout SEC] [--hostname NAME] [--listen ADDR:PORT]
 *                  [--config-file F] [--extra "KEY VALUE"]...
 *   session-launch password --token-file F
 *   session-launch secret --token-file F
 *   session-launch hello --token-file F --listen ADDR:PORT
 *
 * serve listens on ADDR:PORT (default 127.0.0.1:0) and prints
 * "listening ADDR:PORT"; for each connection it fork+execs the helper with
 * the connection on fd 3 and one end of a SOCK_SEQPACKET socketpair on fd 4,
 * sends the configuration datagram (or the contents of --config-file
 * verbatim) and prints one line per event and at the end:
 *
 *   N pid PID
 *   N EVENT...            as the helper sent it
 *   N exit STATUS | N signal NAME
 *
 * password prints the SSH password derived from the token's secret, secret
 * the secret in hex (as the datagram carries it): tests look for both where
 * they must not be. hello connects to a helper with transport tunnel at
 * ADDR:PORT, makes the tunnel and prints the hello it receives, one line
 * each: "host NAME", "key TYPE BASE64". */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kdf.h"
#include "tunnel.h"
#include "session-protocol.h"
#include "token.h"

#define MAX_HELPERS 64
#define MAX_LIST 8

struct helper {
        unsigned id;
        pid_t pid;
        int control_fd;
};

static const char *helper_path, *token_file, *authorized_keys, *transport = "ssh", *hostname = "kairos-test";
static const char *config_file, *listen_on = "127.0.0.1:0";
static const char *hostkeys[MAX_LIST], *extras[MAX_LIST];
static size_t n_hostkeys, n_extras;
static unsigned max_auth_tries = 3, auth_timeout = 30;
static struct kairos_token token;
static struct helper helpers[MAX_HELPERS];
static unsigned next_id = 1;

static int load_token(void) {
        char text[KAIROS_TOKEN_TEXT_MAX];
        struct token_error err;
        FILE *f = fopen(token_file, "re");
        size_t n;

        if (!f) {
                fprintf(stderr, "session-launch: %s: %m\n", token_file);
                return -1;
        }
        n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        if (token_decode(text, &token, &err) < 0) {
                fprintf(stderr, "session-launch: %s: %s\n", token_file, err.message);
                return -1;
        }
        return 0;
}

static int build_config(char *buf, size_t size, const char *peer) {
        char hex[2 * KAIROS_SECRET_SIZE + 1];
        size_t len = 0;
        int n;

        if (config_file) {
                FILE *f = fopen(config_file, "re");
                if (!f)
                        return -1;
                len = fread(buf, 1, size, f);
                fclose(f);
                return (int) len;
        }
        sodium_bin2hex(hex, sizeof hex, token.secret, sizeof token.secret);
        n = snprintf(buf, size, "transport %s\nsecret %s\nhostname %s\npeer %s\nmax_auth_tries %u\nauth_timeout %u\n",
                     transport, hex, hostname, peer, max_auth_tries, auth_timeout);
        sodium_memzero(hex, sizeof hex);
        len = (size_t) n;
        for (size_t i = 0; i < n_hostkeys; i++)
                len += (size_t) snprintf(buf + len, size - len, "hostkey %s\n", hostkeys[i]);
        if (authorized_keys)
                len += (size_t) snprintf(buf + len, size - len, "authorized_keys %s\n", authorized_keys);
        for (size_t i = 0; i < n_extras; i++)
                len += (size_t) snprintf(buf + len, size - len, "%s\n", extras[i]);
        return len < size ? (int) len : -1;
}

static void start_helper(int conn, const struct sockaddr_in *from) {
        char config[SESSION_CONFIG_MAX], peer[64];
        struct helper *h = NULL;
        int sp[2], len;
        pid_t pid;

        for (size_t i = 0; i < MAX_HELPERS && !h; i++)
                if (helpers[i].pid == 0)
                        h = &helpers[i];
        if (!h || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                fprintf(stderr, "session-launch: cannot start a helper\n");
                close(conn);
                return;
        }
        pid = fork();
        if (pid == 0) {
                sigset_t none;

                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                /* dup2 clears close-on-exec on 3 and 4. */
                if (dup2(conn, SESSION_FD_CONNECTION) < 0 || dup2(sp[1], SESSION_FD_CONTROL) < 0)
                        _exit(126);
                execl(helper_path, helper_path, (char *) NULL);
                fprintf(stderr, "session-launch: exec %s: %m\n", helper_path);
                _exit(127);
        }
        close(conn);
        close(sp[1]);
        h->id = next_id++;
        h->pid = pid;
        h->control_fd = sp[0];
        printf("%u pid %d\n", h->id, (int) pid);
        snprintf(peer, sizeof peer, "direct %s:%u", inet_ntoa(from->sin_addr), ntohs(from->sin_port));
        len = build_config(config, sizeof config, peer);
        if (len < 0 || send(sp[0], config, (size_t) len, MSG_NOSIGNAL) < 0)
                fprintf(stderr, "session-launch: cannot send the configuration\n");
        sodium_memzero(config, sizeof config);
}

static ssize_t read_events(struct helper *h) {
        char buf[SESSION_EVENT_MAX + 1];
        ssize_t n = recv(h->control_fd, buf, sizeof buf - 1, MSG_DONTWAIT);

        if (n > 0) {
                buf[n] = '\0';
                printf("%u %s\n", h->id, buf);
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(h->control_fd);
                h->control_fd = -1;
        }
        return n;
}

static void reap(void) {
        int status;
        pid_t pid;

        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
                for (size_t i = 0; i < MAX_HELPERS; i++) {
                        struct helper *h = &helpers[i];

                        if (h->pid != pid)
                                continue;
                        /* Events still queued come first. */
                        while (h->control_fd >= 0 && read_events(h) > 0)
                                ;
                        if (h->control_fd >= 0) {
                                close(h->control_fd);
                                h->control_fd = -1;
                        }
                        if (WIFEXITED(status))
                                printf("%u exit %d\n", h->id, WEXITSTATUS(status));
                        else
                                printf("%u signal %s\n", h->id, sigabbrev_np(WTERMSIG(status)));
                        h->pid = 0;
                }
}

static int listen_socket(void) {
        struct sockaddr_in a = { .sin_family = AF_INET };
        socklen_t len = sizeof a;
        char host[64];
        unsigned port;
        int fd, one = 1;

        if (sscanf(listen_on, "%63[^:]:%u", host, &port) != 2 || inet_pton(AF_INET, host, &a.sin_addr) != 1) {
                fprintf(stderr, "session-launch: --listen wants IPv4:PORT\n");
                return -1;
        }
        a.sin_port = htons((uint16_t) port);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof a) < 0 || listen(fd, 64) < 0 ||
            getsockname(fd, (struct sockaddr *) &a, &len) < 0) {
                fprintf(stderr, "session-launch: listen %s: %m\n", listen_on);
                return -1;
        }
        printf("listening %s:%u\n", host, ntohs(a.sin_port));
        return fd;
}

static int hello(void) {
        struct sockaddr_in a = { .sin_family = AF_INET };
        struct kairos_hello h;
        uint8_t psk[KAIROS_PSK_SIZE];
        struct tunnel t;
        char host[64];
        unsigned port;
        int fd, r;

        if (!token_file || load_token() < 0)
                return 1;
        if (sscanf(listen_on, "%63[^:]:%u", host, &port) != 2 || inet_pton(AF_INET, host, &a.sin_addr) != 1)
                return 64;
        a.sin_port = htons((uint16_t) port);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &a, sizeof a) < 0) {
                fprintf(stderr, "session-launch: connect %s: %m\n", listen_on);
                return 1;
        }
        kdf_psk(token.secret, psk);
        r = tunnel_initiate(&t, fd, psk, &h, deadline_after(10 * USEC_PER_SEC));
        sodium_memzero(psk, sizeof psk);
        if (r < 0) {
                fprintf(stderr, "session-launch: tunnel: %s\n", record_strerror(r));
                return 1;
        }
        printf("version %u\nhost %s\n", h.version, h.hostname);
        for (size_t i = 0; i < h.n_keys; i++)
                printf("key %s\n", h.keys[i]);
        tunnel_done(&t, true);
        return 0;
}

static int serve(void) {
        sigset_t mask;
        int lfd, sfd;

        if (!helper_path || (!config_file && (!token_file || n_hostkeys == 0))) {
                fprintf(stderr, "session-launch serve: --helper and --token-file and --hostkey (or --config-file)\n");
                return 64;
        }
        if (token_file && load_token() < 0)
                return 1;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        lfd = listen_socket();
        if (lfd < 0 || sfd < 0)
                return 1;
        for (;;) {
                struct pollfd pf[2 + MAX_HELPERS];
                struct helper *who[2 + MAX_HELPERS];
                nfds_t n = 0;

                pf[n++] = (struct pollfd) { .fd = lfd, .events = POLLIN };
                pf[n++] = (struct pollfd) { .fd = sfd, .events = POLLIN };
                for (size_t i = 0; i < MAX_HELPERS; i++)
                        if (helpers[i].pid && helpers[i].control_fd >= 0) {
                                who[n] = &helpers[i];
                                pf[n++] = (struct pollfd) { .fd = helpers[i].control_fd, .events = POLLIN };
                        }
                if (poll(pf, n, -1) < 0 && errno != EINTR)
                        return 1;
                for (nfds_t i = 2; i < n; i++)
                        if (pf[i].revents && who[i]->control_fd >= 0)
                                read_events(who[i]);
                if (pf[1].revents) {
                        struct signalfd_siginfo si;

                        if (read(sfd, &si, sizeof si) == (ssize_t) sizeof si && si.ssi_signo != SIGCHLD) {
                                /* Helpers end their sessions and children on SIGTERM. */
                                for (size_t i = 0; i < MAX_HELPERS; i++)
                                        if (helpers[i].pid)
                                                kill(helpers[i].pid, SIGTERM);
                                return 0;
                        }
                        reap();
                }
                if (pf[0].revents) {
                        struct sockaddr_in from = {};
                        socklen_t len = sizeof from;
                        int c = accept4(lfd, (struct sockaddr *) &from, &len, SOCK_CLOEXEC);

                        if (c >= 0)
                                start_helper(c, &from);
                }
        }
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "helper", required_argument, NULL, 'H' },
                { "token-file", required_argument, NULL, 't' },
                { "hostkey", required_argument, NULL, 'k' },
                { "authorized-keys", required_argument, NULL, 'a' },
                { "transport", required_argument, NULL, 'T' },
                { "max-auth-tries", required_argument, NULL, 'm' },
                { "auth-timeout", required_argument, NULL, 'o' },
                { "hostname", required_argument, NULL, 'n' },
                { "listen", required_argument, NULL, 'l' },
                { "config-file", required_argument, NULL, 'c' },
                { "extra", required_argument, NULL, 'e' },
                {}
        };
        int c, r;

        if (argc < 2) {
                fprintf(stderr, "usage: session-launch serve|password [OPTIONS]\n");
                return 64;
        }
        optind = 2;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'H': helper_path = optarg; break;
                case 't': token_file = optarg; break;
                case 'k': if (n_hostkeys < MAX_LIST) hostkeys[n_hostkeys++] = optarg; break;
                case 'a': authorized_keys = optarg; break;
                case 'T': transport = optarg; break;
                case 'm': max_auth_tries = (unsigned) atoi(optarg); break;
                case 'o': auth_timeout = (unsigned) atoi(optarg); break;
                case 'n': hostname = optarg; break;
                case 'l': listen_on = optarg; break;
                case 'c': config_file = optarg; break;
                case 'e': if (n_extras < MAX_LIST) extras[n_extras++] = optarg; break;
                default: return 64;
                }
        if (sodium_init() < 0)
                return 70;
        setvbuf(stdout, NULL, _IOLBF, 0);
        signal(SIGPIPE, SIG_IGN);

        if (!strcmp(argv[1], "password")) {
                char password[KAIROS_PASSWORD_SIZE];

                if (!token_file || load_token() < 0)
                        return 1;
                kdf_password(token.secret, password);
                printf("%s\n", password);
                r = 0;
        } else if (!strcmp(argv[1], "secret")) {
                char hex[2 * KAIROS_SECRET_SIZE + 1];

                if (!token_file || load_token() < 0)
                        return 1;
                sodium_bin2hex(hex, sizeof hex, token.secret, sizeof token.secret);
                printf("%s\n", hex);
                r = 0;
        } else if (!strcmp(argv[1], "hello"))
                r = hello();
        else if (!strcmp(argv[1], "serve"))
                r = serve();
        else {
                fprintf(stderr, "session-launch: unknown command %s\n", argv[1]);
                r = 64;
        }
        token_clear(&token);
        return r;
}
