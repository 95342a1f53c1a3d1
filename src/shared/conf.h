/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The configuration of kairos-recovery, the daemon on a broken machine.
 *
 * Sources, each overriding the one before:
 *   1. built-in defaults (conf_init_defaults()),
 *   2. /etc/kairos/recovery.conf (conf_parse_file()),
 *   3. the kernel command line, kairos.recovery.* (conf_parse_cmdline()),
 * then conf_verify() for what only the whole can tell. conf_load() does all
 * of it. man/kairos-recovery.conf.5 is the user's side of this file.
 *
 * The daemon must start whatever these sources hold: no function here fails
 * because of what it reads. Every problem (unknown key, bad value, unreadable
 * file, garbage) is reported with its source and line through a diagnostic
 * callback, and the value it would have changed stays as it was. The parse
 * functions return the number of problems reported, never a negative error.
 *
 * The struct holds only values (fixed arrays, no pointers): a reload parses
 * into a fresh one and assigns it, and no error path has anything to free. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "token.h"

#define CONF_DEFAULT_PATH "/etc/kairos/recovery.conf"
#define CONF_DEFAULT_HOST_KEY "/etc/kairos/recovery_host_ed25519_key"
#define CONF_DEFAULT_AUTHORIZED_KEYS "/etc/kairos/authorized_keys"
#define CONF_DEFAULT_PLAIN_SSH_PORT 2222
#define CONF_DEFAULT_MAX_STARTUPS 10
#define CONF_DEFAULT_MAX_AUTH_TRIES 3
#define CONF_DEFAULT_AUTH_TIMEOUT_SEC 30
#define CONF_DEFAULT_HANDSHAKE_TIMEOUT_SEC 5
#define CONF_DEFAULT_WAITER_REPLACE_SEC 240
#define CONF_DEFAULT_MACHINE_KEY "/etc/kairos/machine_signing_key"

/* Operators a machine seals its code to (NotifyKey=), and the longest
 * NotifyURL=. */
#define CONF_MAX_NOTIFY_KEYS 8
#define CONF_URL_MAX 1024
#define CONF_UNITS_MAX 1024

/* The daemon waits on up to this many relays; a token lists at most
 * KAIROS_TOKEN_MAX_RELAYS of them (the first ones). */
#define CONF_MAX_RELAYS 8
#define CONF_MAX_CONSOLES 16
/* "ttyS0", "ttyUSB12", "hvc0": a name under /dev, and a NUL. */
#define CONF_CONSOLE_NAME_MAX 32
#define CONF_PATH_MAX 4096

/* What a file may hold: longer lines and larger files are reported and
 * ignored (a config never needs them; /dev/zero or a log file might). */
#define CONF_LINE_MAX 8192
#define CONF_FILE_MAX (1024 * 1024)
#define CONF_CMDLINE_MAX (64 * 1024)
/* Problems reported one by one per source; beyond, only a count. */
#define CONF_REPORT_MAX 50

/* How a source is named in diagnostics when it has no lines. */
#define CONF_CMDLINE_SOURCE "kernel command line"
#define CONF_CMDLINE_PREFIX "kairos.recovery."

enum conf_plymouth {
        CONF_PLYMOUTH_AUTO, /* use plymouth when it runs */
        CONF_PLYMOUTH_YES,
        CONF_PLYMOUTH_NO,
};

/* The body a sealed code is POSTed in (kairos-recovery.conf(5)). */
enum conf_notify_format {
        CONF_NOTIFY_PLAIN, /* text/plain: one sealed code a line */
        CONF_NOTIFY_NTFY,  /* ntfy-style push: a message, Title/Tags/Priority headers */
};

enum conf_key {
        CONF_KEY_RELAY,
        CONF_KEY_TUNNEL_PORT,
        CONF_KEY_PLAIN_SSH,
        CONF_KEY_PLAIN_SSH_PORT,
        CONF_KEY_CONSOLE,
        CONF_KEY_PLYMOUTH,
        CONF_KEY_HOST_KEY,
        CONF_KEY_AUTHORIZED_KEYS,
        CONF_KEY_MAX_STARTUPS,
        CONF_KEY_MAX_AUTH_TRIES,
        CONF_KEY_AUTH_TIMEOUT,
        CONF_KEY_HANDSHAKE_TIMEOUT,
        CONF_KEY_WAITER_REPLACE,
        CONF_KEY_LOG_LEVEL,
        CONF_KEY_NOTIFY_KEY,
        CONF_KEY_NOTIFY_URL,
        CONF_KEY_NOTIFY_CA,
        CONF_KEY_NOTIFY_FORMAT,
        CONF_KEY_MACHINE_KEY,
        CONF_KEY_AUTO_RECOVERY,
        CONF_KEY_AUTO_RECOVERY_UNITS,
        CONF_KEY_UNLOCK,
        _CONF_KEY_MAX,
};

enum conf_source {
        CONF_SOURCE_DEFAULT,
        CONF_SOURCE_FILE,
        CONF_SOURCE_CMDLINE,
};

struct conf_origin {
        enum conf_source source;
        unsigned line; /* in the file; 0 otherwise */
};

struct recovery_config {
        /* "tcp:HOST:PORT", checked with relay_parse() and written in its
         * shortest form. None: no relay, the direct path only. */
        size_t n_relays;
        char relays[CONF_MAX_RELAYS][KAIROS_RELAY_TEXT_MAX];
        /* Ports to listen on when not given sockets by systemd (run by hand). */
        uint16_t tunnel_port;
        bool plain_ssh; /* the opt-in plain SSH port, when run by hand */
        uint16_t plain_ssh_port;
        /* Device names under /dev ("tty1", "ttyS0"). None: the active
         * consoles of /sys/class/tty/console/active. */
        size_t n_consoles;
        char consoles[CONF_MAX_CONSOLES][CONF_CONSOLE_NAME_MAX];
        enum conf_plymouth plymouth;
        /* Absolute paths. "" for host_key: a new key every boot; for
         * authorized_keys: no public key logins. A host key file that does
         * not exist also gets a key for this boot. */
        char host_key[CONF_PATH_MAX];
        char authorized_keys[CONF_PATH_MAX];
        unsigned max_startups;   /* waiting connections (admission.h), per path */
        unsigned max_auth_tries; /* per connection */
        unsigned auth_timeout_sec;
        unsigned handshake_timeout_sec; /* connect to key confirmation, tunnel only */
        unsigned waiter_replace_sec;
        int log_level; /* LOG_ERR ... LOG_DEBUG, as log_set_max_level() takes */

        /* Sending the code out of band: operator public keys (text form,
         * keys.h) to seal it to, where to POST it ("https://..." or
         * "http://..."; "" sends nothing), a CA file to trust for that
         * server besides the system's ("" none), the body's form, and the
         * machine's signing key (a path). */
        size_t n_notify_keys;
        char notify_keys[CONF_MAX_NOTIFY_KEYS][KEYS_TEXT_MAX];
        char notify_url[CONF_URL_MAX];
        char notify_ca[CONF_PATH_MAX];
        enum conf_notify_format notify_format;
        char machine_key[CONF_PATH_MAX];

        /* Falling into recovery by itself (read by the generators through
         * show-config): when the boot fails in the initramfs or ends in
         * emergency.target or rescue.target; and when one of these units
         * fails (unit names separated by spaces, "" none). */
        bool auto_recovery;
        char auto_recovery_units[CONF_UNITS_MAX];

        /* Unlocking an encrypted root from afar (read by the initramfs
         * generator through show-config): kairos-recovery starts in the
         * initramfs when a passphrase is asked for, beside the console. */
        bool unlock;

        /* Where each value came from, for show-config. */
        struct conf_origin origin[_CONF_KEY_MAX];
        char file[CONF_PATH_MAX]; /* the file parsed last, if any */
};

/* A problem found in source (a file name or CONF_CMDLINE_SOURCE) at line
 * (0: none). level is a syslog level; message is one clean line of valid
 * UTF-8 without control characters, saying what was ignored or kept. */
typedef void (*conf_diag_t)(int level, const char *source, unsigned line, const char *message, void *userdata);

/* Fills c with the built-in defaults. */
void conf_init_defaults(struct recovery_config *c);

/* Applies a file's text (size bytes, any content) on top of c. filename
 * names it in diagnostics. diag NULL: log_warning() with CONFIG_FILE= and
 * CONFIG_LINE= fields, as systemd does. Returns the number of problems. */
int conf_parse_text(struct recovery_config *c, const char *text, size_t size, const char *filename,
                    conf_diag_t diag, void *userdata);

/* Applies a file. A file that does not exist is no problem (0); one that
 * cannot be read, is not a regular file or is larger than CONF_FILE_MAX is
 * reported and leaves c as it was. */
int conf_parse_file(struct recovery_config *c, const char *path, conf_diag_t diag, void *userdata);

/* Applies the kairos.recovery.* parameters of a kernel command line, split
 * and unquoted as the kernel does. Other parameters are not looked at. */
int conf_parse_cmdline(struct recovery_config *c, const char *cmdline, conf_diag_t diag, void *userdata);

/* Reads path (normally /proc/cmdline) and applies it. Missing: no problem. */
int conf_parse_cmdline_file(struct recovery_config *c, const char *path, conf_diag_t diag, void *userdata);

/* Checks what no single line can: the plain SSH port must differ from the
 * tunnel port. Returns the number of problems (and repairs them). */
int conf_verify(struct recovery_config *c, conf_diag_t diag, void *userdata);

/* Defaults, then the file (NULL: CONF_DEFAULT_PATH, which need not exist;
 * a path given that does not exist is reported as a problem), then the
 * command line (NULL: read /proc/cmdline), then conf_verify(). Returns the
 * problems. */
int conf_load(struct recovery_config *c, const char *path, const char *cmdline, conf_diag_t diag,
              void *userdata);

/* The effective configuration as recovery.conf text, with comments saying
 * where each value that is not the default came from. Parsing it onto the
 * defaults gives c again, with no problem. 0, or -ENOMEM. */
int conf_render(const struct recovery_config *c, char **ret);

/* The name of a key in the file ("TunnelPort") and on the kernel command
 * line, after CONF_CMDLINE_PREFIX ("tunnel_port"). */
const char *conf_key_name(enum conf_key k);
const char *conf_key_cmdline_name(enum conf_key k);

const char *conf_plymouth_to_string(enum conf_plymouth p);
const char *conf_notify_format_to_string(enum conf_notify_format f);
/* "err", "info"...; NULL if level is not one of 0-7. */
const char *conf_log_level_to_string(int level);

/* Whether two configurations hold the same values (origins aside). */
bool conf_equal(const struct recovery_config *a, const struct recovery_config *b);
