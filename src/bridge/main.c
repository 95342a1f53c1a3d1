/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kairos-bridge: from a photo of the QR code (or the token as text) to a
 * local port where `ssh` reaches the recovery machine's root shell. */
#include <errno.h>
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

#include "cli.h"
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

static struct bridge_args arg = BRIDGE_ARGS_INIT;

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
                bridge_args_forget_text(&arg);
                return known_hosts_print_alias(arg.known_hosts_alias, stdout) < 0 ? EX_NOINPUT : 0;
        }
        if (arg.ssh_config_name && arg.source != TOKEN_FROM_IMAGE && arg.source != TOKEN_FROM_FILE) {
                bridge_args_forget_text(&arg);
                log_error("--ssh-config needs the token in a file that ssh can read it from each time: "
                          "--qr-code-image PHOTO or --token-file FILE.");
                return EX_USAGE;
        }
        r = token_input_read(arg.source, arg.where, &token);
        bridge_args_forget_text(&arg); /* already wiped: only freed */
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
                        .image = arg.source == TOKEN_FROM_IMAGE ? arg.abs_path : NULL,
                        .token_file = arg.source == TOKEN_FROM_FILE ? arg.abs_path : NULL,
                        .direct = arg.dial.direct, .n_direct = arg.dial.n_direct,
                        .relays = arg.dial.relays, .n_relays = arg.dial.n_relays,
                        .direct_only = arg.direct_only, .relay_only = arg.relay_only,
                        .timeout_sec = arg.timeout_sec == BRIDGE_DEFAULT_TIMEOUT_SEC ? 0 : arg.timeout_sec,
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
        r = bridge_parse_argv(&arg, argc, argv);
        if (r <= 0) {
                bridge_args_forget_text(&arg);
                return r < 0 ? EX_USAGE : 0;
        }
        r = run();
        events_emit_number("stopped", "exit", r);
        return r;
}
