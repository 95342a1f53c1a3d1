/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What kairos-bridge tells the user once the machine is reachable: the
 * password and the ssh command (as log lines, and as --json events). */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "events.h"
#include "known-hosts.h"
#include "log.h"
#include "serve.h"
#include "tell.h"

/* The password file written under systemd: removed when the bridge ends. */
static char password_path[PATH_MAX];

/* On a terminal the password is printed; under systemd it goes to a file
 * of the user's own (removed when the bridge ends), and the journal only
 * says where. */
void tell_password(const char *password, const char *id) {
        char dir[PATH_MAX - 64];
        FILE *f;

        if (!log_is_journal()) {
                log_info("SSH access password is %s", password);
                events_emit("password", "password", password, NULL);
                return;
        }
        if (known_hosts_dir(dir, sizeof dir) < 0) {
                log_warning("No private directory for the password file; it is shown on the recovery machine's screen.");
                return;
        }
        snprintf(password_path, sizeof password_path, "%s/%s.password", dir, id);
        umask(077);
        f = fopen(password_path, "we");
        if (!f) {
                log_warning("Cannot write %s; the password is shown on the recovery machine's screen.", password_path);
                password_path[0] = '\0';
                return;
        }
        fprintf(f, "%s\n", password);
        fclose(f);
        log_info("SSH access password is in %s", password_path);
        events_emit("password", "file", password_path, NULL);
}

void forget_password_file(void) {
        if (password_path[0])
                (void) unlink(password_path);
        password_path[0] = '\0';
}

/* The command to print: always with the bridge's own known_hosts and the
 * machine's alias, so that no per-boot key lands in ~/.ssh/known_hosts. */
void tell_ssh_command(const char *listen, const char *alias, const char *kh) {
        char port[8], hostpart[320], proxy[4200], aliasopt[320], khopt[4300];
        const char *argv[16];
        size_t n = 0;

        snprintf(aliasopt, sizeof aliasopt, "HostKeyAlias=%s", alias);
        snprintf(khopt, sizeof khopt, "UserKnownHostsFile=%s", kh[0] ? kh : "/dev/null");
        argv[n++] = "ssh";
        if (bridge_listen_is_unix(listen)) {
                snprintf(proxy, sizeof proxy, "ProxyCommand=nc -U %s", listen);
                argv[n++] = "-o";
                argv[n++] = proxy;
                snprintf(hostpart, sizeof hostpart, "root@%s", alias);
        } else {
                const char *colon = strrchr(listen, ':');
                snprintf(port, sizeof port, "%s", colon + 1);
                argv[n++] = "-p";
                argv[n++] = port;
                snprintf(hostpart, sizeof hostpart, "root@%.*s", (int) (colon - listen), listen);
        }
        argv[n++] = "-o";
        argv[n++] = aliasopt;
        argv[n++] = "-o";
        argv[n++] = khopt;
        argv[n++] = hostpart;
        argv[n] = NULL;
        events_ssh_command(argv);
}

