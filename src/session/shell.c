/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ask-dir.h"
#include "log.h"
#include "server.h"
#include "spawn.h"

#define SESSION_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define ENV_VALUE_MAX 256
#define PIPE_SIZE (256 * 1024)

/* Where distributions put OpenSSH's sftp-server (Debian, Fedora, Arch...). */
static const char *const sftp_servers[] = {
        "/usr/lib/openssh/sftp-server",
        "/usr/libexec/openssh/sftp-server",
        "/usr/libexec/sftp-server",
        "/usr/lib/ssh/sftp-server",
        "/usr/lib/sftp-server",
};

static const char *sftp_server_path(void) {
        for (size_t i = 0; i < ELEMENTSOF(sftp_servers); i++)
                if (access(sftp_servers[i], X_OK) == 0)
                        return sftp_servers[i];
        return NULL;
}

static bool printable(const char *s, size_t max) {
        size_t n = 0;

        for (; s[n]; n++)
                if (n >= max || (unsigned char) s[n] < ' ' || s[n] == 0x7f)
                        return false;
        return true;
}

/* Only what sshd's default AcceptEnv lets through, and TERM: nothing that
 * changes what a root shell runs (LD_PRELOAD, BASH_ENV, PATH...). */
static bool env_allowed(const char *name) {
        if (!strcmp(name, "LANG") || !strcmp(name, "TERM"))
                return true;
        if (strncmp(name, "LC_", 3) || !name[3])
                return false;
        for (const char *p = name + 3; *p; p++)
                if (!(*p >= 'A' && *p <= 'Z') && *p != '_')
                        return false;
        return true;
}

static int env_set(struct channel *ch, const char *name, const char *value) {
        size_t len = strlen(name);
        char *entry;

        if (asprintf(&entry, "%s=%s", name, value) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < ch->n_env; i++)
                if (!strncmp(ch->env[i], name, len) && ch->env[i][len] == '=') {
                        free(ch->env[i]);
                        ch->env[i] = entry;
                        return 0;
                }
        if (ch->n_env >= CHANNEL_ENV_MAX) {
                free(entry);
                return -E2BIG;
        }
        ch->env[ch->n_env++] = entry;
        return 0;
}

static int env_request(struct channel *ch, const char *name, const char *value) {
        if (!name || !value || ch->started || !env_allowed(name) || !printable(value, ENV_VALUE_MAX)) {
                log_debug("%s: environment variable %s refused.", ch->name, name);
                return -1;
        }
        return env_set(ch, name, value) < 0 ? -1 : 0;
}

static struct winsize winsize_of(int width, int height, int pxwidth, int pxheight) {
        return (struct winsize) {
                .ws_col = (unsigned short) MIN(MAX(width, 0), 10000),
                .ws_row = (unsigned short) MIN(MAX(height, 0), 10000),
                .ws_xpixel = (unsigned short) MIN(MAX(pxwidth, 0), 65535),
                .ws_ypixel = (unsigned short) MIN(MAX(pxheight, 0), 65535),
        };
}

static int pty_request(struct channel *ch, const char *term, int width, int height, int pxwidth, int pxheight) {
        struct winsize ws = winsize_of(width, height, pxwidth, pxheight);
        int master, slave;

        if (ch->started || ch->pty_master >= 0)
                return -1;
        if (openpty(&master, &slave, NULL, NULL, &ws) < 0) {
                log_error_errno(negative_errno(), "%s: cannot allocate a pty: %m", ch->name);
                return -1;
        }
        fcntl(master, F_SETFD, FD_CLOEXEC);
        fcntl(slave, F_SETFD, FD_CLOEXEC);
        ch->pty_master = master;
        ch->pty_slave = slave;
        ch->winsize = ws;
        if (ttyname_r(slave, ch->tty_name, sizeof ch->tty_name) != 0)
                ch->tty_name[0] = '\0';
        /* TERM names a terminfo entry: a file name, nothing else. */
        if (term && *term && strlen(term) < sizeof ch->term && strspn(term, "abcdefghijklmnopqrstuvwxyz"
                                                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-_") ==
                                                                      strlen(term))
                snprintf(ch->term, sizeof ch->term, "%s", term);
        else
                snprintf(ch->term, sizeof ch->term, "dumb");
        return 0;
}

static int window_change(struct channel *ch, int width, int height, int pxwidth, int pxheight) {
        if (ch->pty_master < 0)
                return -1;
        ch->winsize = winsize_of(width, height, pxwidth, pxheight);
        /* The kernel sends SIGWINCH to the terminal's foreground job. */
        return ioctl(ch->pty_master, TIOCSWINSZ, &ch->winsize) < 0 ? -1 : 0;
}

static void on_signal(ssh_session session, ssh_channel channel, const char *signal, void *userdata) {
        struct channel *ch = userdata;

        if (!ch->started || ch->exited || !signal)
                return;
        for (int sig = 1; sig < NSIG; sig++) {
                const char *name = sigabbrev_np(sig);

                if (name && !strcmp(name, signal)) {
                        kill(-ch->pid, sig);
                        return;
                }
        }
}

static char **build_env(struct channel *ch) {
        struct server *s = ch->server;
        char **env = calloc(CHANNEL_ENV_MAX + 10, sizeof *env); /* ours, theirs, NULL */
        size_t n = 0;
        bool ok = true;

        if (!env)
                return NULL;
        /* Nothing of the helper's own environment, and nothing secret. */
        ok = ok && asprintf(&env[n++], "HOME=%s", s->home) >= 0;
        ok = ok && asprintf(&env[n++], "USER=root") >= 0;
        ok = ok && asprintf(&env[n++], "LOGNAME=root") >= 0;
        ok = ok && asprintf(&env[n++], "SHELL=%s", s->shell) >= 0;
        ok = ok && asprintf(&env[n++], "PATH=%s", SESSION_PATH) >= 0;
        /* Which path this session came by ("direct ADDR:PORT", "relay
         * tcp:HOST:PORT slot N"), as the daemon's journal names it: what
         * runs in the session (kairos-unlock) logs who did it. The client
         * cannot set KAIROS_* (env_allowed()). */
        ok = ok && asprintf(&env[n++], "KAIROS_PEER=%s", s->config->peer) >= 0;
        if (ok && ch->pty_master >= 0) {
                ok = asprintf(&env[n++], "TERM=%s", ch->term) >= 0;
                if (ok && ch->tty_name[0])
                        ok = asprintf(&env[n++], "SSH_TTY=%s", ch->tty_name) >= 0;
        }
        for (size_t i = 0; ok && i < ch->n_env; i++) {
                if (ch->pty_master >= 0 && !strncmp(ch->env[i], "TERM=", 5))
                        continue; /* the pty request's TERM wins */
                env[n] = strdup(ch->env[i]);
                ok = env[n++] != NULL;
        }
        if (!ok) {
                for (size_t i = 0; i < n; i++)
                        free(env[i]);
                free(env);
                return NULL;
        }
        return env;
}

static void strv_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

/* The login banner of an interactive shell: when the machine asks for a
 * passphrase (an encrypted root at boot), say so and how to give it
 * (kairos-unlock), before the shell's prompt. */
static void login_banner(int tty) {
        char text[1024];

        ask_banner(ASK_DEFAULT_DIR, text, sizeof text);
        if (text[0] && write(tty, text, strlen(text)) < 0) {
                /* only a hint: the shell starts all the same */
        }
}

/* command: for the shell's -c, or NULL for a login shell; program: run
 * directly (a subsystem). */
static int start(struct channel *ch, const char *command, const char *program) {
        struct server *s = ch->server;
        const char *base = strrchr(s->shell, '/') ? strrchr(s->shell, '/') + 1 : s->shell;
        struct spawn_spec sp = { .ctty = -1, .cwd = s->home };
        int in[2] = { -EBADF, -EBADF }, out[2] = { -EBADF, -EBADF }, err[2] = { -EBADF, -EBADF };
        char argv0[256], *argv[4] = {};
        char **env = NULL;
        pid_t pid;
        int r;

        if (ch->started)
                return -1;
        if (program) {
                sp.path = program;
                snprintf(argv0, sizeof argv0, "%s", program);
        } else {
                sp.path = s->shell;
                /* "-bash": a login shell, as sshd starts it for a shell. */
                snprintf(argv0, sizeof argv0, "%s%s", command ? "" : "-", base);
        }
        argv[0] = argv0;
        if (command && !program) {
                argv[1] = (char *) "-c";
                argv[2] = (char *) command;
        }
        sp.argv = argv;
        env = build_env(ch);
        if (!env)
                return -1;
        sp.envp = env;

        if (ch->pty_master >= 0) {
                sp.fds[0] = sp.fds[1] = sp.fds[2] = sp.ctty = ch->pty_slave;
                if (!command && !program)
                        login_banner(ch->pty_slave);
        } else {
                if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
                        r = log_error_errno(negative_errno(), "%s: pipe2: %m", ch->name);
                        goto finish;
                }
                /* Fewer, larger reads and writes for bulk transfers. */
                fcntl(in[1], F_SETPIPE_SZ, PIPE_SIZE);
                fcntl(out[1], F_SETPIPE_SZ, PIPE_SIZE);
                sp.fds[0] = in[0];
                sp.fds[1] = out[1];
                sp.fds[2] = err[1];
        }
        r = spawn(&sp, &pid);
        if (r < 0) {
                log_error_errno(r, "%s: cannot execute %s: %m", ch->name, sp.path);
                goto finish;
        }
        ch->pid = pid;
        ch->started = true;
        if (ch->pty_master >= 0) {
                /* Only the child holds the slave: when it and its jobs are
                 * gone, the master reads EIO. */
                closep(&ch->pty_slave);
                chan_attach(ch, ch->pty_master, false, ch->pty_master, -1);
        } else {
                chan_attach(ch, TAKE_FD(in[1]), false, TAKE_FD(out[0]), TAKE_FD(err[0]));
        }
        log_info("%s: started %s%s%s (pid %d).", ch->name, program ? program : command ? "command" : "shell",
                 ch->pty_master >= 0 ? " on " : "", ch->pty_master >= 0 ? ch->tty_name : "", (int) pid);
finish:
        for (int i = 0; i < 2; i++) {
                closep(&in[i]);
                closep(&out[i]);
                closep(&err[i]);
        }
        strv_free(env);
        return r < 0 ? -1 : 0;
}

static int subsystem_request(struct channel *ch, const char *subsystem) {
        const char *path;

        if (!subsystem || strcmp(subsystem, "sftp") != 0) {
                log_debug("%s: unknown subsystem refused.", ch->name);
                return -1;
        }
        path = sftp_server_path();
        if (!path) {
                log_error("%s: no sftp-server on this system (package openssh-sftp-server).", ch->name);
                return -1;
        }
        return start(ch, NULL, path);
}

int session_channel_open(struct server *s, ssh_message msg) {
        ssh_channel c = ssh_message_channel_request_open_reply_accept(msg);
        struct channel *ch;

        if (!c)
                return -EIO;
        ch = chan_new(s, c, CHANNEL_SESSION, "session");
        if (!ch) {
                ssh_channel_close(c);
                ssh_channel_free(c);
                return 0; /* answered already */
        }
        /* "signal" requests come as a callback, the others as messages. */
        ch->callbacks.channel_signal_function = on_signal;
        return 0;
}

/* Requests libssh does not know arrive without their name. From OpenSSH's
 * ssh, one without want-reply on a session channel without a pty can only
 * be "eow@openssh.com": its stdout failed (ssh host cmd | head) and it
 * reads no more. sshd then closes the command's output so that it ends
 * (EPIPE) instead of running on for a reader that is gone; so do we.
 * "break" is the other such request, and only means something on a pty,
 * which is left alone. Whether a reply was wanted shows in libssh's packet
 * counter: the default reply (a failure) is sent only when it was. */
static void unknown_request(struct server *s, struct channel *ch, ssh_message msg) {
        uint64_t before = s->packets.out_packets;

        ssh_message_reply_default(msg);
        if (s->packets.out_packets != before || !ch->started || ch->pty_master >= 0 || ch->out.eof)
                return;
        log_debug("%s: the client reads no more output (eow).", ch->name);
        channel_stop_output(ch);
}

static void reply(ssh_message msg, int r) {
        if (r >= 0)
                ssh_message_channel_request_reply_success(msg);
        else
                ssh_message_reply_default(msg);
}

/* The pty accessors are deprecated in libssh 0.10 in favour of channel
 * callbacks, but those run only in sessions with server callbacks, and such
 * sessions never queue messages, which direct-tcpip needs (forward.c). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
void session_channel_request(struct server *s, ssh_message msg) {
        ssh_channel c = ssh_message_channel_request_channel(msg);
        struct channel *ch = NULL;

        for (struct channel *i = s->channels; i && !ch; i = i->next)
                if (i->ssh == c && i->type == CHANNEL_SESSION && !i->close_sent)
                        ch = i;
        if (!ch) {
                ssh_message_reply_default(msg);
                return;
        }
        switch (ssh_message_subtype(msg)) {
        case SSH_CHANNEL_REQUEST_PTY:
                reply(msg, pty_request(ch, ssh_message_channel_request_pty_term(msg),
                                       ssh_message_channel_request_pty_width(msg),
                                       ssh_message_channel_request_pty_height(msg),
                                       ssh_message_channel_request_pty_pxwidth(msg),
                                       ssh_message_channel_request_pty_pxheight(msg)));
                break;
        case SSH_CHANNEL_REQUEST_WINDOW_CHANGE:
                reply(msg, window_change(ch, ssh_message_channel_request_pty_width(msg),
                                         ssh_message_channel_request_pty_height(msg),
                                         ssh_message_channel_request_pty_pxwidth(msg),
                                         ssh_message_channel_request_pty_pxheight(msg)));
                break;
        case SSH_CHANNEL_REQUEST_SHELL:
                reply(msg, start(ch, NULL, NULL));
                break;
        case SSH_CHANNEL_REQUEST_EXEC:
                reply(msg, ssh_message_channel_request_command(msg) ?
                                   start(ch, ssh_message_channel_request_command(msg), NULL) : -1);
                break;
        case SSH_CHANNEL_REQUEST_ENV:
                reply(msg, env_request(ch, ssh_message_channel_request_env_name(msg),
                                       ssh_message_channel_request_env_value(msg)));
                break;
        case SSH_CHANNEL_REQUEST_SUBSYSTEM:
                reply(msg, subsystem_request(ch, ssh_message_channel_request_subsystem(msg)));
                break;
        case SSH_CHANNEL_REQUEST_UNKNOWN:
                unknown_request(s, ch, msg);
                break;
        default:
                /* x11, agent forwarding: not offered. */
                ssh_message_reply_default(msg);
        }
}
#pragma GCC diagnostic pop

void session_channel_hangup(struct channel *ch) {
        /* As a terminal hangup would: the whole job, in its own session. */
        if (ch->started && !ch->exited && ch->pid > 0)
                kill(-ch->pid, SIGHUP);
}

void session_channel_free(struct channel *ch) {
        for (size_t i = 0; i < ch->n_env; i++)
                free(ch->env[i]);
        ch->n_env = 0;
}
