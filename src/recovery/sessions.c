/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper-spawn.h"
#include "io.h"
#include "log.h"
#include "macro.h"
#include "ratelimit.h"
#include "session-protocol.h"
#include "sessions.h"
#include "tunnel.h"

/* Failures from one source in a minute (passwords on plain SSH; failed,
 * timed out or dropped handshakes on the direct port) beyond which that
 * source is refused until the minute has passed, before any helper starts.
 * Per source: a guesser or a flood slows itself down, not the real user
 * (the password's 79 bits and the secret's 128 need no lockout; this only
 * keeps the cost of a stranger and the journal small). */
#define FAILURES_PER_WINDOW 30
/* Failed handshakes, drops and refusals logged one by one per minute; the rest summed up. */
#define EVENTS_LOGGED 5

struct session {
        struct sessions *owner;
        struct session *next;
        unsigned id;
        pid_t pid;
        int ctrl;
        /* Our own reference to the connection until it authenticates: to
         * cut it (rotate, a newcomer) without waiting for the helper, and
         * to tell a dropped peer "busy". */
        int conn;
        sd_event_source *ctrl_src, *child_src;
        /* A tunnel before its helper: its first message awaited, until
         * the handshake timeout. */
        sd_event_source *first_src, *deadline_src;
        enum session_transport transport;
        enum session_state state;
        struct session_origin origin;
        usec_t started;
        bool handshake_told; /* cb.handshake called */
        char user[64], method[32];
};

struct sessions {
        sd_event *event;
        char helper[PATH_MAX];
        struct sessions_callbacks cb;
        void *userdata;
        struct session *list;
        unsigned next_id, n, max_startups, handshake_timeout, total, dropped;
        struct admission_penalties penalties;
        int host_key_fd;
        struct ratelimit tunnel_log, drop_log, rotated_log;
        const char *helper_tunables; /* added to the helpers' environment, or NULL */
};

static void changed(struct sessions *s) {
        if (s->cb.changed)
                s->cb.changed(s->userdata);
}

static const char *transport_name(enum session_transport t) {
        return t == SESSION_TUNNEL ? "tunnel" : "ssh";
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
        x->first_src = sd_event_source_disable_unref(x->first_src);
        x->deadline_src = sd_event_source_disable_unref(x->deadline_src);
        safe_close(x->ctrl);
        safe_close(x->conn);
        free(x);
}

/* A line per event for a few a minute, then one line with the count. */
_printf_(4, 5)
static void log_limited(struct ratelimit *rl, int level, const char *message_id, const char *fmt, ...) {
        unsigned held;
        bool go = ratelimit_below(rl, &held);
        char line[512];
        va_list ap;

        if (held > 0)
                log_warning("%u more such events in the last minute (not logged one by one).", held);
        if (!go)
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        if (message_id)
                log_struct(level, 0, message_id, NULL, "%s", line);
        else
                log_full(level, 0, "%s", line);
}

/* The end of a tunnel's handshake, told once: the relay waiters slow down
 * on a slot whose pairings keep failing, and a direct source whose
 * handshakes keep failing is refused for a while. */
static void handshake_done(struct session *x, bool ok) {
        struct sessions *s = x->owner;

        if (x->transport != SESSION_TUNNEL || x->handshake_told)
                return;
        x->handshake_told = true;
        if (!ok && x->origin.path != ADMISSION_RELAY)
                admission_penalty_note(&s->penalties, x->origin.path, x->origin.source, now_usec());
        if (s->cb.handshake)
                s->cb.handshake(s->userdata, &x->origin, ok);
}

/* One report of the helper: "event arguments". */
static void handle_event(struct session *x, char *line) {
        struct sessions *s = x->owner;
        char *arg = strchr(line, ' ');
        char peer_field[320];
        const char *fields[] = { peer_field, NULL };

        if (arg)
                *arg++ = '\0';
        snprintf(peer_field, sizeof peer_field, "KAIROS_PEER=%s", x->origin.peer);
        if (!strcmp(line, "tunnel-proven")) {
                if (x->state == SESSION_STARTING)
                        x->state = SESSION_PROVEN;
        } else if (!strcmp(line, "tunnel-established")) {
                x->state = SESSION_ESTABLISHED;
                log_debug("Session %u: tunnel from %s established.", x->id, x->origin.peer);
                handshake_done(x, true);
        } else if (!strcmp(line, "tunnel-rotated")) {
                /* The pairing worked (a slot needs no slowing down), and the
                 * bridge learnt the truth; nothing was opened. */
                log_limited(&s->rotated_log, LOG_NOTICE, NULL,
                            "Tunnel from %s: the code from before the rotation; told the bridge to read the new one.",
                            x->origin.peer);
                handshake_done(x, true);
        } else if (!strcmp(line, "tunnel-failed")) {
                log_limited(&s->tunnel_log, LOG_NOTICE, MESSAGE_ID_TUNNEL_FAILED, "Tunnel from %s not established: %s.",
                            x->origin.peer, arg ? arg : "unknown reason");
                handshake_done(x, false);
        } else if (!strcmp(line, "auth-failed")) {
                if (x->transport == SESSION_SSH)
                        admission_penalty_note(&s->penalties, x->origin.path, x->origin.source, now_usec());
                log_struct(LOG_WARNING, 0, MESSAGE_ID_AUTH_FAILED, fields,
                           "Session %u: authentication failed (%s) from %s (%s).", x->id, arg ? arg : "?",
                           x->origin.peer, transport_name(x->transport));
        } else if (!strcmp(line, "authenticated")) {
                char *user = arg ? strchr(arg, ' ') : NULL;
                if (user)
                        *user++ = '\0';
                snprintf(x->method, sizeof x->method, "%s", arg ? arg : "?");
                snprintf(x->user, sizeof x->user, "%s", user ? user : "?");
                x->state = SESSION_AUTHENTICATED;
                x->conn = safe_close(x->conn); /* the helper's alone from now on */
                s->total++;
                log_struct(LOG_NOTICE, 0, MESSAGE_ID_SESSION_OPENED, fields,
                           "Session %u opened: %s logged in with %s from %s.", x->id, x->user, x->method, x->origin.peer);
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
        handshake_done(x, false); /* died before it confirmed the key */
        snprintf(peer_field, sizeof peer_field, "KAIROS_PEER=%s", x->origin.peer);
        if (x->state == SESSION_AUTHENTICATED)
                log_struct(LOG_NOTICE, 0, MESSAGE_ID_SESSION_CLOSED, fields, "Session %u from %s closed%s.", x->id,
                           x->origin.peer, si->si_code == CLD_EXITED ? "" : " (helper killed by a signal)");
        else if (si->si_code != CLD_EXITED && si->si_status != SIGKILL)
                log_warning("Session %u from %s: helper killed by signal %d.", x->id, x->origin.peer, si->si_status);
        session_free(x);
        changed(s);
        return 0;
}

/* "Busy" to a tunnel peer we refuse or drop before our handshake answer:
 * its bridge says the machine is busy instead of blaming the token. Never
 * blocks: a peer that does not read just misses it. */
static void tell_busy(int fd) {
        (void) send(fd, TUNNEL_BUSY_FRAME, sizeof TUNNEL_BUSY_FRAME - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Cuts the connection of a session that has not authenticated. A helper
 * sees its end at once and exits by itself (no signal: one sent before the
 * helper's exec left a child that was never reaped under ASan); a tunnel
 * without a helper yet ends here. busy: tell a tunnel peer that has not had
 * our handshake answer (the helper reports "tunnel-proven" before it
 * writes that answer: a report queued now means it may be on its way, and
 * then nothing is added). Returns whether x still exists. */
static bool cut(struct session *x, bool busy) {
        if (busy && x->transport == SESSION_TUNNEL) {
                while (x->ctrl_src && read_report(x))
                        ;
                if (x->state <= SESSION_STARTING && x->conn >= 0)
                        tell_busy(x->conn);
        }
        if (x->pid == 0) {
                session_free(x);
                return false;
        }
        if (x->conn >= 0)
                shutdown(x->conn, SHUT_RDWR);
        x->conn = safe_close(x->conn); /* out of the count until reaped */
        return true;
}

/* A silent connection pushed out for a newcomer: a failure of its source. */
static void drop(struct session *x, const char *why) {
        struct sessions *s = x->owner;

        s->dropped++;
        log_limited(&s->drop_log, LOG_NOTICE, MESSAGE_ID_CONNECTION_DROPPED,
                    "Session %u from %s dropped after %.1f s without proof: %s.", x->id, x->origin.peer,
                    (double) (now_usec() - x->started) / USEC_PER_SEC, why);
        handshake_done(x, false);
        if (x->transport == SESSION_SSH)
                admission_penalty_note(&s->penalties, x->origin.path, x->origin.source, now_usec());
        cut(x, true);
}

/* Makes room for a newcomer on origin's path, by the rules of admission.h:
 * 0, or ADMISSION_REFUSE when it must come back later. */
static int admit(struct sessions *s, const struct session_origin *o) {
        struct admission_entry e[256];
        struct session *who[256];
        size_t n = 0;
        int v;

        for (struct session *x = s->list; x && n < ELEMENTSOF(e); x = x->next) {
                /* Already cut, waiting to be reaped: no longer counts. */
                if (x->conn < 0 && x->state != SESSION_AUTHENTICATED)
                        continue;
                who[n] = x;
                e[n++] = (struct admission_entry) { .path = x->origin.path, .stage = (enum admission_stage) x->state,
                                                    .source = x->origin.source, .started = x->started };
        }
        v = admission_pick_victim(e, n, o->path, o->source,
                                  &(struct admission_limits) { .per_path = s->max_startups,
                                                               .per_source = ADMISSION_PER_SOURCE });
        if (v < 0)
                return v == ADMISSION_REFUSE ? ADMISSION_REFUSE : 0;
        if (!strcmp(who[v]->origin.source, o->source))
                drop(who[v], "a newer connection from the same source, which has the most waiting");
        else
                drop(who[v], "a newcomer, and the budget of waiting connections on this path is full");
        return 0;
}

/* Why a source is refused for now, or NULL. */
static const char *refused(struct sessions *s, const struct session_origin *o, char *why, size_t size) {
        unsigned f;

        if (o->path == ADMISSION_RELAY)
                return NULL; /* the relay waiters back off per slot instead */
        f = admission_penalty_count(&s->penalties, o->path, o->source, now_usec());
        if (f < FAILURES_PER_WINDOW)
                return NULL;
        snprintf(why, size, "%u failed %s from %s in the last minute", f,
                 o->path == ADMISSION_SSH ? "logins or dropped connections" : "or dropped handshakes", o->source);
        return why;
}

/* Starts x's helper, which takes over its connection (x->conn is our
 * copy). On failure x is gone. */
static int start_helper(struct session *x) {
        struct sessions *s = x->owner;
        char config[SESSION_CONFIG_MAX];
        int sp[2] = { -EBADF, -EBADF }, n, r;
        pid_t pid;

        x->first_src = sd_event_source_disable_unref(x->first_src);
        x->deadline_src = sd_event_source_disable_unref(x->deadline_src);
        n = s->cb.config(s->userdata, x->transport, x->origin.peer, config, sizeof config);
        if (n < 0) {
                session_free(x);
                return log_error_errno(n, "Cannot prepare a session: %m");
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                r = log_error_errno(negative_errno(), "Cannot start a session: %m");
                explicit_bzero(config, sizeof config);
                session_free(x);
                return r;
        }
        r = helper_spawn(s->helper, x->conn, sp[1], s->host_key_fd, s->helper_tunables, &pid);
        close(sp[1]);
        if (r < 0) {
                close(sp[0]);
                explicit_bzero(config, sizeof config);
                /* EAGAIN when the unit's TasksMax= is reached (a runaway
                 * session): summed up like refusals, not one line each. */
                log_limited(&s->drop_log, LOG_WARNING, NULL, "Cannot start a session helper for %s: %s.", x->origin.peer,
                            strerror(-r));
                session_free(x);
                return r;
        }
        x->pid = pid;
        x->ctrl = sp[0];
        if (x->transport == SESSION_TUNNEL)
                x->state = SESSION_STARTING;
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
        log_debug("Session %u: helper %d for %s from %s.", x->id, (int) pid, transport_name(x->transport), x->origin.peer);
        changed(s);
        return 0;
}

/* A tunnel connection that ended or stalled before its first message: a
 * failed handshake of its source, without a helper ever started. */
static void first_message_failed(struct session *x, const char *why) {
        struct sessions *s = x->owner;

        log_limited(&s->tunnel_log, LOG_NOTICE, MESSAGE_ID_TUNNEL_FAILED, "Tunnel from %s not established: %s.",
                    x->origin.peer, why);
        handshake_done(x, false);
        session_free(x);
        changed(s);
}

/* Edge-triggered: called when bytes arrive or the peer closes, so that a
 * message that comes in pieces costs nothing while it waits. */
static int on_first_message(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        struct session *x = userdata;
        uint8_t buf[RECORD_HEADER_SIZE + TUNNEL_HANDSHAKE_MAX + 1];
        ssize_t n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);

        if (n > 0 && tunnel_first_frame_whole(buf, (size_t) n)) {
                (void) start_helper(x);
                return 0;
        }
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || (revents & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                first_message_failed(x, "closed before its first handshake message");
        return 0;
}

static int on_first_deadline(sd_event_source *src, uint64_t usec, void *userdata) {
        first_message_failed(userdata, "no first handshake message in time");
        return 0;
}

int sessions_start(struct sessions *s, int fd, const struct session_origin *o) {
        enum session_transport transport = o->path == ADMISSION_SSH ? SESSION_SSH : SESSION_TUNNEL;
        const char *why_refused;
        char why[200];
        struct session *x;

        why_refused = refused(s, o, why, sizeof why);
        if (why_refused) {
                s->dropped++;
                if (admission_penalty_first_refusal(&s->penalties, o->path, o->source, now_usec()))
                        log_struct(LOG_WARNING, 0, MESSAGE_ID_CONNECTION_DROPPED, NULL,
                                   "Refusing %s connections from %s for the rest of the minute: %s.",
                                   admission_path_name(o->path), o->source, why_refused);
        } else if (admit(s, o) == ADMISSION_REFUSE) {
                s->dropped++;
                why_refused = why;
                log_limited(&s->drop_log, LOG_INFO, MESSAGE_ID_CONNECTION_DROPPED,
                            "Connection from %s told to come back: the connections already waiting %s are all at work.",
                            o->peer, o->path == ADMISSION_RELAY ? "on its relay slot or the relay" : "from its source or on its path");
        }
        if (why_refused) {
                if (transport == SESSION_TUNNEL)
                        tell_busy(fd);
                close(fd);
                return -EBUSY;
        }
        x = calloc(1, sizeof *x);
        if (!x) {
                close(fd);
                return log_oom();
        }
        *x = (struct session) { .owner = s, .id = ++s->next_id, .ctrl = -EBADF, .conn = fd, .transport = transport,
                                .state = SESSION_CONNECTED, .origin = *o, .started = now_usec() };
        x->next = s->list;
        s->list = x;
        s->n++;
        if (transport == SESSION_SSH)
                return start_helper(x);
        if (sd_event_add_io(s->event, &x->first_src, fd, EPOLLIN | EPOLLRDHUP | EPOLLET, on_first_message, x) < 0 ||
            sd_event_add_time_relative(s->event, &x->deadline_src, CLOCK_MONOTONIC,
                                       (uint64_t) s->handshake_timeout * USEC_PER_SEC, 0, on_first_deadline, x) < 0) {
                session_free(x);
                return log_oom();
        }
        changed(s);
        return 0;
}

unsigned sessions_end_unauthenticated(struct sessions *s) {
        unsigned n = 0;

        for (struct session *x = s->list, *next; x; x = next) {
                next = x->next;
                if (x->state == SESSION_AUTHENTICATED || x->conn < 0)
                        continue;
                /* No "busy": the old token is what is wrong now. Nor a
                 * failed handshake to count: it was ended here, on the old
                 * secret's relay channels, which are gone. */
                x->handshake_told = true;
                cut(x, false);
                n++;
        }
        if (n > 0)
                changed(s);
        return n;
}

int sessions_new(sd_event *event, const char *helper_path, unsigned max_startups,
                 const struct sessions_callbacks *cb, void *userdata, struct sessions **ret) {
        struct sessions *s = calloc(1, sizeof *s);

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        snprintf(s->helper, sizeof s->helper, "%s", helper_path);
        s->max_startups = MAX(max_startups, 1u);
        s->handshake_timeout = 5;
        s->host_key_fd = -EBADF;
        s->cb = *cb;
        s->userdata = userdata;
        s->tunnel_log = RATELIMIT(ADMISSION_PENALTY_WINDOW, EVENTS_LOGGED);
        s->drop_log = RATELIMIT(ADMISSION_PENALTY_WINDOW, EVENTS_LOGGED);
        /* Apart from the failures: a flood of strangers must not hide these. */
        s->rotated_log = RATELIMIT(ADMISSION_PENALTY_WINDOW, EVENTS_LOGGED);
        s->helper_tunables = helper_tunables();
        *ret = s;
        return 0;
}

struct sessions *sessions_free(struct sessions *s) {
        if (!s)
                return NULL;
        while (s->list) {
                if (s->list->pid > 0)
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

void sessions_set_max_startups(struct sessions *s, unsigned max) {
        s->max_startups = MAX(max, 1u);
}

void sessions_set_handshake_timeout(struct sessions *s, unsigned sec) {
        s->handshake_timeout = MAX(sec, 1u);
}

unsigned sessions_count(const struct sessions *s) {
        return s->n;
}

unsigned sessions_authenticated(const struct sessions *s) {
        unsigned n = 0;

        for (const struct session *x = s->list; x; x = x->next)
                n += x->state == SESSION_AUTHENTICATED;
        return n;
}

unsigned sessions_total(const struct sessions *s) {
        return s->total;
}

unsigned sessions_dropped(const struct sessions *s) {
        return s->dropped;
}

bool sessions_get(const struct sessions *s, size_t i, struct session_info *info) {
        const struct session *x = s->list;

        while (x && i-- > 0)
                x = x->next;
        if (!x)
                return false;
        *info = (struct session_info) { .id = x->id, .transport = x->transport, .state = x->state,
                                        .peer = x->origin.peer, .user = x->user, .method = x->method };
        return true;
}
