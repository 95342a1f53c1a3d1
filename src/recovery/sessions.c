/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "macro.h"
#include "ratelimit.h"
#include "session-protocol.h"
#include "sessions.h"

/* Password failures on plain SSH, counted per source address: more than
 * this many in a minute and that address is refused until the minute has
 * passed. Per source, not in total: a guesser must not lock the real user
 * out (the password's 79 bits need no lockout; this only keeps guessing
 * slow and the journal quiet). */
#define FAILURE_WINDOW (60 * USEC_PER_SEC)
#define FAILURES_PER_WINDOW 30
#define FAILURE_SOURCES 64
/* Plain SSH connections one address may have unauthenticated at once: a
 * guesser with many parallel connections cannot fill MaxStartups. */
#define SSH_STARTUPS_PER_SOURCE 3
/* Failed handshakes and refusals logged one by one per minute; the rest summed up. */
#define TUNNEL_FAILURES_LOGGED 5

struct session {
        struct sessions *owner;
        struct session *next;
        unsigned id;
        pid_t pid;
        int ctrl;
        sd_event_source *ctrl_src, *child_src;
        enum session_transport transport;
        enum session_state state;
        char peer[300], user[64], method[32];
};

struct sessions {
        sd_event *event;
        char helper[PATH_MAX];
        struct sessions_callbacks cb;
        void *userdata;
        struct session *list;
        unsigned next_id, n, max_unauthenticated, total;
        struct failure_source {
                char addr[64];
                usec_t window_start;
                unsigned failures;
        } failures[FAILURE_SOURCES];
        int host_key_fd;
        struct ratelimit tunnel_log, refuse_log;
        const char *helper_tunables; /* added to the helpers' environment, or NULL */
};

static void changed(struct sessions *s) {
        if (s->cb.changed)
                s->cb.changed(s->userdata);
}

/* "ssh 192.0.2.9:51234" -> "192.0.2.9" (IPv6 addresses have no brackets). */
static void source_of(const char *peer, char *out, size_t size) {
        const char *a = strchr(peer, ' '), *colon;

        a = a ? a + 1 : peer;
        colon = strrchr(a, ':');
        snprintf(out, size, "%.*s", colon ? (int) (colon - a) : (int) strlen(a), a);
}

static bool same_source(const struct session *x, const char *addr) {
        char a[64];

        source_of(x->peer, a, sizeof a);
        return !strcmp(a, addr);
}

/* The entry of addr; with create, a new one in place of the stalest. */
static struct failure_source *failure_source(struct sessions *s, const char *addr, bool create) {
        struct failure_source *oldest = &s->failures[0];
        usec_t now = now_usec();

        for (size_t i = 0; i < FAILURE_SOURCES; i++) {
                struct failure_source *f = &s->failures[i];
                if (f->addr[0] && !strcmp(f->addr, addr)) {
                        if (now - f->window_start > FAILURE_WINDOW) {
                                f->window_start = now;
                                f->failures = 0;
                        }
                        return f;
                }
                if (f->window_start < oldest->window_start)
                        oldest = f;
        }
        if (!create)
                return NULL;
        *oldest = (struct failure_source) { .window_start = now };
        snprintf(oldest->addr, sizeof oldest->addr, "%s", addr);
        return oldest;
}

static unsigned unauthenticated(const struct sessions *s) {
        unsigned n = 0;
        for (const struct session *x = s->list; x; x = x->next)
                n += x->state != SESSION_AUTHENTICATED;
        return n;
}

static void session_free(struct session *x) {
        struct sessions *s = x->owner;

        for (struct session **p = &s->list; *p; p = &(*p)->next)
                if (*p == x) {
                        *p = x->next;
                        break;
                }
        s->n--;
        x->ctrl_src = sd_event_source_disable_unref(x->ctrl_src);
        x->child_src = sd_event_source_disable_unref(x->child_src);
        if (x->ctrl >= 0)
                close(x->ctrl);
        free(x);
}

static const char *transport_name(enum session_transport t) {
        return t == SESSION_TUNNEL ? "tunnel" : "ssh";
}

static void note_tunnel_failure(struct sessions *s, struct session *x, const char *reason) {
        unsigned held;
        bool go = ratelimit_below(&s->tunnel_log, &held);

        if (held > 0)
                log_warning("%u more tunnel handshakes failed in the last minute (not logged one by one).", held);
        if (go)
                log_struct(LOG_NOTICE, 0, MESSAGE_ID_TUNNEL_FAILED,
                           (const char *[]) { "KAIROS_PATH=tunnel", NULL },
                           "Tunnel from %s not established: %s.", x->peer, reason);
}

_printf_(2, 3)
static void log_refusal(struct sessions *s, const char *fmt, ...) {
        unsigned held;
        bool go = ratelimit_below(&s->refuse_log, &held);
        char line[512];
        va_list ap;

        if (held > 0)
                log_warning("%u more connections refused in the last minute (not logged one by one).", held);
        if (!go)
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        log_warning("%s", line);
}

/* One report of the helper: "event arguments". */
static void handle_event(struct session *x, char *line) {
        struct sessions *s = x->owner;
        char *arg = strchr(line, ' ');
        char peer_field[320];
        const char *fields[] = { peer_field, NULL };

        if (arg)
                *arg++ = '\0';
        snprintf(peer_field, sizeof peer_field, "KAIROS_PEER=%s", x->peer);
        if (!strcmp(line, "tunnel-established")) {
                x->state = SESSION_ESTABLISHED;
                log_debug("Session %u: tunnel from %s established.", x->id, x->peer);
        } else if (!strcmp(line, "tunnel-failed"))
                note_tunnel_failure(s, x, arg ? arg : "unknown reason");
        else if (!strcmp(line, "auth-failed")) {
                if (x->transport == SESSION_SSH) {
                        char addr[64];
                        source_of(x->peer, addr, sizeof addr);
                        struct failure_source *f = failure_source(s, addr, true);
                        f->failures++;
                }
                log_struct(LOG_WARNING, 0, MESSAGE_ID_AUTH_FAILED, fields,
                           "Session %u: authentication failed (%s) from %s (%s).", x->id, arg ? arg : "?",
                           x->peer, transport_name(x->transport));
        } else if (!strcmp(line, "authenticated")) {
                char *user = arg ? strchr(arg, ' ') : NULL;
                if (user)
                        *user++ = '\0';
                snprintf(x->method, sizeof x->method, "%s", arg ? arg : "?");
                snprintf(x->user, sizeof x->user, "%s", user ? user : "?");
                x->state = SESSION_AUTHENTICATED;
                s->total++;
                log_struct(LOG_NOTICE, 0, MESSAGE_ID_SESSION_OPENED, fields,
                           "Session %u opened: %s logged in with %s from %s.", x->id, x->user, x->method, x->peer);
        } else if (!strcmp(line, "closed"))
                log_debug("Session %u: helper says closed (%s).", x->id, arg ? arg : "");
        else
                log_warning("Session %u: unknown report from the helper ignored.", x->id);
        changed(s);
}

/* Handles one queued report; false when there is none (or the helper is gone). */
static bool read_report(struct session *x) {
        char buf[SESSION_EVENT_MAX + 1];
        ssize_t n = recv(x->ctrl, buf, sizeof buf - 1, MSG_DONTWAIT);

        if (n <= 0) {
                if (n == 0 || (errno != EAGAIN && errno != EINTR))
                        x->ctrl_src = sd_event_source_disable_unref(x->ctrl_src);
                return false;
        }
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        handle_event(x, buf);
        return true;
}

static int on_ctrl(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        read_report(userdata);
        return 0;
}

static int on_exit_child(sd_event_source *src, const siginfo_t *si, void *userdata) {
        struct session *x = userdata;
        struct sessions *s = x->owner;
        char peer_field[320];
        const char *fields[] = { peer_field, NULL };

        /* Reports still queued on the socket come before the end. */
        while (x->ctrl_src && read_report(x))
                ;
        snprintf(peer_field, sizeof peer_field, "KAIROS_PEER=%s", x->peer);
        if (x->state == SESSION_AUTHENTICATED)
                log_struct(LOG_NOTICE, 0, MESSAGE_ID_SESSION_CLOSED, fields, "Session %u from %s closed%s.", x->id,
                           x->peer, si->si_code == CLD_EXITED ? "" : " (helper killed by a signal)");
        else if (si->si_code != CLD_EXITED)
                log_warning("Session %u from %s: helper killed by signal %d.", x->id, x->peer, si->si_status);
        session_free(x);
        changed(s);
        return 0;
}

/* Why a plain SSH connection from peer is refused, or NULL. */
static const char *refusing_plain_ssh(struct sessions *s, const char *peer, char *why, size_t size) {
        struct failure_source *f;
        unsigned n = 0;
        char addr[64];

        source_of(peer, addr, sizeof addr);
        f = failure_source(s, addr, false);
        if (f && f->failures >= FAILURES_PER_WINDOW) {
                snprintf(why, size, "%u password failures from %s in the last minute", f->failures, addr);
                return why;
        }
        for (const struct session *x = s->list; x; x = x->next)
                n += x->transport == SESSION_SSH && x->state != SESSION_AUTHENTICATED && same_source(x, addr);
        if (n >= SSH_STARTUPS_PER_SOURCE) {
                snprintf(why, size, "%u connections from %s have not authenticated yet", n, addr);
                return why;
        }
        return NULL;
}

/* glibc's memcpy() copies with REP MOVSB from 2 KiB up. On AMD Zen 3 and 4
 * that instruction runs at 3.5 GB/s instead of 50 when the destination
 * lies 1 to 15 bytes past the source in their pages (measured here: as
 * slow as the cipher), and libssh copies every channel packet's 32 KiB
 * into a string at malloc() + 4, which lands there: in an sftp upload that
 * copy took 15 % of the helper's time. Above this threshold glibc takes
 * its vector loop, as fast for every alignment; sftp through the tunnel
 * got 7 % faster on average (bench/RESULTS.md). Later glibc releases
 * changed that choice for these processors (sourceware bug 30994); other C
 * libraries ignore the variable. Only on AMD processors, where it was
 * measured; an administrator's GLIBC_TUNABLES, even empty, is passed on
 * instead. Decided once, when the daemon starts. */
static const char *helper_tunables(void) {
#if defined(__x86_64__) || defined(__i386__)
        unsigned vendor[3], eax;

        /* CPUID leaf 0: the vendor's 12 characters in EBX, EDX, ECX. */
        if (!getenv("GLIBC_TUNABLES") && __get_cpuid(0, &eax, &vendor[0], &vendor[2], &vendor[1]) &&
            memcmp(vendor, "AuthenticAMD", 12) == 0)
                return "GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=2147483648";
#endif
        return NULL;
}

/* Our environment without what systemd meant for the main process alone:
 * a helper (or anything it starts) must not notify systemd on our behalf
 * or take sockets it was never given; plus extra (when not NULL). Filled in
 * the child after fork, into static storage: no allocation there. */
static char **helper_environment(const char *extra) {
        static const char *const drop[] = { "NOTIFY_SOCKET=", "WATCHDOG_PID=", "WATCHDOG_USEC=", "LISTEN_PID=",
                                            "LISTEN_FDS=", "LISTEN_FDNAMES=" };
        static char *env[256];
        size_t n = 0;

        for (char **e = environ; *e && n < ELEMENTSOF(env) - 2; e++) {
                bool keep = true;
                for (size_t i = 0; i < ELEMENTSOF(drop); i++)
                        keep = keep && strncmp(*e, drop[i], strlen(drop[i])) != 0;
                if (keep)
                        env[n++] = *e;
        }
        if (extra)
                env[n++] = (char *) extra;
        env[n] = NULL;
        return env;
}

int sessions_start(struct sessions *s, int fd, enum session_transport transport, const char *peer) {
        char config[SESSION_CONFIG_MAX], why[160];
        int sp[2], n, r;
        struct session *x;
        pid_t pid, parent;

        if (unauthenticated(s) >= s->max_unauthenticated) {
                log_refusal(s, "Refusing a connection from %s: %u connections have not authenticated yet.", peer,
                            s->max_unauthenticated);
                close(fd);
                return -EBUSY;
        }
        if (transport == SESSION_SSH && refusing_plain_ssh(s, peer, why, sizeof why)) {
                log_refusal(s, "Refusing a plain SSH connection from %s: %s.", peer, why);
                close(fd);
                return -EBUSY;
        }
        n = s->cb.config(s->userdata, transport, peer, config, sizeof config);
        if (n < 0) {
                close(fd);
                return log_error_errno(n, "Cannot prepare a session: %m");
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                r = negative_errno();
                close(fd);
                return log_error_errno(r, "Cannot create a control socket: %m");
        }

        parent = getpid();
        pid = fork();
        if (pid < 0) {
                r = negative_errno();
                close(fd);
                close(sp[0]);
                close(sp[1]);
                /* EAGAIN when the unit's TasksMax= is reached (a runaway
                 * session): summed up like refusals, not one line each. */
                log_refusal(s, "Cannot start a session helper for %s: %s.", peer, strerror(-r));
                return r;
        }
        if (pid == 0) {
                /* Only what the helper needs: the connection on 3, control on 4. */
                static const char oom[] = "0";
                sigset_t all;
                int o;

                if (dup2(fd, 100) < 0 || dup2(sp[1], 101) < 0 ||
                    (s->host_key_fd >= 0 && dup2(s->host_key_fd, 102) < 0) ||
                    dup2(100, SESSION_FD_CONNECTION) < 0 || dup2(101, SESSION_FD_CONTROL) < 0 ||
                    (s->host_key_fd >= 0 && dup2(102, SESSION_FD_HOST_KEY) < 0))
                        _exit(127);
                close_range(s->host_key_fd >= 0 ? SESSION_FD_HOST_KEY + 1 : SESSION_FD_CONTROL + 1, ~0U, 0);
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                signal(SIGPIPE, SIG_DFL);
                /* A session ends with the main process that lists it (under
                 * systemd, KillMode=mixed does it too): SIGTERM ends the
                 * helper gracefully, its jobs get SIGHUP. */
                if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                        _exit(127);
                /* The main process is shielded from the OOM killer; sessions are not. */
                o = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
                if (o >= 0) {
                        (void) !write(o, oom, sizeof oom - 1);
                        close(o);
                }
                execve(s->helper, (char *[]) { (char *) "kairos-recovery-session", NULL },
                       helper_environment(s->helper_tunables));
                _exit(127);
        }
        close(fd);
        close(sp[1]);

        x = calloc(1, sizeof *x);
        if (!x) {
                close(sp[0]);
                kill(pid, SIGKILL);
                return log_oom();
        }
        *x = (struct session) { .owner = s, .id = ++s->next_id, .pid = pid, .ctrl = sp[0], .transport = transport };
        snprintf(x->peer, sizeof x->peer, "%s", peer);
        x->next = s->list;
        s->list = x;
        s->n++;
        r = (int) send(x->ctrl, config, (size_t) n, MSG_NOSIGNAL);
        explicit_bzero(config, sizeof config);
        if (r < 0)
                log_warning_errno(negative_errno(), "Session %u: cannot configure the helper: %m", x->id);
        if (sd_event_add_io(s->event, &x->ctrl_src, x->ctrl, EPOLLIN, on_ctrl, x) < 0 ||
            sd_event_add_child(s->event, &x->child_src, pid, WEXITED, on_exit_child, x) < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                session_free(x);
                return log_oom();
        }
        log_debug("Session %u: helper %d for %s from %s.", x->id, (int) pid, transport_name(transport), peer);
        changed(s);
        return 0;
}

int sessions_new(sd_event *event, const char *helper_path, unsigned max_unauthenticated,
                 const struct sessions_callbacks *cb, void *userdata, struct sessions **ret) {
        struct sessions *s = calloc(1, sizeof *s);

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        snprintf(s->helper, sizeof s->helper, "%s", helper_path);
        s->max_unauthenticated = MAX(max_unauthenticated, 1u);
        s->host_key_fd = -EBADF;
        s->cb = *cb;
        s->userdata = userdata;
        s->tunnel_log = RATELIMIT(FAILURE_WINDOW, TUNNEL_FAILURES_LOGGED);
        s->refuse_log = RATELIMIT(FAILURE_WINDOW, TUNNEL_FAILURES_LOGGED);
        s->helper_tunables = helper_tunables();
        *ret = s;
        return 0;
}

struct sessions *sessions_free(struct sessions *s) {
        if (!s)
                return NULL;
        while (s->list) {
                kill(s->list->pid, SIGTERM);
                session_free(s->list);
        }
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

void sessions_set_host_key_fd(struct sessions *s, int fd) {
        s->host_key_fd = fd;
}

void sessions_set_max_unauthenticated(struct sessions *s, unsigned max) {
        s->max_unauthenticated = MAX(max, 1u);
}

unsigned sessions_count(const struct sessions *s) {
        return s->n;
}

unsigned sessions_authenticated(const struct sessions *s) {
        return s->n - unauthenticated(s);
}

unsigned sessions_total(const struct sessions *s) {
        return s->total;
}

bool sessions_get(const struct sessions *s, size_t i, struct session_info *info) {
        const struct session *x = s->list;

        while (x && i-- > 0)
                x = x->next;
        if (!x)
                return false;
        *info = (struct session_info) { .id = x->id, .transport = x->transport, .state = x->state,
                                        .peer = x->peer, .user = x->user, .method = x->method };
        return true;
}
