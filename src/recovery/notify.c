/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "io.h"
#include "log.h"
#include "macro.h"
#include "notify.h"
#include "sealed.h"

#define BACKOFF_FIRST_USEC (2 * USEC_PER_SEC)
#define BACKOFF_MAX_USEC (300 * USEC_PER_SEC)

struct notify {
        sd_event *event;
        struct recovery_config config;
        char helper[4096];
        struct notify_source src;
        notify_changed_t changed;
        void *userdata;

        pid_t pid;
        sd_event_source *child_src, *timer_src;
        unsigned attempt;
        uint64_t backoff;
        bool delivered;
        char status[160];
};

const char *notify_reason(void) {
        const char *r = getenv("KAIROS_RECOVERY_REASON");

        return r && *r ? r : "recovery mode chosen at boot";
}

static void read_machine_id(char *out, size_t size) {
        FILE *f = fopen("/etc/machine-id", "re");

        snprintf(out, size, "unknown");
        if (f) {
                if (fgets(out, (int) size, f))
                        out[strcspn(out, "\n")] = '\0';
                fclose(f);
        }
}

/* Printable ASCII only, as sealed.h wants; anything else becomes '?'. */
static void copy_clean(char *dst, size_t size, const char *src) {
        size_t i;

        for (i = 0; src && src[i] && i < size - 1; i++)
                dst[i] = (unsigned char) src[i] >= 0x20 && (unsigned char) src[i] < 0x7f ? src[i] : '?';
        dst[i] = '\0';
}

int notify_body(const struct recovery_config *c, const struct notify_source *src, const char *reason,
                char **ret, size_t *ret_size) {
        struct machine_key mk;
        struct sealed_code *code = NULL;
        uint8_t seed[32], op_pk[32];
        char why[256], *text = NULL;
        size_t size = 0;
        FILE *f = NULL;
        int r;

        r = key_read_file(c->machine_key, KEY_MACHINE_SECRET, seed, why, sizeof why);
        if (r == -ENOENT)
                return log_error_errno(r, "No machine signing key in %s: nothing is sent (a code nobody can check would "
                                       "be refused). Make one with kairos-recovery keygen-machine.", c->machine_key);
        if (r < 0)
                return log_error_errno(r, "Cannot use the machine signing key %s: %s", c->machine_key,
                                       r == -EINVAL || r == -EBADMSG || r == -ERANGE ? why : strerror(-r));
        machine_key_from_seed(&mk, seed);
        sodium_memzero(seed, sizeof seed);

        code = sodium_malloc(sizeof *code);
        if (!code) {
                machine_key_clear(&mk);
                return log_oom();
        }
        memset(code, 0, sizeof *code);
        code->created = (uint64_t) time(NULL);
        copy_clean(code->token, sizeof code->token, src->token_text);
        copy_clean(code->password, sizeof code->password, src->password);
        copy_clean(code->fingerprint, sizeof code->fingerprint, src->fingerprint);
        copy_clean(code->hostname, sizeof code->hostname, src->hostname);
        read_machine_id(code->machine_id, sizeof code->machine_id);
        copy_clean(code->reason, sizeof code->reason, reason);

        f = open_memstream(&text, &size);
        if (!f) {
                r = log_oom();
                goto finish;
        }
        if (c->notify_format == CONF_NOTIFY_NTFY)
                fputs("A machine is in kairos remote recovery mode. Paste this message into kairos-bridge "
                      "(kairos-bridge --token -) to reach it:\n", f);
        for (size_t i = 0; i < c->n_notify_keys; i++) {
                char sealed[SEALED_TEXT_MAX];

                if (key_from_text(KEY_OPERATOR_PUBLIC, c->notify_keys[i], op_pk, NULL, 0) < 0)
                        continue; /* conf.c keeps only valid keys */
                r = sealed_seal(code, &mk, op_pk, sealed, sizeof sealed);
                if (r < 0) {
                        log_error_errno(r, "Cannot seal the code: %m");
                        goto finish;
                }
                fprintf(f, "%s\n", sealed);
        }
        if (fclose(f) != 0) {
                f = NULL;
                r = log_oom();
                goto finish;
        }
        f = NULL;
        *ret = TAKE_PTR(text);
        *ret_size = size;
        r = 0;
finish:
        if (f)
                fclose(f);
        free(text);
        machine_key_clear(&mk);
        sodium_memzero(code, sizeof *code);
        sodium_free(code);
        return r;
}

static void set_status(struct notify *n, const char *fmt, ...) _printf_(2, 3);
static void set_status(struct notify *n, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(n->status, sizeof n->status, fmt, ap);
        va_end(ap);
        if (n->changed)
                n->changed(n->userdata);
}

static void attempt(struct notify *n);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        attempt(userdata);
        return 0;
}

static void retry_later(struct notify *n, const char *why) {
        n->backoff = n->backoff ? MIN(n->backoff * 2, BACKOFF_MAX_USEC) : BACKOFF_FIRST_USEC;
        log_warning("Sending the sealed code to %s failed (try %u: %s); trying again in %llus.", n->config.notify_url,
                    n->attempt, why, (unsigned long long) (n->backoff / USEC_PER_SEC));
        set_status(n, "sending code failed (try %u), next in %llus", n->attempt,
                   (unsigned long long) (n->backoff / USEC_PER_SEC));
        n->timer_src = sd_event_source_disable_unref(n->timer_src);
        if (sd_event_add_time_relative(n->event, &n->timer_src, CLOCK_MONOTONIC, n->backoff, USEC_PER_SEC, on_timer, n) < 0)
                log_error("Cannot schedule the next try; the code is sent again after the next rotate.");
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        struct notify *n = userdata;
        char why[64];

        n->child_src = sd_event_source_disable_unref(n->child_src);
        n->pid = 0;
        if (si->si_code == CLD_EXITED && si->si_status == 0) {
                n->delivered = true;
                n->backoff = 0;
                log_info("Sealed code delivered to %s (try %u).", n->config.notify_url, n->attempt);
                set_status(n, "code sent");
                return 0;
        }
        if (si->si_code == CLD_EXITED)
                snprintf(why, sizeof why, "kairos-recovery-notify exited with %d", si->si_status);
        else
                snprintf(why, sizeof why, "kairos-recovery-notify killed by signal %d", si->si_status);
        retry_later(n, why);
        return 0;
}

static int spawn(struct notify *n, const char *body, size_t size, pid_t *ret) {
        int p[2];
        pid_t pid;
        const char *argv[8];
        size_t k = 0;

        argv[k++] = "kairos-recovery-notify";
        if (n->config.notify_ca[0]) {
                argv[k++] = "--ca";
                argv[k++] = n->config.notify_ca;
        }
        argv[k++] = "--format";
        argv[k++] = conf_notify_format_to_string(n->config.notify_format);
        argv[k++] = n->config.notify_url;
        argv[k] = NULL;

        /* The body fits the pipe (64 KiB): written before the child reads. */
        if (size > 60000)
                return -E2BIG;
        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        if (write(p[1], body, size) != (ssize_t) size) {
                int r = negative_errno();
                close(p[0]);
                close(p[1]);
                return r;
        }
        close(p[1]);
        pid = fork();
        if (pid < 0) {
                close(p[0]);
                return negative_errno();
        }
        if (pid == 0) {
                sigset_t ss;

                sigemptyset(&ss);
                sigprocmask(SIG_SETMASK, &ss, NULL);
                if (dup2(p[0], STDIN_FILENO) < 0)
                        _exit(127);
                /* Nothing of the daemon's but the body: not the listening
                 * sockets systemd passed (not close-on-exec), nor any other. */
                close_range(3, ~0U, 0);
                execv(n->helper, (char **) argv);
                _exit(127);
        }
        close(p[0]);
        *ret = pid;
        return 0;
}

static void attempt(struct notify *n) {
        _cleanup_free_ char *body = NULL;
        size_t size;
        int r;

        n->timer_src = sd_event_source_disable_unref(n->timer_src);
        n->attempt++;
        r = notify_body(&n->config, &n->src, notify_reason(), &body, &size);
        if (r < 0) {
                set_status(n, "cannot seal code");
                return; /* said why; nothing a retry would change */
        }
        r = spawn(n, body, size, &n->pid);
        sodium_memzero(body, size);
        if (r < 0) {
                retry_later(n, strerror(-r));
                return;
        }
        if (sd_event_add_child(n->event, &n->child_src, n->pid, WEXITED, on_child, n) < 0) {
                kill(n->pid, SIGKILL);
                waitpid(n->pid, NULL, 0);
                n->pid = 0;
                retry_later(n, "cannot watch the helper");
                return;
        }
        log_info("Sending the sealed code to %s (try %u, %zu operator key%s).", n->config.notify_url, n->attempt,
                 n->config.n_notify_keys, n->config.n_notify_keys == 1 ? "" : "s");
        set_status(n, "sending code (try %u)", n->attempt);
}

static void stop_attempt(struct notify *n) {
        n->timer_src = sd_event_source_disable_unref(n->timer_src);
        if (n->pid > 0) {
                n->child_src = sd_event_source_disable_unref(n->child_src);
                kill(n->pid, SIGKILL);
                waitpid(n->pid, NULL, 0);
                n->pid = 0;
        }
}

void notify_send(struct notify *n) {
        if (!n)
                return;
        stop_attempt(n);
        n->attempt = 0;
        n->backoff = 0;
        n->delivered = false;
        attempt(n);
}

void notify_network_changed(struct notify *n) {
        if (!n || n->delivered || n->pid > 0 || !n->timer_src)
                return;
        log_info("The network changed: sending the sealed code now.");
        attempt(n);
}

const char *notify_status(const struct notify *n) {
        return n ? n->status : NULL;
}

int notify_new(sd_event *e, const struct recovery_config *c, const char *helper, const struct notify_source *src,
               notify_changed_t changed, void *userdata, struct notify **ret) {
        struct notify *n;

        *ret = NULL;
        if (!c->notify_url[0])
                return 0;
        if (c->n_notify_keys == 0) {
                log_warning("NotifyURL= is set but no NotifyKey=: there is nobody to seal the code to, so nothing is sent.");
                return 0;
        }
        n = calloc(1, sizeof *n);
        if (!n)
                return log_oom();
        n->event = sd_event_ref(e);
        n->config = *c;
        snprintf(n->helper, sizeof n->helper, "%s", helper);
        n->src = *src;
        n->changed = changed;
        n->userdata = userdata;
        *ret = n;
        return 0;
}

struct notify *notify_free(struct notify *n) {
        if (!n)
                return NULL;
        stop_attempt(n);
        sd_event_unref(n->event);
        free(n);
        return NULL;
}
