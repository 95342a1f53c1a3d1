/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* kairos-recovery's main process: one sd-event loop that owns the token,
 * the screen, the relay waiters, the listening sockets, the session table
 * and what systemd and the journal are told. It never reads attacker bytes:
 * every connection goes to a session helper. */

#include <limits.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "hello.h"
#include "kdf.h"
#include "listeners.h"
#include "token.h"

struct display;
struct plymouth;
struct netwatch;
struct notify;
struct relay_waiters;
struct sessions;

struct manager {
        sd_event *event;
        const char *config_path;
        struct recovery_config config;
        char dir[PATH_MAX];
        char helper[PATH_MAX];

        struct kairos_token token;
        char token_text[KAIROS_TOKEN_TEXT_MAX];
        char password[KAIROS_PASSWORD_SIZE];
        char service_id[KAIROS_SERVICE_ID_HEX + 1];
        char hostname[HELLO_HOSTNAME_MAX]; /* as the hello carries it (hello_hostname_safe) */
        char host_key[PATH_MAX];
        char host_public_key[2048];
        char fingerprint[128];
        int host_key_fd; /* the host key in memory, when the runtime directory cannot hold it */

        struct listeners listeners;
        sd_event_source *tunnel_src, *ssh_src, *watchdog_src;
        struct relay_waiters *waiters;
        /* For ROTATE_GRACE after a rotate: the secret before it, and one
         * waiter on each of its relay channels, so that a bridge still
         * holding the old code is told "rotated" (tunnel.h) in seconds
         * instead of waiting at the relay for its timeout. Then wiped. */
        uint8_t retired_secret[KAIROS_SECRET_SIZE];
        bool have_retired;
        struct relay_waiters *retired_waiters;
        sd_event_source *retired_timer;
        struct sessions *sessions;
        struct netwatch *netwatch;
        struct display *display;
        struct plymouth *plymouth;
        struct notify *notify;
        char last_status[512];
        bool ready;
        /* When manager_start() fails: the sysexits code for the cause
         * (kairos-recovery(8) lists them), 0 for any other failure. */
        int exit_status;
};

int manager_start(struct manager *m, const char *config_path);
int manager_run(struct manager *m);
void manager_done(struct manager *m);
