/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kairos-bridge's command line: its options, where the token comes from,
 * and --help. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "events.h"
#include "log.h"
#include "serve.h"
#include "ssh-config.h"
#include "token.h"

void bridge_help(void) {
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
               "See kairos-bridge(1).\n", BRIDGE_DEFAULT_LISTEN, BRIDGE_DEFAULT_TIMEOUT_SEC);
}

static bool text_source(enum token_source s) {
        return s == TOKEN_FROM_ENV || s == TOKEN_FROM_ARGUMENT;
}

/* Our copy of a token given as text: wiped, then freed. token_input_read()
 * wipes it as soon as it is decoded; this is for the ways out before. */
void bridge_args_forget_text(struct bridge_args *a) {
        if (text_source(a->source) && a->where) {
                sodium_memzero(a->where, strlen(a->where));
                free(a->where);
        }
        a->where = NULL;
}

/* where: for a text source, a copy of the text that a now owns (wiped and
 * freed on error too). */
static int set_source(struct bridge_args *a, enum token_source s, char *where) {
        if (a->source != TOKEN_FROM_NONE && a->source != TOKEN_FROM_ENV) {
                log_error("Give the token one way only.");
                if (text_source(s) && where) {
                        sodium_memzero(where, strlen(where));
                        free(where);
                }
                return -EINVAL;
        }
        /* An option overrides $KAIROS_TOKEN: its copy goes now. */
        bridge_args_forget_text(a);
        a->source = s;
        a->where = where;
        return 0;
}

/* Relative to the directory the command was typed in, made absolute. */
static char *absolute(struct bridge_args *a, const char *path) {
        char cwd[PATH_MAX];

        if (*path == '/' || !getcwd(cwd, sizeof cwd) ||
            snprintf(a->abs_path, sizeof a->abs_path, "%s/%s", cwd, path) >= (int) sizeof a->abs_path)
                snprintf(a->abs_path, sizeof a->abs_path, "%s", path);
        return a->abs_path;
}

int bridge_parse_argv(struct bridge_args *a, int argc, char **argv) {
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
                a->source = TOKEN_FROM_ENV, a->where = strdup(env);
                token_input_scrub((char *) env);
                if (!a->where)
                        return -ENOMEM;
        }
        while ((c = getopt_long(argc, argv, "i:f:l:r:d:t:vqh", options, NULL)) >= 0)
                switch (c) {
                case 'i':
                        if (set_source(a, TOKEN_FROM_IMAGE, absolute(a, optarg)) < 0)
                                return -EINVAL;
                        break;
                case 'f':
                        if (set_source(a, TOKEN_FROM_FILE, absolute(a, optarg)) < 0)
                                return -EINVAL;
                        break;
                case ARG_TOKEN:
                        if (!strcmp(optarg, "-")) {
                                if (set_source(a, TOKEN_FROM_STDIN, optarg) < 0)
                                        return -EINVAL;
                        } else {
                                char *copy = strdup(optarg);

                                /* Scrubbed first, whatever happens next. */
                                token_input_scrub(optarg);
                                if (!copy)
                                        return -ENOMEM;
                                if (set_source(a, TOKEN_FROM_ARGUMENT, copy) < 0)
                                        return -EINVAL;
                        }
                        break;
                case 'l':
                        if (bridge_listen_check(optarg) < 0) {
                                log_error("--listen %s: give ADDR:PORT (127.0.0.1:2200, [::1]:2200, port 0 for a free one) "
                                          "or the path of a Unix socket (with a slash in it).", optarg);
                                return -EINVAL;
                        }
                        a->listen = optarg;
                        break;
                case ARG_ALLOW_REMOTE: a->allow_remote = true; break;
                case 'r':
                        if (a->dial.n_relays >= DIAL_MAX_RELAYS) {
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
                        a->dial.relays[a->dial.n_relays++] = optarg;
                        break;
                case 'd':
                        if (a->dial.n_direct >= DIAL_MAX_DIRECT) {
                                log_error("At most %d --direct.", DIAL_MAX_DIRECT);
                                return -EINVAL;
                        }
                        if (dial_parse_direct(optarg, host, sizeof host, &port) < 0) {
                                log_error("--direct %s: give HOST:PORT, e.g. 192.0.2.7:7140 or [2001:db8::7]:7140 (the machine's tunnel port, 7140 unless changed).",
                                          optarg);
                                return -EINVAL;
                        }
                        a->dial.direct[a->dial.n_direct++] = optarg;
                        break;
                case ARG_DIRECT_ONLY: a->direct_only = true; break;
                case ARG_RELAY_ONLY: a->relay_only = true; break;
                case ARG_STDIO: a->stdio = true; break;
                case ARG_OPERATOR_KEY: a->sealed.operator_key = optarg; break;
                case ARG_KNOWN_MACHINES: a->sealed.known_machines = optarg; break;
                case ARG_ACCEPT_UNKNOWN: a->sealed.accept_unknown = true; break;
                case ARG_SHOW_TOKEN: a->show_token = true; break;
                case ARG_JSON: events_set_json(true); break;
                case 'q': a->quiet = true; break;
                case ARG_SSH_CONFIG:
                        if (!ssh_config_name_valid(optarg)) {
                                log_error("--ssh-config %s: give a host name for ~/.ssh/config (letters, digits, '.', '-', '_').", optarg);
                                return -EINVAL;
                        }
                        a->ssh_config_name = optarg;
                        break;
                case ARG_KNOWN_HOSTS: a->known_hosts_alias = optarg; break;
                case ARG_HOST_KEY_ALIAS:
                        if (!ssh_config_name_valid(optarg)) {
                                log_error("--host-key-alias %s: letters, digits, '.', '-', '_' only.", optarg);
                                return -EINVAL;
                        }
                        a->host_key_alias = optarg;
                        break;
                case 't':
                        errno = 0;
                        a->timeout_sec = (unsigned) strtoul(optarg, &end, 10);
                        if (errno || *end || a->timeout_sec == 0 || a->timeout_sec > 86400) {
                                log_error("--timeout %s: give seconds, 1 to 86400.", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'v': log_set_max_level(LOG_DEBUG); break;
                case ARG_VERSION:
                        printf("kairos-bridge %s\n", PACKAGE_VERSION);
                        return 0;
                case 'h':
                        bridge_help();
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                char *copy = optind + 1 < argc ? NULL : strdup(argv[optind]);

                for (int k = optind; k < argc; k++)
                        token_input_scrub(argv[k]);
                if (!copy || set_source(a, TOKEN_FROM_ARGUMENT, copy) < 0) {
                        log_error("One token at most; see kairos-bridge --help.");
                        return -EINVAL;
                }
        }
        if (a->direct_only && a->relay_only) {
                log_error("--direct-only and --relay-only exclude each other.");
                return -EINVAL;
        }
        if (a->quiet)
                log_set_max_level(LOG_WARNING);
        /* Nothing given and a person at the keyboard: ask, as wormhole
         * receive does. */
        if (a->source == TOKEN_FROM_NONE && !a->known_hosts_alias && isatty(STDIN_FILENO))
                a->source = TOKEN_FROM_STDIN;
        return 1;
}
