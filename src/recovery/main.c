/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kairos-recovery: the remote-recovery daemon, and its commands for a
 * person at the machine's console. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include "bootcount.h"
#include "conf.h"
#include "display.h"
#include "kdf.h"
#include "keys.h"
#include "log.h"
#include "manager.h"
#include "qr.h"
#include "state.h"

static const char *config_path;

static void help(void) {
        printf("Usage: kairos-recovery [--config FILE] [COMMAND]\n"
               "\n"
               "The kairos remote-recovery daemon (started by kairos-recovery.service), and:\n"
               "\n"
               "  run          run the daemon (the default)\n"
               "  show         print the QR code, the token, the SSH password, the addresses\n"
               "               and the host key fingerprint of the running daemon\n"
               "  rotate       make the running daemon use a new token and password; the old\n"
               "               ones open nothing new (sessions already open stay)\n"
               "  show-config  print the effective configuration and where each value came from\n"
               "  check-config check the configuration: print every problem, exit 1 if there is one\n"
               "  keygen-machine [FILE]\n"
               "               make this machine's signing key for sealed codes (default\n"
               "               MachineKey=, %s) and print its public key\n"
               "               for the operator's known_machines\n"
               "\n"
               "  -c --config FILE  configuration file (default %s)\n"
               "  -h --help         this text\n"
               "     --version      the version\n"
               "\n"
               "See kairos-recovery(8) and kairos-recovery.conf(5).\n", CONF_DEFAULT_MACHINE_KEY, CONF_DEFAULT_PATH);
}

/* The screen's frames end their lines with "\r\n", which a serial console
 * or a terminal in raw mode needs. A pipe or a file (show | grep) gets
 * plain lines; so does a terminal that turns "\n" into "\r\n" itself. */
static bool stdout_needs_cr(void) {
        struct termios t;

        return isatty(STDOUT_FILENO) && tcgetattr(STDOUT_FILENO, &t) == 0 &&
               !((t.c_oflag & OPOST) && (t.c_oflag & ONLCR));
}

static void put_frame(const char *screen) {
        bool cr = stdout_needs_cr();

        for (const char *p = screen; *p; p++)
                if (cr || !(p[0] == '\r' && p[1] == '\n'))
                        putchar(*p);
}

/* The runtime directory is root's (0700): tell a user who is not. */
static int state_error(int r, const char *dir, const char *what) {
        if (r == -EACCES || r == -EPERM) {
                log_error("Permission denied reading %s/%s: run this command as root (sudo kairos-recovery …).",
                          dir, what);
                return EX_NOPERM;
        }
        log_error_errno(r, "Cannot read %s/%s: %m. Is kairos-recovery running (systemctl status kairos-recovery)?",
                        dir, what);
        return EX_UNAVAILABLE;
}

/* What the running daemon shows, from its runtime directory. */
static int cmd_show(void) {
        struct recovery_config c;
        struct display_info info = {}; /* render reads every field: relay, sessions */
        struct kairos_token t;
        struct token_error err;
        struct qr_code *q = NULL;
        char text[KAIROS_TOKEN_TEXT_MAX], pub[4096], path[4200], *screen = NULL;
        const char *dir = state_dir();
        FILE *f;
        int r;

        r = state_read_file(dir, "token", text, sizeof text);
        if (r < 0)
                return state_error(r, dir, "token");
        if (token_decode(text, &t, &err) < 0) {
                log_error("%s/token: %s", dir, err.message);
                return EX_DATAERR;
        }
        conf_load(&c, config_path, NULL, NULL, NULL);
        display_info_clear(&info);
        display_info_set_token(&info, &t);
        snprintf(info.token, sizeof info.token, "%s", text);
        kdf_password(t.secret, info.password);
        if (gethostname(info.hostname, sizeof info.hostname) < 0)
                snprintf(info.hostname, sizeof info.hostname, "?");
        /* The key the daemon uses: the configured one, else the one of this boot. */
        snprintf(path, sizeof path, "%s.pub", c.host_key);
        if (!c.host_key[0] || access(path, R_OK) < 0)
                snprintf(path, sizeof path, "%s/host_ed25519_key.pub", dir);
        f = fopen(path, "re");
        if (f && fgets(pub, sizeof pub, f))
                (void) state_key_fingerprint(pub, info.fingerprint, sizeof info.fingerprint);
        if (f)
                fclose(f);
        r = qr_encode(text, &q);
        if (r >= 0)
                r = display_render(&info, q, isatty(STDOUT_FILENO) ? DISPLAY_FORM_VT : DISPLAY_FORM_SERIAL,
                                   DISPLAY_DEFAULT_COLUMNS, DISPLAY_DEFAULT_ROWS, &screen);
        if (r < 0) {
                log_error_errno(r, "Cannot render the QR code: %m");
                qr_free(q);
                return EX_SOFTWARE;
        }
        put_frame(screen);
        printf("\nToken:    %s\nPassword: %s\n", text, info.password);
        free(screen);
        qr_free(q);
        display_info_clear(&info);
        token_clear(&t);
        return 0;
}

static int cmd_rotate(void) {
        char pid_text[32], before[KAIROS_TOKEN_TEXT_MAX], now[KAIROS_TOKEN_TEXT_MAX];
        const char *dir = state_dir();
        long pid;
        int r;

        r = state_read_file(dir, "pid", pid_text, sizeof pid_text);
        if (r < 0)
                return state_error(r, dir, "pid");
        if ((pid = strtol(pid_text, NULL, 10)) <= 1) {
                log_error("Cannot find the running daemon in %s/pid. Is kairos-recovery running?", dir);
                return EX_UNAVAILABLE;
        }
        if (state_read_file(dir, "token", before, sizeof before) < 0)
                before[0] = '\0';
        if (kill((pid_t) pid, SIGUSR1) < 0) {
                log_error_errno(-errno, "Cannot signal kairos-recovery (PID %ld): %m", pid);
                return errno == EPERM ? EX_NOPERM : EX_UNAVAILABLE;
        }
        for (int i = 0; i < 100; i++) {
                if (state_read_file(dir, "token", now, sizeof now) > 0 && strcmp(now, before))
                        return cmd_show();
                usleep(50 * 1000);
        }
        log_error("kairos-recovery did not write a new token within 5 s; see journalctl -u kairos-recovery.");
        return EX_TEMPFAIL;
}

static int cmd_show_config(void) {
        struct recovery_config c;
        char *text = NULL;

        /* Problems go to stderr (or the journal) as the daemon logs them. */
        conf_load(&c, config_path, NULL, NULL, NULL);
        if (conf_render(&c, &text) < 0)
                return EX_OSERR;
        fputs(text, stdout);
        free(text);
        bootcount_describe(stdout);
        return 0;
}

/* The machine's signing key: made once, never overwritten (the operators'
 * known_machines lists its public half). */
static int cmd_keygen_machine(const char *path) {
        struct recovery_config c;
        struct machine_key k;
        char text[KEYS_TEXT_MAX], pub_path[CONF_PATH_MAX + 8];
        int r;

        if (!path) {
                conf_load(&c, config_path, NULL, NULL, NULL);
                path = c.machine_key;
        }
        machine_key_new(&k);
        key_to_text(KEY_MACHINE_SECRET, k.sk, text); /* the seed: the first half of sk */
        r = key_write_file(path, text, 0600);
        sodium_memzero(text, sizeof text);
        if (r == -EEXIST) {
                machine_key_clear(&k);
                log_error("%s exists already: a machine key is never overwritten (operators know this machine by it). "
                          "Its public key is in %s.pub.", path, path);
                return EX_CANTCREAT;
        }
        if (r < 0) {
                machine_key_clear(&k);
                log_error_errno(r, "Cannot write %s: %m", path);
                return EX_CANTCREAT;
        }
        key_to_text(KEY_MACHINE_PUBLIC, k.pk, text);
        machine_key_clear(&k);
        snprintf(pub_path, sizeof pub_path, "%s.pub", path);
        (void) unlink(pub_path);
        if (key_write_file(pub_path, text, 0644) < 0)
                log_warning("Cannot write %s; the public key is printed below.", pub_path);
        log_info("Machine signing key written to %s. It goes into the initramfs: rebuild it (dracut --force).", path);
        log_info("Add this line, with a name of your choice, to each operator's ~/.config/kairos-bridge/known_machines:");
        printf("%s %s\n", text, "NAME");
        return 0;
}

static void check_diag(int level, const char *source, unsigned line, const char *message, void *userdata) {
        if (line > 0)
                fprintf(stderr, "%s:%u: %s\n", source, line, message);
        else
                fprintf(stderr, "%s: %s\n", source, message);
}

/* As sshd -t: every problem on stderr, exit 1 if there is any. The daemon
 * would start all the same (it starts whatever the configuration says),
 * but not as configured. */
static int cmd_check_config(void) {
        struct recovery_config c;
        int problems;

        problems = conf_load(&c, config_path, NULL, check_diag, NULL);
        if (problems > 0) {
                fprintf(stderr, "%d problem%s: kairos-recovery would start all the same, without what %s reported.\n",
                        problems, problems == 1 ? "" : "s", problems == 1 ? "is" : "are");
                return 1;
        }
        return 0;
}

static int cmd_run(void) {
        struct manager m = {};
        int r;

        r = manager_start(&m, config_path);
        if (r >= 0)
                r = manager_run(&m);
        manager_done(&m);
        return r < 0 ? (m.exit_status ?: EX_SOFTWARE) : 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        const char *cmd = "run", *cmd_arg = NULL;
        int c;

        log_open();
        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c': config_path = optarg; break;
                case 'h': help(); return 0;
                case 'V': printf("kairos-recovery %s\n", PACKAGE_VERSION); return 0;
                default: return EX_USAGE;
                }
        if (optind < argc)
                cmd = argv[optind++];
        if (optind < argc && !strcmp(cmd, "keygen-machine"))
                cmd_arg = argv[optind++];
        if (optind < argc) {
                log_error("Too many arguments; see kairos-recovery --help.");
                return EX_USAGE;
        }
        /* The secret is in our memory whatever the command: no core dump
         * (nor ptrace by anyone without CAP_SYS_PTRACE) may carry it away.
         * The whole process rather than madvise() on a few buffers: copies
         * are derived onto the stack and into the session configuration. */
        prctl(PR_SET_DUMPABLE, 0);
        if (sodium_init() < 0)
                return EX_SOFTWARE;
        if (!strcmp(cmd, "run"))
                return cmd_run();
        if (!strcmp(cmd, "show"))
                return cmd_show();
        if (!strcmp(cmd, "rotate"))
                return cmd_rotate();
        if (!strcmp(cmd, "show-config"))
                return cmd_show_config();
        if (!strcmp(cmd, "check-config"))
                return cmd_check_config();
        if (!strcmp(cmd, "keygen-machine"))
                return cmd_keygen_machine(cmd_arg);
        log_error("Unknown command \"%s\"; see kairos-recovery --help.", cmd);
        return EX_USAGE;
}
