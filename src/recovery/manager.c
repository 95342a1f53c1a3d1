/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "address-policy.h"
#include "host-key.h"
#include "io.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "netwatch.h"
#include "relay-waiters.h"
#include "screen.h"
#include "notify.h"
#include "session-protocol.h"
#include "sessions.h"
#include "state.h"

/* How long after a rotate the code before it is still answered, with
 * "rotated" only (tunnel.h): long enough for a bridge left running with it,
 * short enough that the old secret does not linger in memory. Environment
 * KAIROS_ROTATE_GRACE_SEC overrides it (0: not at all). */
#define ROTATE_GRACE_SEC 600

/* What systemctl status shows: "Waiting for bridge · relay tcp:… connected
 * · 0 sessions", then "1 session (via relay) · 2 sessions total". */
static void update_status(struct manager *m) {
        char status[512], relays[256] = "";
        unsigned n = m->sessions ? sessions_authenticated(m->sessions) : 0;
        size_t off = 0;

        for (size_t i = 0; m->waiters && i < relay_waiters_count(m->waiters); i++) {
                int k = snprintf(relays + off, sizeof relays - off, " · relay %s %s", relay_waiters_name(m->waiters, i),
                                 relay_waiters_waiting(m->waiters, i) > 0 ? "connected" : "not reachable");
                if (k < 0 || (size_t) k >= sizeof relays - off)
                        break;
                off += (size_t) k;
        }
        if (n == 0)
                snprintf(status, sizeof status, "Waiting for bridge%s%s · %u sessions", relays,
                         m->token.n_addresses == 0 ? " · no address" : "", n);
        else {
                struct session_info si;
                const char *via = "direct";
                for (size_t i = 0; sessions_get(m->sessions, i, &si); i++)
                        if (si.state == SESSION_AUTHENTICATED && !strncmp(si.peer, "relay", 5))
                                via = "relay";
                snprintf(status, sizeof status, "%u session%s (via %s) · %u sessions total%s", n, n == 1 ? "" : "s", via,
                         sessions_total(m->sessions), relays);
        }
        /* A flood or a camper shows here, not only in the journal. */
        if (m->sessions && sessions_dropped(m->sessions) > 0) {
                size_t k = strlen(status);
                snprintf(status + k, sizeof status - k, " · %u connection%s turned away", sessions_dropped(m->sessions),
                         sessions_dropped(m->sessions) == 1 ? "" : "s");
        }
        if (notify_status(m->notify) && *notify_status(m->notify)) {
                size_t k = strlen(status);
                snprintf(status + k, sizeof status - k, " · %s", notify_status(m->notify));
        }
        if (strcmp(status, m->last_status)) {
                sd_notifyf(false, "STATUS=%s", status);
                snprintf(m->last_status, sizeof m->last_status, "%s", status);
        }
}

static void changed(void *userdata) {
        struct manager *m = userdata;

        update_status(m);
        screen_update(m);
}

/* The token's text changes with the addresses; the secret does not. */
static void refresh_token(struct manager *m, bool force) {
        struct address_candidate c[64];
        char text[KAIROS_TOKEN_TEXT_MAX];
        int n, r;

        n = address_policy_candidates(c, ELEMENTSOF(c));
        address_policy_pick(c, n > 0 ? (size_t) n : 0, &m->token);
        m->token.port = m->listeners.tunnel_port ? m->listeners.tunnel_port : m->config.tunnel_port;
        if (m->listeners.tunnel_fd < 0)
                m->token.n_addresses = 0; /* nothing listens: offering addresses would only cost time */
        /* The default relay is implied; others are spelled out; with Relay=
         * empty the token says "no relay", so that no bridge knocks at one. */
        m->token.n_relays = 0;
        m->token.no_relay = m->config.n_relays == 0;
        if (!(m->config.n_relays == 1 && !strcmp(m->config.relays[0], KAIROS_DEFAULT_RELAY)))
                for (size_t i = 0; i < m->config.n_relays && i < KAIROS_TOKEN_MAX_RELAYS; i++)
                        snprintf(m->token.relays[m->token.n_relays++], KAIROS_RELAY_TEXT_MAX, "%s", m->config.relays[i]);
        r = token_encode(&m->token, text, sizeof text);
        if (r < 0) {
                log_error_errno(r, "Cannot encode the token: %m");
                return;
        }
        if (!force && !strcmp(text, m->token_text))
                return;
        memcpy(m->token_text, text, sizeof text);
        r = state_write_file(m->dir, "token", text, strlen(text), 0600);
        if (r < 0)
                log_warning_errno(r, "Cannot write %s/token: %m (the screen still shows it)", m->dir);
        if (!force)
                log_info("Addresses changed: the QR code now offers %zu direct address%s.", m->token.n_addresses,
                         m->token.n_addresses == 1 ? "" : "es");
        screen_token_changed(m);
        update_status(m);
}

static void on_net_changed(void *userdata) {
        struct manager *m = userdata;

        refresh_token(m, false);
        if (m->waiters)
                relay_waiters_network_changed(m->waiters);
        if (m->retired_waiters)
                relay_waiters_network_changed(m->retired_waiters);
        notify_network_changed(m->notify);
}

static int session_config(void *userdata, enum session_transport t, const char *peer, char *buf, size_t size) {
        struct manager *m = userdata;
        char hex[KAIROS_SECRET_SIZE * 2 + 1], old[KAIROS_SECRET_SIZE * 2 + 1];
        int n;

        /* One value a line: a newline in a value would add a line of its own. */
        if (strchr(m->host_key, '\n') || strchr(peer, '\n') || strchr(m->config.authorized_keys, '\n'))
                return log_error_errno(-EINVAL, "A path or peer name holds a newline; not starting a session.");

        sodium_bin2hex(hex, sizeof hex, m->token.secret, KAIROS_SECRET_SIZE);
        sodium_bin2hex(old, sizeof old, m->retired_secret, KAIROS_SECRET_SIZE);
        n = snprintf(buf, size,
                     "transport %s\nsecret %s\n%s%s%shostkey %s\nhostname %s\npeer %s\nmax_auth_tries %u\nauth_timeout %u\n"
                     "handshake_timeout %u\n%s%s%s",
                     t == SESSION_TUNNEL ? "tunnel" : "ssh", hex,
                     m->have_retired && t == SESSION_TUNNEL ? "retired_secret " : "",
                     m->have_retired && t == SESSION_TUNNEL ? old : "",
                     m->have_retired && t == SESSION_TUNNEL ? "\n" : "", m->host_key, m->hostname, peer,
                     m->config.max_auth_tries, m->config.auth_timeout_sec, m->config.handshake_timeout_sec,
                     m->config.authorized_keys[0] ? "authorized_keys " : "", m->config.authorized_keys,
                     m->config.authorized_keys[0] ? "\n" : "");
        sodium_memzero(hex, sizeof hex);
        sodium_memzero(old, sizeof old);
        return n < 0 || (size_t) n >= size ? -ENOBUFS : n;
}

/* "direct 192.0.2.9:51234", and the source admission.h counts it under. */
static void origin_of(int fd, bool tunnel, struct session_origin *o) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        char a[INET6_ADDRSTRLEN] = "?";
        unsigned port = 0;

        *o = (struct session_origin) { .path = tunnel ? ADMISSION_DIRECT : ADMISSION_SSH };
        if (getpeername(fd, (struct sockaddr *) &ss, &len) < 0)
                len = 0;
        else if (ss.ss_family == AF_INET6) {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &ss;
                if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
                        inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], a, sizeof a);
                else
                        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
                port = ntohs(s6->sin6_port);
        } else if (ss.ss_family == AF_INET) {
                inet_ntop(AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, a, sizeof a);
                port = ntohs(((struct sockaddr_in *) &ss)->sin_port);
        }
        snprintf(o->peer, sizeof o->peer, "%s %s:%u", tunnel ? "direct" : "ssh", a, port);
        admission_source(len ? (struct sockaddr *) &ss : NULL, len, o->source, sizeof o->source);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct manager *m = userdata;
        struct session_origin o;
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

        if (c < 0)
                return 0;
        origin_of(c, fd == m->listeners.tunnel_fd, &o);
        (void) sessions_start(m->sessions, c, &o);
        return 0;
}

static void paired(struct manager *m, int fd, const char *relay, unsigned slot, bool retired) {
        struct session_origin o = { .path = ADMISSION_RELAY, .slot = slot, .retired = retired };

        snprintf(o.peer, sizeof o.peer, "relay %s slot %u%s", relay, slot, retired ? " (old code)" : "");
        snprintf(o.source, sizeof o.source, "%.*s", (int) sizeof o.source - 1, o.peer);
        snprintf(o.relay, sizeof o.relay, "%s", relay);
        (void) sessions_start(m->sessions, fd, &o);
}

static void on_paired(int fd, const char *relay, unsigned slot, void *userdata) {
        paired(userdata, fd, relay, slot, false);
}

/* On a channel of the code before the rotation: the helper, given that
 * secret as retired_secret, tells the bridge and ends. */
static void on_paired_retired(int fd, const char *relay, unsigned slot, void *userdata) {
        paired(userdata, fd, relay, slot, true);
}

/* The grace is over, or a daemon that stops: the old code's waiters close
 * and its secret is wiped. */
static void retire_end(struct manager *m) {
        m->retired_waiters = relay_waiters_free(m->retired_waiters);
        m->retired_timer = sd_event_source_disable_unref(m->retired_timer);
        sodium_memzero(m->retired_secret, sizeof m->retired_secret);
        m->have_retired = false;
}

static int on_retire_end(sd_event_source *s, uint64_t usec, void *userdata) {
        retire_end(userdata);
        log_info("The code before the last rotation is forgotten: bridges still holding it now wait until their timeout.");
        return 0;
}

/* Before the new secret replaces it: keeps the current one for the grace.
 * Only the latest old code is kept (a second rotate replaces it). */
static void retire_secret(struct manager *m) {
        const char *env = getenv("KAIROS_ROTATE_GRACE_SEC");
        unsigned grace = ROTATE_GRACE_SEC;
        const char *relays[CONF_MAX_RELAYS];
        struct relay_waiters_callbacks cb = { .paired = on_paired_retired };

        if (env && *env) {
                char *end;
                unsigned long v = strtoul(env, &end, 10);
                if (!*end && v <= 86400)
                        grace = (unsigned) v;
        }
        retire_end(m);
        if (grace == 0)
                return;
        memcpy(m->retired_secret, m->token.secret, sizeof m->retired_secret);
        m->have_retired = true;
        if (sd_event_add_time_relative(m->event, &m->retired_timer, CLOCK_MONOTONIC, grace * USEC_PER_SEC, USEC_PER_SEC,
                                       on_retire_end, m) < 0) {
                retire_end(m); /* never kept without its end */
                return;
        }
        for (size_t i = 0; i < m->config.n_relays; i++)
                relays[i] = m->config.relays[i];
        if (m->config.n_relays > 0 &&
            relay_waiters_new(m->event, m->retired_secret, relays, m->config.n_relays, &cb, m, &m->retired_waiters) < 0) {
                log_warning("Cannot wait at the relays with the old code: bridges holding it through a relay wait until "
                            "their timeout.");
                return;
        }
        if (m->retired_waiters) {
                relay_waiters_set_quiet(m->retired_waiters);
                relay_waiters_set_replace_interval(m->retired_waiters, m->config.waiter_replace_sec);
        }
}

/* A relay slot whose pairings keep failing their handshake is reopened
 * more and more slowly (relay-waiters.h). */
static void on_handshake(void *userdata, const struct session_origin *o, bool ok) {
        struct manager *m = userdata;
        struct relay_waiters *w = o->retired ? m->retired_waiters : m->waiters;

        if (o->path == ADMISSION_RELAY && w)
                relay_waiters_pairing_done(w, o->relay, o->slot, ok);
}

static int start_waiters(struct manager *m) {
        const char *relays[CONF_MAX_RELAYS];
        struct relay_waiters_callbacks cb = { .paired = on_paired, .changed = changed };
        int r;

        m->waiters = relay_waiters_free(m->waiters);
        if (m->config.n_relays == 0)
                return 0;
        for (size_t i = 0; i < m->config.n_relays; i++)
                relays[i] = m->config.relays[i];
        r = relay_waiters_new(m->event, m->token.secret, relays, m->config.n_relays, &cb, m, &m->waiters);
        if (r < 0)
                return log_error_errno(r, "Cannot wait at the relays: %m");
        relay_waiters_set_replace_interval(m->waiters, m->config.waiter_replace_sec);
        return 0;
}

/* (Re)creates the sender from the configuration and sends the code now. */
static void start_notify(struct manager *m) {
        const struct notify_source src = {
                .token_text = m->token_text, .password = m->password,
                .fingerprint = m->fingerprint, .hostname = m->hostname,
        };
        const char *helper = getenv("KAIROS_NOTIFY_HELPER") ?: KAIROS_NOTIFY_HELPER;

        m->notify = notify_free(m->notify);
        if (notify_new(m->event, &m->config, helper, &src, changed, m, &m->notify) >= 0)
                notify_send(m->notify);
        update_status(m);
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct manager *m = userdata;
        struct recovery_config c;

        sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long) now_usec());
        conf_load(&c, m->config_path, NULL, NULL, NULL);
        if (!conf_equal(&c, &m->config)) {
                bool relays_changed = c.n_relays != m->config.n_relays ||
                                      memcmp(c.relays, m->config.relays, sizeof c.relays) != 0;
                bool notify_changed = c.n_notify_keys != m->config.n_notify_keys ||
                                      memcmp(c.notify_keys, m->config.notify_keys, sizeof c.notify_keys) != 0 ||
                                      strcmp(c.notify_url, m->config.notify_url) || strcmp(c.notify_ca, m->config.notify_ca) ||
                                      c.notify_format != m->config.notify_format || strcmp(c.machine_key, m->config.machine_key);
                m->config = c;
                log_set_max_level(c.log_level);
                sessions_set_max_startups(m->sessions, c.max_startups);
                sessions_set_handshake_timeout(m->sessions, c.handshake_timeout_sec);
                if (relays_changed)
                        start_waiters(m);
                screen_config_changed(m);
                refresh_token(m, false);
                if (notify_changed)
                        start_notify(m); /* the new recipients or server get the code now */
                log_info("Configuration reloaded; the token is kept.");
        } else
                log_info("Configuration reloaded: nothing changed.");
        sd_notify(false, "READY=1");
        update_status(m);
        return 0;
}

static int on_rotate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct manager *m = userdata;
        unsigned ended;
        int r;

        retire_secret(m);
        r = state_rotate_secret(m->dir, m->token.secret);
        if (r < 0)
                log_warning_errno(r, "Cannot store the new secret: %m (it is used anyway, until the daemon restarts)");
        kdf_password(m->token.secret, m->password);
        kdf_service_id(m->token.secret, m->service_id);
        if (m->waiters)
                relay_waiters_set_secret(m->waiters, m->token.secret);
        refresh_token(m, true);
        /* Whoever connected with the old token and has not logged in yet
         * must not finish now: those connections end here. Sessions that
         * logged in stay (the person in them was let in before). */
        ended = sessions_end_unauthenticated(m->sessions);
        log_struct(LOG_NOTICE, 0, MESSAGE_ID_TOKEN_ROTATED, NULL,
                   "Token rotated: new QR code and password (service %s); the old ones open nothing new "
                   "(%u connection%s not logged in ended)%s.", m->service_id, ended, ended == 1 ? "" : "s",
                   m->have_retired ? "; bridges with the old code are told to read the new one for a while" : "");
        notify_send(m->notify);
        return 0;
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        uint64_t interval = 0;

        sd_notify(false, "WATCHDOG=1");
        sd_watchdog_enabled(false, &interval);
        sd_event_source_set_time_relative(s, MAX(interval / 2, USEC_PER_SEC));
        sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

/* A runtime directory that cannot hold a key (full, read-only) must not
 * cost the sessions: a key in memory, passed to every session helper. */
static int host_key_fallback(struct manager *m) {
        int fd = host_key_in_memory(m->helper, m->host_public_key, sizeof m->host_public_key);

        if (fd < 0)
                return log_error_errno(fd, "Cannot make a host key, neither in %s nor in memory: %m", m->dir);
        m->host_key_fd = fd;
        snprintf(m->host_key, sizeof m->host_key, "/proc/self/fd/%d", SESSION_FD_HOST_KEY);
        log_warning("Cannot store a host key in %s: keeping one in memory (a restart of the daemon shows a new "
                    "fingerprint).", m->dir);
        return state_key_fingerprint(m->host_public_key, m->fingerprint, sizeof m->fingerprint);
}

/* A configured host key the session helper can serve: readable, and of
 * the one type its SSH algorithm policy offers (src/session/ssh-policy.c).
 * Another type is passed over with a warning, as a missing key is, rather
 * than failing every session. Its type is read from its .pub file; a key
 * without one is let through, and the caller says what is missing. */
static bool configured_host_key_usable(const char *path) {
        char pub[PATH_MAX + 8], type[64] = "";
        FILE *f;

        if (!path[0] || access(path, R_OK) < 0)
                return false;
        snprintf(pub, sizeof pub, "%s.pub", path);
        f = fopen(pub, "re");
        if (!f)
                return true;
        if (fscanf(f, "%63s", type) != 1)
                type[0] = '\0';
        fclose(f);
        if (type[0] && strcmp(type, "ssh-ed25519") != 0) {
                log_warning("Host key %s is %s, but the SSH server offers Ed25519 host keys only (kairos-recovery(8)): "
                            "using a key made for this boot instead.", path, type);
                return false;
        }
        return true;
}

/* The public half of m->host_key, from its .pub file, and its fingerprint. */
static int read_public_key(struct manager *m) {
        char pub[PATH_MAX + 8], line[2048];
        FILE *f;

        snprintf(pub, sizeof pub, "%s.pub", m->host_key);
        f = fopen(pub, "re");
        if (!f)
                return negative_errno();
        if (!fgets(line, sizeof line, f)) {
                fclose(f);
                return -ENODATA;
        }
        fclose(f);
        line[strcspn(line, "\n")] = '\0';
        if (state_key_fingerprint(line, m->fingerprint, sizeof m->fingerprint) < 0)
                return -EBADMSG;
        snprintf(m->host_public_key, sizeof m->host_public_key, "%s", line);
        return 0;
}

/* The host key: the configured one, else one made for this boot in the
 * runtime directory (by the session helper, which holds libssh), else one
 * in memory. Whatever is wrong with the configured key, a key for this boot
 * serves instead: the person at the console needs the QR code more than a
 * stable fingerprint. Fails only when no key at all can be made. */
static int prepare_host_key(struct manager *m) {
        int r;

        snprintf(m->host_key, sizeof m->host_key, "%s", m->config.host_key);
        if (configured_host_key_usable(m->host_key)) {
                r = read_public_key(m);
                if (r >= 0)
                        return 0;
                log_warning_errno(r, "Cannot read %s.pub, the public half of the host key %s (%m): using a key made "
                                  "for this boot instead.", m->host_key, m->host_key);
        }
        if (snprintf(m->host_key, sizeof m->host_key, "%.*s/host_ed25519_key", PATH_MAX - 32, m->dir) < 0)
                return -EINVAL;
        if (access(m->host_key, R_OK) < 0) {
                pid_t pid = fork();
                int status = 0;
                if (pid == 0) {
                        execl(m->helper, "kairos-recovery-session", "--generate-host-key", m->host_key, (char *) NULL);
                        _exit(127);
                }
                if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        return host_key_fallback(m);
                log_info("Made a host key for this boot: %s.", m->host_key);
        }
        r = read_public_key(m);
        if (r < 0) {
                log_warning_errno(r, "Cannot read %s.pub (%m): making a key in memory instead.", m->host_key);
                return host_key_fallback(m);
        }
        return 0;
}

int manager_start(struct manager *m, const char *config_path) {
        sigset_t ss;
        bool created;
        int r, store_error;
        char pid[32];

        m->config_path = config_path;
        m->host_key_fd = -EBADF;
        conf_load(&m->config, config_path, NULL, NULL, NULL);
        log_set_max_level(m->config.log_level);
        snprintf(m->dir, sizeof m->dir, "%s", state_dir());
        if (!m->helper[0])
                snprintf(m->helper, sizeof m->helper, "%s", getenv("KAIROS_SESSION_HELPER") ?: KAIROS_SESSION_HELPER);
        /* Every connection and the host key need the helper: without it a QR
         * code would send someone to a machine that cannot let them in. Say
         * so plainly, and stop (the unit does not restart for this code). */
        if (access(m->helper, X_OK) < 0) {
                m->exit_status = EX_OSFILE;
                return log_struct(LOG_ERR, -errno, MESSAGE_ID_HELPER_MISSING, NULL,
                                  "The session helper %s cannot be run (%m): no connection could be served, so no QR "
                                  "code is shown. Reinstall kairos (and, in the initramfs, run dracut -f again).",
                                  m->helper);
        }
        {
                /* Into a newline-separated datagram and every bridge's hello:
                 * a name the bridge would refuse must not stop them all. */
                char name[HOST_NAME_MAX + 1] = "";
                if (gethostname(name, sizeof name) < 0)
                        name[0] = '\0';
                name[sizeof name - 1] = '\0';
                hello_hostname_safe(name, m->hostname);
                if (strcmp(name, m->hostname))
                        log_warning("The host name is empty or holds characters other than letters, digits, '.', "
                                    "'-' and '_'; bridges are shown \"%s\".", m->hostname);
        }

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        sigaddset(&ss, SIGUSR1);
        sigaddset(&ss, SIGCHLD);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Cannot create the event loop: %m");
        sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
        sd_event_add_signal(m->event, NULL, SIGHUP, on_reload, m);
        sd_event_add_signal(m->event, NULL, SIGUSR1, on_rotate, m);

        r = state_prepare(m->dir);
        if (r < 0)
                log_warning_errno(r, "Cannot create %s: %m (keeping the token in memory only)", m->dir);
        state_load_or_create_secret(m->dir, m->token.secret, &created, &store_error);
        if (store_error < 0)
                log_warning_errno(store_error, "Cannot store the secret in %s: %m (a restart will show a new QR code)", m->dir);
        kdf_password(m->token.secret, m->password);
        kdf_service_id(m->token.secret, m->service_id);
        snprintf(pid, sizeof pid, "%d\n", (int) getpid());
        (void) state_write_file(m->dir, "pid", pid, strlen(pid), 0644);

        r = prepare_host_key(m);
        if (r < 0) {
                m->exit_status = EX_CANTCREAT;
                return log_struct(LOG_ERR, r, MESSAGE_ID_HOST_KEY_FAILED, NULL,
                                  "No SSH host key: neither %s, nor one made for this boot in %s or in memory (%m). "
                                  "No session could start, so no QR code is shown.", m->config.host_key, m->dir);
        }

        listeners_open(&m->listeners, m->config.tunnel_port, m->config.plain_ssh ? m->config.plain_ssh_port : 0);
        refresh_token(m, true);

        /* The QR code first: READY=1 means "on screen", not "on the network". */
        r = screen_start(m);
        if (r < 0)
                log_warning_errno(r, "Cannot show the QR code on the consoles: %m");
        sd_notify(false, "READY=1");
        m->ready = true;
        log_struct(LOG_INFO, 0, MESSAGE_ID_STARTED, NULL,
                   "kairos-recovery started (service %s, %s token, host key %s).", m->service_id,
                   created ? "new" : "same", m->fingerprint);

        struct sessions_callbacks scb = { .config = session_config, .changed = changed, .handshake = on_handshake };
        r = sessions_new(m->event, m->helper, m->config.max_startups, &scb, m, &m->sessions);
        if (r < 0)
                return log_error_errno(r, "Cannot create the session table: %m");
        sessions_set_host_key_fd(m->sessions, m->host_key_fd);
        sessions_set_handshake_timeout(m->sessions, m->config.handshake_timeout_sec);
        if (m->listeners.tunnel_fd >= 0)
                sd_event_add_io(m->event, &m->tunnel_src, m->listeners.tunnel_fd, EPOLLIN, on_accept, m);
        if (m->listeners.ssh_fd >= 0)
                sd_event_add_io(m->event, &m->ssh_src, m->listeners.ssh_fd, EPOLLIN, on_accept, m);
        start_waiters(m);
        start_notify(m);
        if (netwatch_new(m->event, on_net_changed, m, &m->netwatch) < 0)
                log_warning("Cannot watch for address changes; the QR code is checked again every minute.");
        if (sd_watchdog_enabled(false, NULL) > 0)
                sd_event_add_time_relative(m->event, &m->watchdog_src, CLOCK_MONOTONIC, 0, 0, on_watchdog, m);
        update_status(m);
        return 0;
}

int manager_run(struct manager *m) {
        int r = sd_event_loop(m->event);

        sd_notify(false, "STOPPING=1");
        return r;
}

void manager_done(struct manager *m) {
        m->sessions = sessions_free(m->sessions);
        m->waiters = relay_waiters_free(m->waiters);
        retire_end(m);
        m->netwatch = netwatch_free(m->netwatch);
        m->notify = notify_free(m->notify);
        screen_stop(m);
        sd_event_source_disable_unref(m->tunnel_src);
        sd_event_source_disable_unref(m->ssh_src);
        sd_event_source_disable_unref(m->watchdog_src);
        listeners_close(&m->listeners);
        if (m->host_key_fd >= 0)
                close(m->host_key_fd);
        sd_event_unref(m->event);
        sodium_memzero(&m->token, sizeof m->token);
        sodium_memzero(m->password, sizeof m->password);
        sodium_memzero(m->token_text, sizeof m->token_text);
}
