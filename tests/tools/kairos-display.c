/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recovery screen for tests, from a token file:
 *
 *   kairos-display render [--form vt|serial] [--columns N] [--rows N] [--longest] TOKEN-FILE
 *       the frame display_render() makes, on stdout;
 *   kairos-display png TOKEN-FILE OUT
 *       qr.png as the daemon writes it;
 *   kairos-display console [--form vt|serial|auto] [--longest] DEVICE TOKEN-FILE
 *       the frame through the console writer (display_new()) onto DEVICE,
 *       until it is written (at most 10 s);
 *   kairos-display password TOKEN-FILE
 *       the SSH password the screen shows, for the tests to look for.
 *
 * Besides the token, the screen shows sample values: a host name, a host
 * key fingerprint, the relay and two sessions; --longest makes every one of
 * them as long as it can be. */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"
#include "log.h"

static int read_token(const char *file, struct kairos_token *t) {
        char text[KAIROS_TOKEN_TEXT_MAX + 64] = "";
        struct token_error err;
        FILE *f = fopen(file, "re");

        if (!f || !fgets(text, sizeof text, f)) {
                fprintf(stderr, "kairos-display: cannot read %s: %m\n", file);
                if (f)
                        fclose(f);
                return -EIO;
        }
        fclose(f);
        if (token_decode(text, t, &err) < 0) {
                fprintf(stderr, "kairos-display: %s: %s\n", file, err.message);
                return -EINVAL;
        }
        return 0;
}

static int sample_info(const char *file, bool longest, struct display_info *i) {
        struct kairos_token t;
        int r;

        *i = (struct display_info) {};
        r = read_token(file, &t);
        if (r < 0)
                return r;
        r = display_info_set_token(i, &t);
        token_clear(&t);
        if (r < 0)
                return r;
        strcpy(i->fingerprint, "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s");
        if (!longest) {
                strcpy(i->hostname, "recovery-test");
                strcpy(i->relay, "waiting on transit.magic-wormhole.io:4001");
                i->n_sessions = 2;
                strcpy(i->sessions[0], "192.0.2.50 (direct)");
                strcpy(i->sessions[1], "198.51.100.7 (relay)");
                return 0;
        }
        memset(i->hostname, 'h', 253);
        memset(i->relay, 'r', sizeof i->relay - 1);
        i->n_sessions = 40;
        for (unsigned k = 0; k < DISPLAY_SESSIONS_MAX; k++)
                snprintf(i->sessions[k], sizeof i->sessions[k], "[2001:db8:1234:5678:9abc:def0:1234:%04x]:65535 (relay)", k);
        return 0;
}

static enum display_form parse_form(const char *s) {
        return !strcmp(s, "vt") ? DISPLAY_FORM_VT : !strcmp(s, "serial") ? DISPLAY_FORM_SERIAL : DISPLAY_FORM_AUTO;
}

static int on_check(sd_event_source *s, uint64_t usec, void *userdata) {
        struct display *d = userdata;
        size_t pending = 0;

        for (size_t k = 0; k < display_consoles(d); k++)
                pending += display_pending(d, k);
        if (pending == 0)
                return sd_event_exit(sd_event_source_get_event(s), 0);
        return sd_event_source_set_time_relative(s, 10 * USEC_PER_MSEC) < 0 ? -EIO :
               sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        fprintf(stderr, "kairos-display: the console did not take the frame within 10 s\n");
        return sd_event_exit(sd_event_source_get_event(s), 1);
}

static int console(const char *device, enum display_form form, const struct display_info *i) {
        _cleanup_(sd_event_source_disable_unrefp) sd_event_source *check = NULL, *deadline = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_display_ struct display *d = NULL;
        const char *none[] = { NULL };
        int r;

        if (sd_event_new(&e) < 0 || display_new(e, none, &d) < 0)
                return 70;
        r = display_add_console(d, device, form);
        if (r < 0)
                return 1;
        if (display_update(d, i) < 0)
                return 1;
        if (sd_event_add_time_relative(e, &check, CLOCK_MONOTONIC, 0, 0, on_check, d) < 0 ||
            sd_event_add_time_relative(e, &deadline, CLOCK_MONOTONIC, 10 * USEC_PER_SEC, 0, on_deadline, NULL) < 0)
                return 70;
        r = sd_event_loop(e);
        return r < 0 ? 70 : r;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "form", required_argument, NULL, 'f' },
                { "columns", required_argument, NULL, 'c' },
                { "rows", required_argument, NULL, 'r' },
                { "longest", no_argument, NULL, 'l' },
                {}
        };
        enum display_form form = DISPLAY_FORM_VT;
        unsigned columns = 0, rows = 0;
        bool longest = false, any_form = false;
        struct display_info info;
        const char *cmd;
        char *frame;
        int c, r;

        if (argc < 2) {
                fprintf(stderr, "usage: kairos-display render|png|console|password [OPTIONS] ...\n");
                return 64;
        }
        cmd = argv[1];
        optind = 2;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'f': form = parse_form(optarg); any_form = true; break;
                case 'c': columns = (unsigned) atoi(optarg); break;
                case 'r': rows = (unsigned) atoi(optarg); break;
                case 'l': longest = true; break;
                default: return 64;
                }
        if (sodium_init() < 0)
                return 70;

        if (!strcmp(cmd, "console")) {
                if (optind + 2 != argc)
                        return 64;
                if (sample_info(argv[optind + 1], longest, &info) < 0)
                        return 1;
                return console(argv[optind], any_form ? form : DISPLAY_FORM_AUTO, &info);
        }
        if (optind + 1 > argc || sample_info(argv[optind], longest, &info) < 0)
                return optind + 1 > argc ? 64 : 1;

        if (!strcmp(cmd, "password")) {
                printf("%s\n", info.password);
                return 0;
        }
        if (!strcmp(cmd, "png")) {
                _cleanup_qr_ struct qr_code *q = NULL;

                if (optind + 2 != argc)
                        return 64;
                r = qr_encode(info.token, &q);
                if (r >= 0)
                        r = qr_write_png(q, QR_PNG_SCALE, QR_PNG_QUIET_ZONE, argv[optind + 1]);
                if (r < 0) {
                        fprintf(stderr, "kairos-display: %s: %s\n", argv[optind + 1], strerror(-r));
                        return 1;
                }
                return 0;
        }
        if (!strcmp(cmd, "render")) {
                if (form == DISPLAY_FORM_AUTO)
                        return 64;
                r = display_render(&info, NULL, form, columns, rows, &frame);
                if (r < 0) {
                        fprintf(stderr, "kairos-display: %s\n", strerror(-r));
                        return 1;
                }
                fputs(frame, stdout);
                free(frame);
                return fflush(stdout) == 0 ? 0 : 1;
        }
        return 64;
}
