/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "ssh-policy.h"

/* libssh reads at most 4 KiB per round (MAX_BUF_SIZE in its priv.h); a
 * busy connection gets several rounds per poll, but not so many that local
 * fds wait long. */
#define SESSION_ROUNDS_MAX 64
#define LIBSSH_READ_SIZE 4096
/* How soon to try again to hand libssh bytes it refused during a key
 * re-exchange. */
#define RETRY_MSEC 10
#define SESSION_SSH_VERSION                                                                 \
        "OpenSSH_kairos-" PACKAGE_VERSION " libssh-" SSH_STRINGIFY(LIBSSH_VERSION_MAJOR) "." \
                SSH_STRINGIFY(LIBSSH_VERSION_MINOR) "." SSH_STRINGIFY(LIBSSH_VERSION_MICRO)

void server_end(struct server *s, const char *reason) {
        if (s->done)
                return;
        s->done = true;
        snprintf(s->reason, sizeof s->reason, "%s", reason);
}

static short session_events(struct server *s) {
        int flags = ssh_get_poll_flags(s->ssh);

        return (short) ((flags & SSH_READ_PENDING ? POLLIN : 0) | (flags & SSH_WRITE_PENDING ? POLLOUT : 0));
}

static bool session_alive(struct server *s) {
        char reason[sizeof s->reason];
        int status;

        if (ssh_is_connected(s->ssh) && !(ssh_get_status(s->ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR)))
                return true;
        if (s->done)
                return false;
        status = ssh_get_status(s->ssh);
        snprintf(reason, sizeof reason, "connection lost: %s", ssh_get_error(s->ssh));
        /* A disconnect message and a plain end of the stream ("Socket
         * error: disconnected") are both the client leaving. */
        if ((status & SSH_CLOSED && !(status & SSH_CLOSED_ERROR)) || strstr(reason, "disconnected"))
                server_end(s, "client disconnected");
        else
                server_end(s, reason);
        return false;
}

static void dispatch(struct server *s, ssh_message m) {
        int type = ssh_message_type(m), subtype = ssh_message_subtype(m);

        switch (type) {
        case SSH_REQUEST_AUTH:
                auth_handle(s, m);
                break;
        case SSH_REQUEST_CHANNEL_OPEN:
                /* libssh refuses channels before authentication already;
                 * this is the second lock on that door. */
                if (!s->authenticated || s->n_channels >= CHANNELS_MAX)
                        ssh_message_reply_default(m);
                else if (subtype == SSH_CHANNEL_SESSION) {
                        if (session_channel_open(s, m) < 0)
                                ssh_message_reply_default(m);
                } else if (subtype == SSH_CHANNEL_DIRECT_TCPIP) {
                        /* The reply waits for the connection to the target. */
                        if (forward_open(s, m) >= 0)
                                return;
                        ssh_message_reply_default(m);
                } else
                        ssh_message_reply_default(m);
                break;
        case SSH_REQUEST_CHANNEL:
                if (s->authenticated)
                        session_channel_request(s, m);
                else
                        ssh_message_reply_default(m);
                break;
        default:
                /* Service requests are accepted by default; global requests
                 * (tcpip-forward, keepalives) are refused. */
                ssh_message_reply_default(m);
        }
        ssh_message_free(m);
}

/* Packets in, messages handled, output flushed. Another round while
 * libssh's reads came back full, since more is then most likely waiting;
 * after a short read the socket is as good as drained. (Asking the kernel
 * with FIONREAD after each round cost 7% of the helper's CPU time in an
 * sftp transfer; a wrong guess costs nothing: the loop's poll(2) returns at
 * once.) */
static void pump_session(struct server *s) {
        for (unsigned round = 0; round < SESSION_ROUNDS_MAX && !s->done; round++) {
                uint64_t before = s->socket_bytes.in_bytes, got;
                ssh_message m;

                while (!s->done && (m = ssh_message_get(s->ssh)))
                        dispatch(s, m);
                got = s->socket_bytes.in_bytes - before;
                if (got == 0 || got % LIBSSH_READ_SIZE != 0)
                        break;
        }
}

/* kairos-recovery stops (its sessions get SIGTERM): the initramfs ends
 * because the machine goes on to its real root (unlock mode), or the
 * machine shuts down. Each session shell hears it before the connection
 * closes, rather than a bare "Connection closed". Best effort, a second at
 * most: what is queued now goes out before the disconnect. */
static void tell_sessions_ending(struct server *s) {
        const char *text = access("/etc/initrd-release", F_OK) == 0 ?
                "\r\nkairos: the initramfs ends, the machine goes on to its real system: this session closes.\r\n" :
                "\r\nkairos: kairos-recovery is stopping (the machine shuts down): this session closes.\r\n";
        bool any = false;

        for (struct channel *ch = s->channels; ch; ch = ch->next)
                if (ch->type == CHANNEL_SESSION && ch->started && !ch->close_sent && !ch->remote_closed) {
                        ssh_channel_write_stderr(ch->ssh, text, (uint32_t) strlen(text));
                        any = true;
                }
        if (any)
                ssh_blocking_flush(s->ssh, 1000);
}

static void handle_signals(struct server *s) {
        struct signalfd_siginfo si;

        while (read(s->signal_fd, &si, sizeof si) == (ssize_t) sizeof si) {
                if (si.ssi_signo == SIGCHLD) {
                        int status;
                        pid_t pid;

                        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
                                channels_child_exited(s, pid, status);
                } else if (si.ssi_signo == SIGUSR1)
                        channels_dump(s);
                else {
                        if (si.ssi_signo == SIGTERM && !s->done)
                                tell_sessions_ending(s);
                        server_end(s, "terminated by a signal");
                }
        }
}

static int key_exchange(struct server *s) {
        for (;;) {
                struct pollfd p[2] = { { .fd = s->fd }, { .fd = s->signal_fd, .events = POLLIN } };
                int r = ssh_handle_key_exchange(s->ssh);

                if (r == SSH_OK)
                        return 0;
                if (r == SSH_ERROR) {
                        char reason[sizeof s->reason];

                        snprintf(reason, sizeof reason, "key exchange failed: %s", ssh_get_error(s->ssh));
                        server_end(s, reason);
                        return -EPROTO;
                }
                p[0].events = session_events(s);
                r = poll(p, 2, poll_timeout(s->deadline));
                if (r < 0 && errno != EINTR)
                        return negative_errno();
                if (r == 0) {
                        server_end(s, "key exchange timeout");
                        return -ETIMEDOUT;
                }
                if (p[1].revents)
                        handle_signals(s);
                if (s->done)
                        return -ECANCELED;
        }
}

static void loop(struct server *s) {
        struct pollfd pf[3 + 3 * CHANNELS_MAX];
        bool polled = false;

        while (!s->done) {
                size_t n = 0;
                bool retry_soon;
                uint64_t seen;
                int r, timeout;

                if (polled && pf[1].revents)
                        handle_signals(s);
                if (polled && pf[2].revents)
                        forward_complete(s);
                pump_session(s);
                seen = s->wakeups;
                channels_dispatch(s, polled ? pf : NULL);
                /* Serving the channels may have read packets: their
                 * messages are handled before any channel is freed, since a
                 * queued request points to its channel. */
                pump_session(s);
                channels_collect(s);
                if (!session_alive(s) || s->done)
                        break;
                if (!s->authenticated && now_usec() >= s->deadline) {
                        ssh_session_set_disconnect_message(s->ssh, "Authentication timeout");
                        server_end(s, "authentication timeout");
                        break;
                }

                pf[n++] = (struct pollfd) { .fd = s->fd, .events = session_events(s) };
                pf[n++] = (struct pollfd) { .fd = s->signal_fd, .events = POLLIN };
                pf[n++] = (struct pollfd) { .fd = s->forward_notify[0], .events = POLLIN };
                n = (size_t) channels_poll_fill(s, pf, n, ELEMENTSOF(pf), &retry_soon);
                /* libssh may have run a callback for a channel already
                 * served in this round (reading packets while flushing):
                 * look again without sleeping. */
                timeout = s->wakeups != seen ? 0 : s->authenticated ? -1 : poll_timeout(s->deadline);
                if (retry_soon && (timeout < 0 || timeout > RETRY_MSEC))
                        timeout = RETRY_MSEC;
                r = poll(pf, n, timeout);
                if (r < 0 && errno != EINTR) {
                        log_error_errno(negative_errno(), "poll: %m");
                        server_end(s, "internal error");
                }
                polled = r > 0;
        }
}

static void lookup_root(struct server *s) {
        struct passwd *pw = getpwuid(0);
        const char *shell = pw && pw->pw_shell && *pw->pw_shell ? pw->pw_shell : NULL;
        const char *home = pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;

        /* An initramfs may have no passwd entry for root, or a shell that
         * was not copied into it. */
        if (!shell || access(shell, X_OK) < 0)
                shell = access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";
        if (!home || access(home, X_OK) < 0)
                home = access("/root", X_OK) == 0 ? "/root" : "/";
        s->shell = strdup(shell);
        s->home = strdup(home);
}

/* Loaded here rather than by libssh (SSH_BIND_OPTIONS_HOSTKEY), so that a
 * key the algorithm policy does not serve is left out by name (the hello
 * leaves it out too, hostkeys.c), instead of being offered under an
 * algorithm no client may choose. 1 when loaded, 0 when left out, or
 * -errno. */
static int load_host_key(ssh_bind bind, const char *path) {
        ssh_key key = NULL;

        if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK)
                return log_error_errno(-EINVAL, "Cannot load host key %s.", path);
        if (!ssh_policy_host_key_allowed(key)) {
                log_warning("Host key %s is of type %s: left out, the SSH algorithm policy serves Ed25519 host keys only.",
                            path, ssh_key_type_to_char(ssh_key_type(key)));
                ssh_key_free(key);
                return 0;
        }
        /* Once accepted, the key is the bind's. */
        if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) < 0) {
                log_error("Cannot use host key %s: %s", path, ssh_get_error(bind));
                ssh_key_free(key);
                return -EINVAL;
        }
        return 1;
}

static int server_setup(struct server *s, int fd) {
        const char *verbosity = getenv("KAIROS_LIBSSH_LOG");
        bool no = false;
        size_t n_keys = 0;
        ssh_bind bind;
        sigset_t mask;
        int r;

        if (s->config->authorized_keys) {
                r = authorized_keys_load(s->config->authorized_keys, &s->authorized, &s->n_authorized);
                /* The default file is optional: its absence is no news. */
                if (r < 0)
                        log_full(r == -ENOENT ? LOG_DEBUG : LOG_WARNING, r,
                                 "Public keys from %s not usable, password only: %m", s->config->authorized_keys);
        }
        lookup_root(s);
        if (!s->shell || !s->home)
                return log_oom();

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGUSR1);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        s->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (s->signal_fd < 0 || pipe2(s->forward_notify, O_NONBLOCK | O_CLOEXEC) < 0)
                return log_error_errno(negative_errno(), "Cannot set up the loop: %m");

        bind = ssh_bind_new();
        if (!bind)
                return log_oom();
        /* Only what kairos says: no /etc/libssh configuration. */
        ssh_bind_options_set(bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
        /* OpenSSH's ssh tells a server that it reads no more output
         * (eow@openssh.com: ssh host cmd | head) only when the server's
         * version starts with "OpenSSH"; without that, a command whose
         * reader is gone runs for ever and the client waits for it. The
         * rest says what this really is. */
        ssh_bind_options_set(bind, SSH_BIND_OPTIONS_BANNER, SESSION_SSH_VERSION);
        if (verbosity)
                ssh_bind_options_set(bind, SSH_BIND_OPTIONS_LOG_VERBOSITY_STR, verbosity);
        /* The algorithms offered: set once, here, for every connection. */
        r = ssh_policy_apply(bind);
        if (r < 0) {
                ssh_bind_free(bind);
                return r;
        }
        for (size_t i = 0; i < s->config->n_hostkeys && r >= 0; i++) {
                r = load_host_key(bind, s->config->hostkeys[i]);
                n_keys += r > 0;
        }
        if (r >= 0 && n_keys == 0)
                r = log_error_errno(-ENOKEY, "No host key the SSH algorithm policy serves (Ed25519).");
        if (r < 0) {
                ssh_bind_free(bind);
                server_end(s, "host key unusable");
                return r;
        }
        s->ssh = ssh_new();
        if (!s->ssh) {
                ssh_bind_free(bind);
                return log_oom();
        }
        /* Non-blocking: a write that cannot go out now is buffered by
         * libssh and flushed when poll says so. */
        fd_set_nonblock(fd, 1);
        r = ssh_bind_accept_fd(bind, s->ssh, fd);
        if (r != SSH_OK)
                r = log_error_errno(-EINVAL, "Cannot start the SSH server: %s", ssh_get_error(bind));
        ssh_bind_free(bind);
        if (r < 0)
                return r;
        /* From here on ssh_free() closes it. */
        s->fd_owned = false;
        ssh_set_counters(s->ssh, &s->socket_bytes, &s->packets);
        ssh_set_blocking(s->ssh, 0);
        ssh_set_auth_methods(s->ssh, SSH_AUTH_METHOD_PASSWORD | (s->n_authorized ? SSH_AUTH_METHOD_PUBLICKEY : 0));
        kdf_password(s->config->secret, s->password);
        /* Everything the secret is needed for has been derived. */
        sodium_memzero(s->config->secret, sizeof s->config->secret);
        return 0;
}

int server_run(struct session_config *c, int fd, usec_t deadline, char *reason, size_t reason_size) {
        struct server s = {
                .config = c,
                .fd = -EBADF,
                .deadline = deadline,
                .signal_fd = -EBADF,
                .forward_notify = { -EBADF, -EBADF },
        };
        int r;

        s.fd = fd;
        s.fd_owned = true;
        r = server_setup(&s, fd);
        if (r < 0)
                server_end(&s, "internal error");
        else if (key_exchange(&s) >= 0)
                loop(&s);

        sodium_memzero(s.password, sizeof s.password);
        channels_hangup(&s);
        forwards_abandon(&s);
        if (s.ssh) {
                if (ssh_is_connected(s.ssh))
                        ssh_disconnect(s.ssh);
                ssh_free(s.ssh);
        }
        if (s.fd_owned)
                closep(&s.fd);
        authorized_keys_free(s.authorized, s.n_authorized);
        closep(&s.signal_fd);
        /* The notify pipe stays open: a connect thread may still write. */
        free(s.shell);
        free(s.home);
        snprintf(reason, reason_size, "%s", s.reason[0] ? s.reason : "ended");
        return r;
}
