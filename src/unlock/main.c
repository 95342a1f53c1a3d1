/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kairos-unlock: gives the passphrase that systemd asks for (an encrypted
 * root in the initramfs, through systemd-cryptsetup) from a kairos session,
 * the way systemd-tty-ask-password-agent does at the console, and says what
 * came of it. The console prompt stays: whichever answers first wins, and
 * the other side sees the request go. kairos-unlock(8) is the user's side. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sysexits.h>
#include <unistd.h>

#include "ask-dir.h"
#include "judge.h"
#include "log.h"
#include "passphrase.h"
#include "reply.h"
#include "volume.h"

/* An answer counts as taken once the asker is gone and no new request came
 * for this long (judge.h). */
#define SETTLE_USEC (1500 * 1000ULL)

static const char *arg_dir = ASK_DEFAULT_DIR;
static const char *arg_id;
static bool arg_list;
static unsigned arg_timeout = 300;

/* Who gives the passphrase, for the journal: the session's path as the
 * session helper names it, else what sshd says, else the terminal. */
static void who(char *out, size_t size) {
        const char *p = getenv("KAIROS_PEER"), *c = getenv("SSH_CONNECTION");
        char raw[256], *tty;

        if (p && *p)
                snprintf(raw, sizeof raw, "a kairos session from %s", p);
        else if (c && *c)
                snprintf(raw, sizeof raw, "an SSH session from %s", c);
        else if ((tty = ttyname(STDIN_FILENO)))
                snprintf(raw, sizeof raw, "the terminal %s", tty);
        else
                snprintf(raw, sizeof raw, "a caller without a terminal");
        ask_clean_text(raw, strlen(raw), out, size);
}

static void drain(int fd) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        while (fd >= 0 && read(fd, buf, sizeof buf) > 0)
                ;
}

struct watch {
        int inotify_fd;
        const struct ask_request *target;
};

/* passphrase_read()'s check: is the request still waiting for us? */
static int target_pending(void *userdata) {
        struct watch *w = userdata;
        struct ask_request list[ASK_DIR_MAX];
        int n;

        drain(w->inotify_fd);
        n = ask_dir_scan(arg_dir, list, ELEMENTSOF(list));
        if (n < 0)
                return n;
        return ask_find_name(list, (size_t) n, w->target->name) ? 1 : 0;
}

static bool matches(const struct ask_request *r) {
        return !arg_id || !strcmp(r->id, arg_id) || !strcmp(r->name, arg_id);
}

static int list_requests(void) {
        struct ask_request list[ASK_DIR_MAX];
        int n = ask_dir_scan(arg_dir, list, ELEMENTSOF(list)), shown = 0;

        if (n < 0) {
                fprintf(stderr, "Cannot read %s: %s\n", arg_dir, strerror(-n));
                return EX_OSERR;
        }
        for (int i = 0; i < n; i++) {
                if (!matches(&list[i]))
                        continue;
                printf("%-40s %s\n", list[i].id[0] ? list[i].id : list[i].name, list[i].message);
                shown++;
        }
        if (shown == 0) {
                printf("No passphrase is being asked for.\n");
                return EX_UNAVAILABLE;
        }
        return EX_OK;
}

static bool pid_alive(pid_t pid) {
        return kill(pid, 0) >= 0 || errno != ESRCH;
}

/* After the answer: until the judge says, or the deadline. */
static enum unlock_outcome wait_outcome(int ifd, const struct ask_request *answered, struct ask_request *again) {
        uint64_t deadline = ask_now_usec() + (uint64_t) arg_timeout * 1000000ULL;
        uint64_t quiet_since = ask_now_usec();
        struct ask_request list[ASK_DIR_MAX];
        size_t last_n = SIZE_MAX;

        for (;;) {
                const struct ask_request *next = NULL;
                struct pollfd p = { .fd = ifd, .events = POLLIN };
                enum unlock_outcome o;
                uint64_t now;
                int n;

                drain(ifd);
                n = ask_dir_scan(arg_dir, list, ELEMENTSOF(list));
                if (n < 0)
                        n = 0;
                now = ask_now_usec();
                if ((size_t) n != last_n)
                        quiet_since = now; /* the directory changed: settle again */
                last_n = (size_t) n;
                o = unlock_judge(answered, list, (size_t) n, answered->pid > 0 && pid_alive(answered->pid),
                                 now - quiet_since >= SETTLE_USEC, &next);
                if (o == UNLOCK_REFUSED)
                        *again = *next;
                if (o != UNLOCK_WAITING || now >= deadline || passphrase_interrupted)
                        return o;
                poll(&p, 1, 250);
        }
}

/* The journal's record of an answer's outcome: the volume, who, which path;
 * after a refusal, what the asker did next. */
static void record(bool accepted, const struct ask_request *r, const char *whom, const char *then) {
        char f_id[ASK_ID_MAX + 16], f_peer[300];
        const char *peer = getenv("KAIROS_PEER");
        const char *fields[] = { f_id, f_peer, NULL };
        const char *what = r->id[0] ? r->id : r->name;

        snprintf(f_id, sizeof f_id, "KAIROS_ASK_ID=%s", r->id);
        snprintf(f_peer, sizeof f_peer, "KAIROS_PEER=%s", peer && *peer ? peer : whom);
        if (accepted)
                log_struct(LOG_NOTICE, 0, MESSAGE_ID_UNLOCKED, fields,
                           "%s unlocked by %s (kairos-unlock): the boot goes on.", what, whom);
        else
                log_struct(LOG_WARNING, 0, MESSAGE_ID_UNLOCK_REFUSED, fields,
                           "A wrong passphrase for %s from %s (kairos-unlock): %s.", what, whom, then);
}

static int unlock_one(int ifd, struct ask_request target, const char *whom) {
        char pass[UNLOCK_PASSPHRASE_MAX + 1];
        bool tty = isatty(STDIN_FILENO);
        bool refused_before = false;
        const char *what;
        size_t len;
        int r;

        for (;;) {
                struct watch w = { .inotify_fd = ifd, .target = &target };
                struct ask_request again;
                enum unlock_outcome o;
                char volume[VOLUME_NAME_MAX];
                /* Read while the asker runs: its end alone does not say
                 * whether it opened the volume or gave up (volume.h). */
                bool known_volume = volume_of_asker(target.pid, volume, sizeof volume) >= 0;

                what = target.id[0] ? target.id : target.name;
                printf("%s\n  %s\n", what, target.message[0] ? target.message : "(no message)");
                if (tty) {
                        printf("Passphrase (not shown, Ctrl-C to give up): ");
                }
                fflush(stdout);
                r = passphrase_read(STDIN_FILENO, ifd, target_pending, &w, pass, sizeof pass, &len);
                if (tty && r != 0)
                        printf("\n");
                if (r == -ESTALE || (r == 0 && target_pending(&w) == 0)) {
                        sodium_memzero(pass, sizeof pass);
                        printf("The request for %s was answered elsewhere (at the machine's console) before yours: "
                               "nothing sent.\n", what);
                        log_notice("%s was answered elsewhere before %s gave a passphrase.", what, whom);
                        return EX_TEMPFAIL;
                }
                if (r == -EINTR)
                        return 130;
                if (r == -ENODATA) {
                        printf("No %spassphrase given.\n", refused_before ? "other " : "");
                        return refused_before ? EX_DATAERR : EX_NOINPUT;
                }
                if (r == -E2BIG) {
                        printf("That passphrase is longer than %d bytes: not sent.\n", UNLOCK_PASSPHRASE_MAX);
                        return EX_DATAERR;
                }
                if (r < 0) {
                        fprintf(stderr, "Cannot read the passphrase: %s\n", strerror(-r));
                        return EX_IOERR;
                }
                r = ask_reply(&target, pass, len);
                sodium_memzero(pass, sizeof pass);
                if (r == -ENOENT || r == -ECONNREFUSED) {
                        printf("The request for %s was answered elsewhere (at the machine's console) before yours: "
                               "nothing taken.\n", what);
                        log_notice("%s was answered elsewhere before %s gave a passphrase.", what, whom);
                        return EX_TEMPFAIL;
                }
                if (r < 0) {
                        fprintf(stderr, "Cannot send the passphrase to %s: %s\n", target.socket, strerror(-r));
                        return EX_OSERR;
                }
                printf("Sent; waiting for %s to take it...\n", what);
                fflush(stdout);
                o = wait_outcome(ifd, &target, &again);
                switch (o) {
                case UNLOCK_ACCEPTED:
                        if (known_volume && !volume_open(volume)) {
                                printf("Not unlocked: %s ended without opening %s (the last allowed try was wrong?). "
                                       "The boot waits for that disk; 'systemctl status systemd-cryptsetup@%s' "
                                       "tells more.\n", what, volume, volume);
                                record(false, &target, whom, "the asker gave up, the volume is not open");
                                return EX_DATAERR;
                        }
                        printf("Unlocked: %s took the passphrase. The boot goes on; the session ends when the "
                               "machine switches to its real root.\n", what);
                        record(true, &target, whom, NULL);
                        return EX_OK;
                case UNLOCK_REFUSED:
                        printf("Wrong passphrase: %s asks again.\n", what);
                        record(false, &target, whom, "asked again");
                        refused_before = true;
                        target = again;
                        break;
                case UNLOCK_WAITING:
                        if (passphrase_interrupted)
                                return 130;
                        printf("%s neither took the passphrase nor asked again within %u s.\n", what, arg_timeout);
                        return EX_TEMPFAIL;
                }
        }
}

static void help(void) {
        printf("Usage: kairos-unlock [OPTIONS] [ID]\n\n"
               "Gives the passphrase the machine asks for (an encrypted disk at boot) from here.\n\n"
               "  -l, --list           list what is asked for, and exit\n"
               "  -t, --timeout SEC    how long to wait for the asker to take an answer (300)\n"
               "      --directory DIR  the password agent directory (%s)\n"
               "  -h, --help           this help\n"
               "      --version        the version\n\n"
               "ID: the request's Id (cryptsetup:/dev/vda2) or file name (ask.XXXXXX);\n"
               "without it, the first request, then the next until none is left.\n"
               "The passphrase is read from the terminal, not shown, or a line at a time from\n"
               "standard input. Exit: 0 unlocked, 65 refused and no other passphrase, 66 none\n"
               "given, 69 nothing asked for, 75 answered elsewhere or no outcome (kairos-unlock(8)).\n",
               ASK_DEFAULT_DIR);
}

static int parse_argv(int argc, char **argv) {
        enum { ARG_DIRECTORY = 0x100, ARG_VERSION };
        static const struct option options[] = {
                { "list", no_argument, NULL, 'l' },
                { "timeout", required_argument, NULL, 't' },
                { "directory", required_argument, NULL, ARG_DIRECTORY },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        char *end;
        unsigned long v;
        int c;

        while ((c = getopt_long(argc, argv, "lt:h", options, NULL)) >= 0)
                switch (c) {
                case 'l': arg_list = true; break;
                case 't':
                        errno = 0;
                        v = strtoul(optarg, &end, 10);
                        if (errno || *end || end == optarg || v == 0 || v > 86400) {
                                fprintf(stderr, "--timeout needs seconds (1-86400): %s\n", optarg);
                                return -EINVAL;
                        }
                        arg_timeout = (unsigned) v;
                        break;
                case ARG_DIRECTORY: arg_dir = optarg; break;
                case 'h': help(); return 0;
                case ARG_VERSION: printf("kairos-unlock %s\n", PACKAGE_VERSION); return 0;
                default: return -EINVAL;
                }
        if (optind + 1 < argc) {
                fprintf(stderr, "At most one request ID.\n");
                return -EINVAL;
        }
        if (optind < argc)
                arg_id = argv[optind];
        return 1;
}

int main(int argc, char **argv) {
        struct ask_request list[ASK_DIR_MAX];
        char done[ASK_DIR_MAX][ASK_ID_MAX];
        size_t n_done = 0;
        char whom[256];
        int ifd, r, n;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EX_USAGE : EX_OK;
        if (sodium_init() < 0)
                return EX_SOFTWARE;
        if (arg_list)
                return list_requests();

        /* The journal keeps who unlocked; the user reads this terminal. */
        log_force_journal(true);
        passphrase_catch_signals();
        who(whom, sizeof whom);
        /* Watched before the first scan, so no change is missed between. */
        ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (ifd < 0 || inotify_add_watch(ifd, arg_dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                                              IN_CREATE) < 0) {
                if (errno != ENOENT) {
                        fprintf(stderr, "Cannot watch %s: %m\n", arg_dir);
                        return EX_OSERR;
                }
                /* no directory: nothing was ever asked for */
        }
        for (;;) {
                const struct ask_request *next = NULL;

                n = ask_dir_scan(arg_dir, list, ELEMENTSOF(list));
                if (n < 0) {
                        fprintf(stderr, "Cannot read %s: %s\n", arg_dir, strerror(-n));
                        return EX_OSERR;
                }
                for (int i = 0; i < n && !next; i++) {
                        bool seen = false;
                        for (size_t j = 0; j < n_done; j++)
                                seen = seen || !strcmp(done[j], list[i].id);
                        if (matches(&list[i]) && !seen)
                                next = &list[i];
                }
                if (!next) {
                        if (n_done > 0)
                                return EX_OK;
                        printf("No passphrase is being asked for%s%s%s.\n", arg_id ? " (" : "", arg_id ?: "",
                               arg_id ? ")" : "");
                        return EX_UNAVAILABLE;
                }
                r = unlock_one(ifd, *next, whom);
                if (r != EX_OK)
                        return r;
                if (n_done < ASK_DIR_MAX && next->id[0])
                        snprintf(done[n_done++], ASK_ID_MAX, "%s", next->id);
                else
                        return EX_OK; /* without an Id we cannot tell it from a new one */
        }
}
