/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kairos-bridge: from a photo of the QR code (or the token as text) to a
 * local port where `ssh` reaches the recovery machine's root shell. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "dial.h"
#include "events.h"
#include "kdf.h"
#include "keygen.h"
#include "known-hosts.h"
#include "log.h"
#include "macro.h"
#include "sealed-input.h"
#include "serve.h"
#include "ssh-config.h"
#include "tell.h"
#include "token-input.h"

#define DEFAULT_LISTEN "127.0.0.1:2200"
#define DEFAULT_TIMEOUT_SEC 60

static struct {
        enum token_source source;
        char *where; /* a path, or our copy of the token's text (text_source()) */
        const char *listen;
        bool allow_remote, stdio, show_token, direct_only, relay_only, quiet;
        const char *ssh_config_name, *known_hosts_alias, *host_key_alias;
        unsigned timeout_sec;
        struct dial_options dial;
        struct sealed_options sealed;
} arg = { .listen = DEFAULT_LISTEN, .timeout_sec = DEFAULT_TIMEOUT_SEC };

/* A picture's or token file's path, made absolute at once: a user service
 * (systemd-run --user) starts in $HOME, not where the command was typed,
 * and --ssh-config writes the path into a file read from anywhere. */
static char abs_path[PATH_MAX];



static void help(void) {
        printf("Usage: kairos-bridge [OPTIONS] (--qr-code-image PHOTO | --token-file FILE | --token - | TOKEN)\n"
               "       kairos-bridge keygen [--output DIR]\n"
               "\n"
               "Reaches a machine in kairos remote recovery mode, from a photo of the QR code\n"
               "on its screen, and opens a local port for ssh.\n"
               "\n"
               "  -i --qr-code-image FILE  read the token from a picture of the QR code (PNG, JPEG,\n"
               "                           HEIC, WebP or AVIF)\n"
               "  -f --token-file FILE     read the token text from FILE\n"
               "     --token TEXT|-        the token as text, or - to read it from standard input\n"
               "                           (asked for on a terminal, as when no token is given)\n"
               "                           ($KAIROS_TOKEN works too; a token given on the command\n"
               "                           line is scrubbed from it, but may already be in your\n"
               "                           shell history)\n"
               "                           Each takes a sealed code (KAIROS-SEALED:..., as a\n"
               "                           machine sends it to NotifyURL=) as well, or a\n"
               "                           message holding one\n"
               "     --operator-key FILE   the secret key that opens sealed codes (default\n"
               "                           ~/.config/kairos-bridge/operator.key)\n"
               "     --known-machines FILE the machines whose codes are accepted (default\n"
               "                           ~/.config/kairos-bridge/known_machines)\n"
               "     --accept-unknown-machine  accept a sealed code signed by a machine key\n"
               "                           not listed there, and list it\n"
               "  -l --listen ADDR:PORT    where ssh connects (default %s; port 0: a free one;\n"
               "                           a path with a slash: a Unix socket)\n"
               "     --allow-remote        let --listen use an address that is not loopback\n"
               "  -r --relay tcp:HOST:PORT also try this relay (repeatable)\n"
               "  -d --direct ADDR:PORT    also try this address directly (repeatable: a port\n"
               "                           forward, a NAT, a VM)\n"
               "     --direct-only         do not use relays\n"
               "     --relay-only          do not use the token's addresses\n"
               "     --stdio               carry one connection on stdin/stdout, for\n"
               "                           ssh -o ProxyCommand='kairos-bridge --stdio ...'\n"
               "     --ssh-config NAME     print a Host block for ~/.ssh/config (ssh NAME then\n"
               "                           goes through kairos-bridge --stdio, host key pinned)\n"
               "     --host-key-alias NAME with --stdio: store the host keys under NAME\n"
               "     --known-hosts NAME    print the host keys stored under NAME (for ssh's\n"
               "                           KnownHostsCommand)\n"
               "     --show-token          print what the token holds and exit\n"
               "     --json                one JSON object a line on stdout for each event\n"
               "  -q --quiet               only warnings and errors on stderr\n"
               "  -t --timeout SEC         give up reaching the machine after SEC (default %d)\n"
               "  -v --verbose             say more\n"
               "     --version             print the version\n"
               "  -h --help                this text\n"
               "\n"
               "Ctrl-C with ssh sessions open only warns; a second one within 5 s ends them.\n"
               "Exit status: 0 after Ctrl-C or SIGTERM once reachable, 64 usage, 65 not a\n"
               "token, 66 no such file, 69 machine not reachable in time, 71 cannot listen,\n"
               "73 key exists (keygen), 75 machine busy, 77 token rejected or rotated, or a\n"
               "sealed code not for this operator key, forged, or from a machine not known,\n"
               "130 Ctrl-C while still connecting.\n"
               "See kairos-bridge(1).\n", DEFAULT_LISTEN, DEFAULT_TIMEOUT_SEC);
}

static bool text_source(enum token_source s) {
        return s == TOKEN_FROM_ENV || s == TOKEN_FROM_ARGUMENT;
}

/* Our copy of a token given as text: wiped, then freed. token_input_read()
 * wipes it as soon as it is decoded; this is for the ways out before. */
static void forget_text(void) {
        if (text_source(arg.source) && arg.where) {
                sodium_memzero(arg.where, strlen(arg.where));
                free(arg.where);
        }
        arg.where = NULL;
}

/* where: for a text source, a copy of the text that arg now owns (wiped and
 * freed on error too). */
static int set_source(enum token_source s, char *where) {
        if (arg.source != TOKEN_FROM_NONE && arg.source != TOKEN_FROM_ENV) {
                log_error("Give the token one way only.");
                if (text_source(s) && where) {
                        sodium_memzero(where, strlen(where));
                        free(where);
                }
                return -EINVAL;
        }
        /* An option overrides $KAIROS_TOKEN: its copy goes now. */
        forget_text();
        arg.source = s;
        arg.where = where;
        return 0;
}

/* Relative to the directory the command was typed in, made absolute. */
static char *absolute(const char *path) {
        char cwd[PATH_MAX];

        if (*path == '/' || !getcwd(cwd, sizeof cwd) ||
            snprintf(abs_path, sizeof abs_path, "%s/%s", cwd, path) >= (int) sizeof abs_path)
                snprintf(abs_path, sizeof abs_path, "%s", path);
        return abs_path;
}

static int parse_argv(int argc, char **argv) {
        enum { ARG_TOKEN = 0x100, ARG_ALLOW_REMOTE, ARG_STDIO, ARG_SHOW_TOKEN, ARG_VERSION, ARG_DIRECT_ONLY, ARG_RELAY_ONLY,
               ARG_JSON, ARG_SSH_CONFIG, ARG_KNOWN_HOSTS, ARG_HOST_KEY_ALIAS, ARG_OPERATOR_KEY, ARG_KNOWN_MACHINES,
               ARG_ACCEPT_UNKNOWN };
        static const struct option options[] = {
                { "qr-code-image", required_argument, NULL, 'i' },
                { "token-file", required_argument, NULL, 'f' },
                { "token", required_argument, NULL, ARG_TOKEN },
                { "listen", required_argument, NULL, 'l' },
                { "allow-remote", no_argument, NULL, ARG_ALLOW_REMOTE },
                { "relay", required_argument, NULL, 'r' },
                { "direct", required_argument, NULL, 'd' },
                { "direct-only", no_argument, NULL, ARG_DIRECT_ONLY },
                { "relay-only", no_argument, NULL, ARG_RELAY_ONLY },
                { "stdio", no_argument, NULL, ARG_STDIO },
                { "operator-key", required_argument, NULL, ARG_OPERATOR_KEY },
                { "known-machines", required_argument, NULL, ARG_KNOWN_MACHINES },
                { "accept-unknown-machine", no_argument, NULL, ARG_ACCEPT_UNKNOWN },
                { "show-token", no_argument, NULL, ARG_SHOW_TOKEN },
                { "json", no_argument, NULL, ARG_JSON },
                { "quiet", no_argument, NULL, 'q' },
                { "ssh-config", required_argument, NULL, ARG_SSH_CONFIG },
                { "known-hosts", required_argument, NULL, ARG_KNOWN_HOSTS },
                { "host-key-alias", required_argument, NULL, ARG_HOST_KEY_ALIAS },
                { "timeout", required_argument, NULL, 't' },
                { "verbose", no_argument, NULL, 'v' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *env = getenv("KAIROS_TOKEN");
        char *end, host[256];
        uint16_t port;
        int c;

        /* Like a token argument, scrubbed where ps e and /proc/PID/environ read it. */
        if (env && *env) {
                arg.source = TOKEN_FROM_ENV, arg.where = strdup(env);
                token_input_scrub((char *) env);
                if (!arg.where)
                        return -ENOMEM;
        }
        while ((c = getopt_long(argc, argv, "i:f:l:r:d:t:vqh", options, NULL)) >= 0)
                switch (c) {
                case 'i':
                        if (set_source(TOKEN_FROM_IMAGE, absolute(optarg)) < 0)
                                return -EINVAL;
                        break;
                case 'f':
                        if (set_source(TOKEN_FROM_FILE, absolute(optarg)) < 0)
                                return -EINVAL;
                        break;
                case ARG_TOKEN:
                        if (!strcmp(optarg, "-")) {
                                if (set_source(TOKEN_FROM_STDIN, optarg) < 0)
                                        return -EINVAL;
                        } else {
                                char *copy = strdup(optarg);

                                /* Scrubbed first, whatever happens next. */
                                token_input_scrub(optarg);
                                if (!copy)
                                        return -ENOMEM;
                                if (set_source(TOKEN_FROM_ARGUMENT, copy) < 0)
                                        return -EINVAL;
                        }
                        break;
                case 'l':
                        if (bridge_listen_check(optarg) < 0) {
                                log_error("--listen %s: give ADDR:PORT (127.0.0.1:2200, [::1]:2200, port 0 for a free one) "
                                          "or the path of a Unix socket (with a slash in it).", optarg);
                                return -EINVAL;
                        }
                        arg.listen = optarg;
                        break;
                case ARG_ALLOW_REMOTE: arg.allow_remote = true; break;
                case 'r':
                        if (arg.dial.n_relays >= DIAL_MAX_RELAYS) {
                                log_error("At most %d --relay.", DIAL_MAX_RELAYS);
                                return -EINVAL;
                        }
                        /* Checked now: a malformed one would only fail later, quietly,
                         * and take the token's own paths down with it. */
                        if (relay_parse(optarg, host, sizeof host, &port) < 0) {
                                log_error("--relay %s: give tcp:HOST:PORT, e.g. tcp:relay.example.org:4001 or tcp:[2001:db8::1]:4001.",
                                          optarg);
                                return -EINVAL;
                        }
                        arg.dial.relays[arg.dial.n_relays++] = optarg;
                        break;
                case 'd':
                        if (arg.dial.n_direct >= DIAL_MAX_DIRECT) {
                                log_error("At most %d --direct.", DIAL_MAX_DIRECT);
                                return -EINVAL;
                        }
                        if (dial_parse_direct(optarg, host, sizeof host, &port) < 0) {
                                log_error("--direct %s: give HOST:PORT, e.g. 192.0.2.7:7140 or [2001:db8::7]:7140 (the machine's tunnel port, 7140 unless changed).",
                                          optarg);
                                return -EINVAL;
                        }
                        arg.dial.direct[arg.dial.n_direct++] = optarg;
                        break;
                case ARG_DIRECT_ONLY: arg.direct_only = true; break;
                case ARG_RELAY_ONLY: arg.relay_only = true; break;
                case ARG_STDIO: arg.stdio = true; break;
                case ARG_OPERATOR_KEY: arg.sealed.operator_key = optarg; break;
                case ARG_KNOWN_MACHINES: arg.sealed.known_machines = optarg; break;
                case ARG_ACCEPT_UNKNOWN: arg.sealed.accept_unknown = true; break;
                case ARG_SHOW_TOKEN: arg.show_token = true; break;
                case ARG_JSON: events_set_json(true); break;
                case 'q': arg.quiet = true; break;
                case ARG_SSH_CONFIG:
                        if (!ssh_config_name_valid(optarg)) {
                                log_error("--ssh-config %s: give a host name for ~/.ssh/config (letters, digits, '.', '-', '_').", optarg);
                                return -EINVAL;
                        }
                        arg.ssh_config_name = optarg;
                        break;
                case ARG_KNOWN_HOSTS: arg.known_hosts_alias = optarg; break;
                case ARG_HOST_KEY_ALIAS:
                        if (!ssh_config_name_valid(optarg)) {
                                log_error("--host-key-alias %s: letters, digits, '.', '-', '_' only.", optarg);
                                return -EINVAL;
                        }
                        arg.host_key_alias = optarg;
                        break;
                case 't':
                        errno = 0;
                        arg.timeout_sec = (unsigned) strtoul(optarg, &end, 10);
                        if (errno || *end || arg.timeout_sec == 0 || arg.timeout_sec > 86400) {
                                log_error("--timeout %s: give seconds, 1 to 86400.", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'v': log_set_max_level(LOG_DEBUG); break;
                case ARG_VERSION:
                        printf("kairos-bridge %s\n", PACKAGE_VERSION);
                        return 0;
                case 'h':
                        help();
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                char *copy = optind + 1 < argc ? NULL : strdup(argv[optind]);

                for (int k = optind; k < argc; k++)
                        token_input_scrub(argv[k]);
                if (!copy || set_source(TOKEN_FROM_ARGUMENT, copy) < 0) {
                        log_error("One token at most; see kairos-bridge --help.");
                        return -EINVAL;
                }
        }
        if (arg.direct_only && arg.relay_only) {
                log_error("--direct-only and --relay-only exclude each other.");
                return -EINVAL;
        }
        if (arg.quiet)
                log_set_max_level(LOG_WARNING);
        /* Nothing given and a person at the keyboard: ask, as wormhole
         * receive does. */
        if (arg.source == TOKEN_FROM_NONE && !arg.known_hosts_alias && isatty(STDIN_FILENO))
                arg.source = TOKEN_FROM_STDIN;
        return 1;
}

static void progress(void *userdata, const char *line) {
        log_info("  %s", line);
        /* Under systemd, systemctl status shows where it stands meanwhile. */
        sd_notifyf(false, "STATUS=Connecting: %s", line);
}

static void on_changed(void *userdata, unsigned connections, enum dial_path path, const char *where) {
        sd_notifyf(false, "STATUS=%u connection%s%s%s", connections, connections == 1 ? "" : "s",
                   path == DIAL_PATH_NONE ? "" : path == DIAL_PATH_RELAY ? " via relay" : " via direct path",
                   "");
        if (path != DIAL_PATH_NONE)
                log_debug("Connection through %s (%u open).", where, connections);
        events_emit_number("sessions", "open", connections);
}

/* A local connection that could not be carried: it was closed at once. */
static void on_failed(void *userdata, const struct dial_result *res) {
        if (res->rotated) {
                log_error("The recovery machine says the token was rotated: read the new code on its screen and start "
                          "kairos-bridge again with it (%s). This ssh connection was ended; sessions opened before "
                          "stay, and the bridge exits once they have ended.", res->last_error);
                events_emit("rotated", "message", "the token was rotated: read the new code", NULL);
                return;
        }
        if (res->rejected || res->handshake_failed) {
                log_error("The recovery machine no longer accepts this token: %s. It was rotated (kairos-recovery rotate) "
                          "or the machine restarted; the ssh connection was ended. Read the new QR code on its screen "
                          "and start kairos-bridge again with it.", res->last_error);
                events_emit("rejected", "message", "the token is no longer accepted: read the new QR code", NULL);
                return;
        }
        /* Through a relay a rotated token is only silence: the machine
         * waits on other channels now. Say what that may mean. */
        log_error("A local connection could not be carried to the recovery machine: %s. If kairos-recovery rotate "
                  "ran there or the machine restarted, read the new QR code and start kairos-bridge with it.",
                  res->last_error[0] ? res->last_error : "no path got through in time");
}

static void on_interrupted(void *userdata, unsigned connections) {
        log_warning("%u ssh session%s open through this bridge. Press Ctrl-C again within %u seconds to end %s "
                    "(whatever runs there, an fsck too, loses its connection); SIGTERM ends at once.",
                    connections, connections == 1 ? " is" : "s are", (unsigned) (BRIDGE_SIGINT_WINDOW_USEC / USEC_PER_SEC),
                    connections == 1 ? "it" : "them");
        events_emit_number("interrupted", "open", connections);
}

/* A token can leave a bridge nothing to try: the machine waits at no relay
 * (Relay= empty) and had no address when its QR code was drawn, or the
 * options rule out what it has. Said at once instead of after --timeout. */
static int check_paths(const struct kairos_token *t) {
        bool direct = arg.dial.n_direct > 0 || (t->n_addresses > 0 && !arg.relay_only);
        bool relay = !arg.direct_only && (arg.dial.n_relays > 0 || !t->no_relay);

        if (direct || relay)
                return 0;
        if (arg.relay_only && t->no_relay) {
                log_error("This machine waits at no relay (its Relay= setting is empty), so --relay-only cannot reach it: "
                          "leave out --relay-only, or name the relay it uses with --relay.");
                return EX_USAGE;
        }
        log_error("The token names no address and no relay: the machine had no network address when this QR code was "
                  "drawn, and waits at no relay. It draws a new QR code when it gets an address: use that one, "
                  "or give an address that reaches it with --direct HOST:PORT.");
        return EX_UNAVAILABLE;
}

static void show_token(const struct kairos_token *t) {
        char password[KAIROS_PASSWORD_SIZE], id[KAIROS_SERVICE_ID_HEX + 1], a[64];

        kdf_password(t->secret, password);
        kdf_service_id(t->secret, id);
        printf("service:   %s\n", id);
        printf("password:  %s\n", password);
        if (t->n_addresses == 0)
                printf("addresses: none (relay only)\n");
        for (size_t i = 0; i < t->n_addresses; i++) {
                address_to_string(&t->addresses[i], a, sizeof a);
                printf(t->addresses[i].family == AF_INET6 ? "address:   [%s]:%u\n" : "address:   %s:%u\n", a, t->port);
        }
        if (t->no_relay)
                printf("relay:     none (direct only)\n");
        else if (t->n_relays == 0)
                printf("relay:     %s (default)\n", KAIROS_DEFAULT_RELAY);
        for (size_t i = 0; i < t->n_relays; i++)
                printf("relay:     %s\n", t->relays[i]);
        sodium_memzero(password, sizeof password);
}

/* Why no path got through, said once; the exit status. */
static int unreachable(const struct dial_result *res, bool tries_relay) {
        if (res->rotated) {
                /* Authenticated (tunnel.h): no path and no retry will do. */
                log_error("The token was rotated: read the new code (%s). kairos-recovery rotate ran on the machine: "
                          "it shows a new QR code and password now.", res->last_error);
                events_emit("rotated", "message", "the token was rotated: read the new code", NULL);
                return EX_NOPERM;
        }
        if (res->busy && !res->handshake_failed) {
                log_error("The recovery machine is busy and refused us: %s. This is not about the token: too many "
                          "connections wait there, perhaps someone is flooding it. Try again in a minute; if it "
                          "persists, try another path (--direct ADDR:PORT or --relay), and ask whoever is at the machine "
                          "to look at \"systemctl status kairos-recovery\" and its journal.",
                          res->last_error);
                return EX_TEMPFAIL;
        }
        if (res->interference && !res->handshake_failed) {
                log_error("Someone at the relay answered in the recovery machine's place: %s. Nothing was revealed to them. "
                          "Use the direct path (--direct ADDR:PORT), or run kairos-recovery rotate on the machine and use the new QR code.",
                          res->last_error);
                return EX_UNAVAILABLE;
        }
        if (res->handshake_failed) {
                log_error("The token was rejected: %s. The QR code may be from an earlier boot or rotated; ask for the current one.",
                          res->last_error);
                return EX_NOPERM;
        }
        log_struct(LOG_ERR, 0, MESSAGE_ID_BRIDGE_UNREACHABLE, NULL,
                   "The recovery machine is not reachable: %s. Check that it shows the QR code, and that this workstation can reach %s.",
                   res->last_error[0] ? res->last_error : "no path got through in time",
                   tries_relay ? "the relay or its address" : "its address");
        return EX_UNAVAILABLE;
}

/* --stdio: before ssh sees a byte from the machine, its host keys are in
 * the bridge's known_hosts under the alias that ssh's HostKeyAlias names
 * (--ssh-config), for the KnownHostsCommand to hand to ssh. */
static void stdio_ready(const struct dial_result *res, void *userdata) {
        const char *alias = userdata;
        char dir[4096], kh[4200];

        if (known_hosts_dir(dir, sizeof dir) < 0 || known_hosts_write(dir, alias, &res->hello, kh, sizeof kh) < 0)
                log_warning("Cannot write a known_hosts file; ssh will not find the host key.");
        else
                log_debug("Host keys of %s stored as %s in %s.", res->hello.hostname, alias, kh);
}

static int run(void) {
        char password[KAIROS_PASSWORD_SIZE], id[KAIROS_SERVICE_ID_HEX + 1], dir[4096], kh[4200], alias[300];
        char listen_shown[300];
        struct kairos_token token;
        struct dial_result res;
        struct bridge *b;
        struct bridge_callbacks cb = { .changed = on_changed, .failed = on_failed, .interrupted = on_interrupted };
        int r, listen_fd = -1;
        bool tries_relay, rotated;

        token_input_set_sealed(&arg.sealed);
        if (arg.known_hosts_alias) {
                forget_text();
                return known_hosts_print_alias(arg.known_hosts_alias, stdout) < 0 ? EX_NOINPUT : 0;
        }
        if (arg.ssh_config_name && arg.source != TOKEN_FROM_IMAGE && arg.source != TOKEN_FROM_FILE) {
                forget_text();
                log_error("--ssh-config needs the token in a file that ssh can read it from each time: "
                          "--qr-code-image PHOTO or --token-file FILE.");
                return EX_USAGE;
        }
        r = token_input_read(arg.source, arg.where, &token);
        forget_text(); /* already wiped: only freed */
        if (r != 0)
                return r;
        if (arg.show_token) {
                show_token(&token);
                token_clear(&token);
                return 0;
        }
        r = check_paths(&token);
        if (r != 0) {
                token_clear(&token);
                return r;
        }
        if (arg.ssh_config_name) {
                struct ssh_config_options sc = {
                        .name = arg.ssh_config_name,
                        .image = arg.source == TOKEN_FROM_IMAGE ? abs_path : NULL,
                        .token_file = arg.source == TOKEN_FROM_FILE ? abs_path : NULL,
                        .direct = arg.dial.direct, .n_direct = arg.dial.n_direct,
                        .relays = arg.dial.relays, .n_relays = arg.dial.n_relays,
                        .direct_only = arg.direct_only, .relay_only = arg.relay_only,
                        .timeout_sec = arg.timeout_sec == DEFAULT_TIMEOUT_SEC ? 0 : arg.timeout_sec,
                };
                token_clear(&token);
                return ssh_config_print(&sc, stdout) < 0 ? EX_OSERR : 0;
        }
        tries_relay = !arg.direct_only && (arg.dial.n_relays > 0 || !token.no_relay);
        kdf_password(token.secret, password);
        kdf_service_id(token.secret, id);
        arg.dial.token = &token;
        arg.dial.timeout = arg.timeout_sec * USEC_PER_SEC;
        arg.dial.progress = progress;
        arg.dial.skip_relays = arg.direct_only;
        arg.dial.skip_token_addresses = arg.relay_only;
        snprintf(alias, sizeof alias, "%s%s", arg.host_key_alias ? "" : "kairos-", arg.host_key_alias ? arg.host_key_alias : id);

        signal(SIGPIPE, SIG_IGN);
        b = bridge_new(&arg.dial, &cb, NULL);
        if (!b)
                return EX_OSERR;
        bridge_handle_signals(b);
        if (arg.stdio) {
                r = bridge_stdio(b, &res, stdio_ready, alias);
                bridge_free(b);
                token_clear(&token);
                sodium_memzero(password, sizeof password);
                if (r == -ETIMEDOUT || r == -EKEYREVOKED)
                        return unreachable(&res, tries_relay);
                if (r == -ECANCELED)
                        return bridge_stopped_by() == SIGINT ? 130 : 0;
                return r < 0 ? EX_IOERR : 0;
        }

        listen_fd = bridge_listen(arg.listen, arg.allow_remote, listen_shown, sizeof listen_shown);
        if (listen_fd < 0) {
                if (listen_fd == -EADDRINUSE)
                        log_error("%s is already in use (another kairos-bridge?). Choose another with --listen 127.0.0.1:PORT.", arg.listen);
                else if (listen_fd == -EPERM)
                        log_error("--listen %s is not a loopback address: anyone who can reach it would reach the recovery machine's SSH. Add --allow-remote if you mean it.", arg.listen);
                else if (listen_fd == -EINVAL)
                        log_error("--listen %s: give ADDR:PORT, e.g. 127.0.0.1:2200.", arg.listen);
                else if (listen_fd == -EEXIST)
                        log_error("--listen %s: something that is not an old socket of yours is in the way.", arg.listen);
                else
                        log_error_errno(listen_fd, "Cannot listen on %s: %m", arg.listen);
                bridge_free(b);
                token_clear(&token);
                sodium_memzero(password, sizeof password);
                return listen_fd == -EINVAL || listen_fd == -EPERM ? EX_USAGE : EX_OSERR;
        }

        log_info("Connecting to the recovery machine (service %s)", id);
        sd_notifyf(false, "STATUS=Connecting to the recovery machine (service %s)", id);
        events_emit("connecting", "service", id, NULL);
        r = bridge_probe(b, &res);
        if (r < 0) {
                close(listen_fd);
                if (bridge_listen_is_unix(arg.listen))
                        (void) unlink(listen_shown);
                bridge_free(b);
                token_clear(&token);
                sodium_memzero(password, sizeof password);
                if (r == -ECANCELED) {
                        /* Not a success: nothing was reached. */
                        if (bridge_stopped_by() == SIGINT) {
                                log_info("Interrupted before the recovery machine was reached.");
                                return 130;
                        }
                        return 0;
                }
                return unreachable(&res, tries_relay);
        }
        log_info("Recovery machine %s (service %s)", res.hello.hostname, id);
        tell_password(password, id);
        kh[0] = '\0';
        if (known_hosts_dir(dir, sizeof dir) < 0 || known_hosts_write(dir, alias, &res.hello, kh, sizeof kh) < 0)
                log_warning("Cannot write a known_hosts file; ssh will ask to confirm the host key (and not store it).");
        {
                char f_path[320], f_listen[320], f_host[300], f_service[64];
                const char *fields[] = { f_path, f_listen, f_host, f_service, NULL };

                snprintf(f_path, sizeof f_path, "KAIROS_PATH=%s", res.where);
                snprintf(f_listen, sizeof f_listen, "KAIROS_LISTEN=%s", listen_shown);
                snprintf(f_host, sizeof f_host, "KAIROS_HOSTNAME=%s", res.hello.hostname);
                snprintf(f_service, sizeof f_service, "KAIROS_SERVICE=%s", id);
                log_struct(LOG_INFO, 0, MESSAGE_ID_BRIDGE_REACHABLE, fields, "SSH server reachable at %s (via %s)",
                           listen_shown, res.where);
        }
        events_emit("reachable", "listen", listen_shown, "via", res.where, "hostname", res.hello.hostname,
                    "service", id, "known_hosts", kh, "host_key_alias", alias, NULL);
        tell_ssh_command(listen_shown, alias, kh);
        sd_notifyf(false, "READY=1\nSTATUS=Reachable via %s, 0 connections", res.where);
        sodium_memzero(password, sizeof password);

        r = bridge_serve(b, listen_fd);
        sd_notify(false, "STOPPING=1");
        rotated = bridge_rotated(b);
        if (bridge_listen_is_unix(arg.listen))
                (void) unlink(listen_shown);
        bridge_free(b);
        token_clear(&token);
        forget_password_file();
        if (rotated) {
                log_error("Stopped: the token was rotated: read the new code on the machine's screen, and start "
                          "kairos-bridge again with it.");
                return EX_NOPERM;
        }
        log_struct(LOG_INFO, 0, MESSAGE_ID_BRIDGE_STOPPED, NULL, "Stopped; all connections closed.");
        return r < 0 ? EX_OSERR : 0;
}

int main(int argc, char **argv) {
        int r;

        log_open();
        /* The token, its keys and the password live in this process: no
         * core dump of it, and no ptrace by the user's other programs. */
        prctl(PR_SET_DUMPABLE, 0);
        if (sodium_init() < 0)
                return EX_SOFTWARE;
        if (argc > 1 && !strcmp(argv[1], "keygen"))
                return bridge_keygen(argc - 1, argv + 1);
        r = parse_argv(argc, argv);
        if (r <= 0) {
                forget_text();
                return r < 0 ? EX_USAGE : 0;
        }
        r = run();
        events_emit_number("stopped", "exit", r);
        return r;
}
