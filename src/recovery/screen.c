/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"
#include "log.h"
#include "manager.h"
#include "plymouth.h"
#include "qr.h"
#include "relay-waiters.h"
#include "screen.h"
#include "sessions.h"
#include "state.h"

static void fill_info(struct manager *m, struct display_info *i) {
        struct session_info si;
        size_t n = 0;

        display_info_clear(i);
        display_info_set_token(i, &m->token);
        snprintf(i->token, sizeof i->token, "%s", m->token_text);
        snprintf(i->password, sizeof i->password, "%s", m->password);
        snprintf(i->hostname, sizeof i->hostname, "%s", m->hostname);
        snprintf(i->fingerprint, sizeof i->fingerprint, "%s", m->fingerprint);
        /* Set by kairos-recovery.service, whose target starts the shell. */
        snprintf(i->local_shell, sizeof i->local_shell, "%s", getenv("KAIROS_LOCAL_SHELL") ?: "");
        i->n_sessions = m->sessions ? sessions_authenticated(m->sessions) : 0;
        for (size_t k = 0; m->sessions && sessions_get(m->sessions, k, &si); k++)
                if (si.state == SESSION_AUTHENTICATED && n < DISPLAY_SESSIONS_MAX)
                        snprintf(i->sessions[n++], DISPLAY_FROM_MAX, "%s", si.peer);
        if (!m->waiters)
                snprintf(i->relay, sizeof i->relay, "no relay configured");
        else {
                unsigned up = 0;
                for (size_t k = 0; k < relay_waiters_count(m->waiters); k++)
                        up += relay_waiters_waiting(m->waiters, k) > 0;
                snprintf(i->relay, sizeof i->relay, "%u of %zu relay%s connected", up, relay_waiters_count(m->waiters),
                         relay_waiters_count(m->waiters) == 1 ? "" : "s");
        }
}

static void write_png(struct manager *m) {
        struct qr_code *q = NULL;
        uint8_t *png = NULL;
        size_t len = 0;
        int r;

        r = qr_encode(m->token_text, &q);
        if (r >= 0)
                r = qr_png(q, QR_PNG_SCALE, QR_PNG_QUIET_ZONE, &png, &len);
        /* The code is a root credential for this boot: 0600 like the token. */
        if (r >= 0)
                r = state_write_file(m->dir, "qr.png", png, len, 0600);
        if (r < 0)
                log_warning_errno(r, "Cannot write %s/qr.png: %m (the consoles still show the code)", m->dir);
        free(png);
        qr_free(q);
}

static void show(struct manager *m) {
        struct display_info i;

        if (!m->display)
                return;
        fill_info(m, &i);
        (void) display_update(m->display, &i);
        display_info_clear(&i);
}

static void plymouth_done(struct plymouth *p, int result, void *userdata) {
        if (result < 0 && result != -ENOENT && result != -EHOSTDOWN)
                log_debug_errno(result, "plymouth did not take the message: %m");
}

static void start_plymouth(struct manager *m) {
        m->plymouth = plymouth_free(m->plymouth);
        if (m->config.plymouth == CONF_PLYMOUTH_NO)
                return;
        if (plymouth_new(m->event, plymouth_done, m, &m->plymouth) >= 0)
                (void) plymouth_show(m->plymouth, m->password);
}

static int start_display(struct manager *m) {
        const char *consoles[CONF_MAX_CONSOLES + 1] = {};
        int r;

        m->display = display_free(m->display);
        for (size_t k = 0; k < m->config.n_consoles; k++)
                consoles[k] = m->config.consoles[k];
        r = display_new(m->event, m->config.n_consoles > 0 ? consoles : NULL, &m->display);
        if (r < 0)
                return r;
        show(m);
        return 0;
}

int screen_start(struct manager *m) {
        int r;

        write_png(m);
        r = start_display(m);
        start_plymouth(m);
        return r;
}

void screen_update(struct manager *m) {
        show(m);
}

void screen_token_changed(struct manager *m) {
        if (!m->ready)
                return; /* screen_start() draws the first one */
        write_png(m);
        show(m);
        start_plymouth(m); /* the password may be new */
}

void screen_config_changed(struct manager *m) {
        start_display(m);
        start_plymouth(m);
}

void screen_stop(struct manager *m) {
        m->display = display_free(m->display);
        m->plymouth = plymouth_free(m->plymouth);
}
