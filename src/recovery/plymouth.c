/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "plymouth.h"

#define MESSAGE_MAX 256

extern char **environ;

enum step {
        STEP_IDLE,
        STEP_PING,
        STEP_MESSAGE,
        STEP_HIDE,
};

struct plymouth {
        sd_event *event;
        plymouth_done_t done;
        void *userdata;
        char *client;
        usec_t timeout;
        enum step step;
        bool again;     /* plymouth_show() came while a chain ran */
        int result;     /* of the chain so far */
        pid_t pid;
        int pidfd;
        sd_event_source *exit_source, *timer, *deferred;
        char message[MESSAGE_MAX];
};

static const char *step_name(enum step s) {
        return s == STEP_PING ? "--ping" : s == STEP_MESSAGE ? "display-message" : "hide-splash";
}

void plymouth_message(const char *password, char *buf, size_t size) {
        /* One line under 80 columns, as the "details" theme and the text
         * themes print it; Esc toggles the splash in every theme. */
        if (password && *password)
                snprintf(buf, size, "Remote recovery: password %s. Esc shows the QR code.", password);
        else
                snprintf(buf, size, "Remote recovery: Esc shows the QR code.");
}

/* Done with the child: reaped, sources gone. */
static void child_forget(struct plymouth *p) {
        p->exit_source = sd_event_source_disable_unref(p->exit_source);
        p->timer = sd_event_source_disable_unref(p->timer);
        if (p->pidfd >= 0)
                close(p->pidfd);
        p->pidfd = -EBADF;
        p->pid = 0;
}

static void child_kill(struct plymouth *p) {
        if (p->pid > 0) {
                /* Still ours (not reaped): the pid cannot have been reused. */
                (void) kill(p->pid, SIGKILL);
                (void) waitpid(p->pid, NULL, 0);
        }
        child_forget(p);
}

static int start(struct plymouth *p, enum step step);

static void finish(struct plymouth *p, int result) {
        p->step = STEP_IDLE;
        if (result < 0)
                log_debug_errno(result, "plymouth: could not show the message or hide the splash: %s", strerror(-result));
        if (p->again) {
                /* A newer message: only its result is reported. */
                p->again = false;
                if (start(p, STEP_PING) >= 0)
                        return;
                result = 0;
        }
        if (p->done)
                p->done(p, result, p->userdata);
}

/* The child of `step` ended with status (or was killed). */
static void next(struct plymouth *p, int status) {
        bool ok = status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;

        switch (p->step) {
        case STEP_PING:
                if (!ok) {
                        log_debug("plymouth: plymouthd is not running.");
                        finish(p, 0);
                        return;
                }
                if (start(p, STEP_MESSAGE) < 0)
                        finish(p, -EIO);
                return;
        case STEP_MESSAGE:
                /* Hide the splash even if the message did not go: the
                 * console holds everything the message does. */
                if (!ok)
                        p->result = -EIO;
                if (start(p, STEP_HIDE) < 0)
                        finish(p, -EIO);
                return;
        case STEP_HIDE:
                finish(p, !ok ? (status == -ETIMEDOUT ? -ETIMEDOUT : -EIO) : p->result < 0 ? p->result : 1);
                return;
        default:
                return;
        }
}

static int on_child_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct plymouth *p = userdata;
        int status = 0;
        pid_t r;

        r = waitpid(p->pid, &status, WNOHANG);
        if (r == 0)
                return 0; /* not yet (a spurious wakeup) */
        if (r < 0) {
                /* Someone else reaped it: its outcome is unknown. */
                log_debug_errno(-errno, "plymouth: lost the %s child: %m", step_name(p->step));
                status = -ECHILD;
        }
        p->pid = 0;
        child_forget(p);
        next(p, status);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct plymouth *p = userdata;

        log_debug("plymouth: %s did not finish in time; killed it.", step_name(p->step));
        child_kill(p);
        if (p->step == STEP_MESSAGE)
                p->result = -ETIMEDOUT;
        /* A plymouthd that hangs once hangs again: do not go on. */
        finish(p, -ETIMEDOUT);
        return 0;
}

static int spawn(struct plymouth *p, char *const argv[]) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, all;
        pid_t pid;
        int r;

        sigemptyset(&none);
        sigfillset(&all);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        /* Quiet, and with none of the caller's blocked signals or handlers
         * (an sd-event loop blocks some). */
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        r = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r != 0)
                return -r;
        return pid;
}

static int start(struct plymouth *p, enum step step) {
        char text[MESSAGE_MAX + 16];
        char *argv[4] = { p->client, NULL, NULL, NULL };
        int r;

        if (step == STEP_PING)
                p->result = 0;
        argv[1] = (char *) (step == STEP_MESSAGE ? "display-message" : step_name(step));
        if (step == STEP_MESSAGE) {
                snprintf(text, sizeof text, "--text=%s", p->message);
                argv[2] = text;
        }
        r = spawn(p, argv);
        explicit_bzero(text, sizeof text);
        if (r < 0) {
                if (r == -ENOENT)
                        log_debug("plymouth: no %s client; nothing to do.", p->client);
                else
                        log_debug_errno(r, "plymouth: cannot run %s: %s", p->client, strerror(-r));
                return r;
        }
        p->pid = r;
        p->step = step;

        p->pidfd = (int) syscall(SYS_pidfd_open, p->pid, 0);
        if (p->pidfd < 0) {
                r = negative_errno();
                goto fail;
        }
        r = sd_event_add_io(p->event, &p->exit_source, p->pidfd, EPOLLIN, on_child_exit, p);
        if (r < 0)
                goto fail;
        r = sd_event_add_time_relative(p->event, &p->timer, CLOCK_MONOTONIC, p->timeout, 10 * USEC_PER_MSEC,
                                       on_timeout, p);
        if (r < 0)
                goto fail;
        return 0;
fail:
        log_debug_errno(r, "plymouth: cannot watch the client: %s", strerror(-r));
        child_kill(p);
        p->step = STEP_IDLE;
        return r;
}

static int on_deferred(sd_event_source *s, void *userdata) {
        struct plymouth *p = userdata;

        p->deferred = sd_event_source_disable_unref(p->deferred);
        if (p->done)
                p->done(p, 0, p->userdata);
        return 0;
}

int plymouth_show(struct plymouth *p, const char *password) {
        plymouth_message(password, p->message, sizeof p->message);
        if (p->step != STEP_IDLE) {
                p->again = true;
                return 0;
        }
        if (start(p, STEP_PING) < 0 && !p->deferred) {
                /* No client, or no way to run it: quietly nothing, but the
                 * caller still hears that it is over, from the loop as
                 * always (never from inside this call). */
                int r = sd_event_add_defer(p->event, &p->deferred, on_deferred, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

int plymouth_set_client(struct plymouth *p, const char *path) {
        char *c = strdup(path);

        if (!c)
                return -ENOMEM;
        free(p->client);
        p->client = c;
        return 0;
}

void plymouth_set_timeout(struct plymouth *p, usec_t timeout) {
        if (timeout > 0)
                p->timeout = timeout;
}

bool plymouth_busy(const struct plymouth *p) {
        return p->step != STEP_IDLE || p->deferred;
}

int plymouth_new(sd_event *event, plymouth_done_t done, void *userdata, struct plymouth **ret) {
        struct plymouth *p;

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        *p = (struct plymouth) {
                .event = sd_event_ref(event),
                .done = done,
                .userdata = userdata,
                .timeout = PLYMOUTH_TIMEOUT,
                .pidfd = -EBADF,
                .client = strdup("plymouth"),
        };
        if (!p->client) {
                plymouth_free(p);
                return -ENOMEM;
        }
        *ret = p;
        return 0;
}

struct plymouth *plymouth_free(struct plymouth *p) {
        if (!p)
                return NULL;
        child_kill(p);
        p->deferred = sd_event_source_disable_unref(p->deferred);
        sd_event_unref(p->event);
        free(p->client);
        explicit_bzero(p->message, sizeof p->message);
        free(p);
        return NULL;
}
