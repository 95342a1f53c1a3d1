/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One request of systemd's password agent protocol: an ask.* file under
 * /run/systemd/ask-password, written by systemd-ask-password (for example
 * systemd-cryptsetup, asking for a LUKS passphrase), in the form
 *
 *   [Ask]
 *   PID=412
 *   Socket=/run/systemd/ask-password/sck.1b7e...
 *   AcceptCached=1
 *   Echo=0
 *   NotAfter=0
 *   Message=Please enter passphrase for disk root (luks-...):
 *   Id=cryptsetup:/dev/vda2
 *
 * (systemd's doc/PASSWORD_AGENTS.md). The file is outside data to us: it is
 * only parsed here, never trusted to be well formed, and what we print of
 * it (Message=, Id=) is cleaned of control characters first, so that a file
 * cannot send escape sequences to the helper's terminal. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ASK_DEFAULT_DIR "/run/systemd/ask-password"
/* Larger files are not requests (systemd writes a few hundred bytes). */
#define ASK_FILE_MAX (16 * 1024)
#define ASK_NAME_MAX 256
#define ASK_ID_MAX 256
#define ASK_MESSAGE_MAX 512
/* sizeof(struct sockaddr_un.sun_path) */
#define ASK_SOCKET_MAX 108

struct ask_request {
        char name[ASK_NAME_MAX];       /* the file's name ("ask.Xb2f1c"), set by the directory scan */
        char id[ASK_ID_MAX];           /* Id=, cleaned; "" when absent */
        char message[ASK_MESSAGE_MAX]; /* Message=, cleaned; "" when absent */
        char socket[ASK_SOCKET_MAX];   /* Socket=: an absolute path, where the answer goes */
        uint64_t not_after;            /* NotAfter=, CLOCK_MONOTONIC µs; 0: no deadline */
        pid_t pid;                     /* PID= of the asker; 0: not given */
        bool echo;                     /* Echo=: the answer may be shown while typed */
        bool accept_cached;
};

/* Parses the text of an ask file (size bytes, anything). 0 and *ret filled
 * (name left empty), or -EINVAL when it is not a request: no [Ask] section,
 * no usable Socket=, NUL bytes or a file larger than ASK_FILE_MAX. Unknown
 * keys and sections are skipped; a key given twice counts the last time, as
 * systemd's parser has it; a malformed PID=, NotAfter= or boolean makes the
 * whole file no request (systemd's agent skips such files too). */
int ask_parse(const char *text, size_t size, struct ask_request *ret);

/* Whether a request still waits for an answer at monotonic time now_usec:
 * not past NotAfter=, and its asker (PID=) still running, which pid_alive
 * tells (NULL: kill(pid, 0)). systemd-tty-ask-password-agent skips the
 * others the same way. */
bool ask_is_live(const struct ask_request *r, uint64_t now_usec, bool (*pid_alive)(pid_t pid));

/* Text from an ask file made safe to print: C escapes (\\, \n, \t, \xNN...,
 * as systemd writes Message=) undone, then every control character and
 * every byte of invalid UTF-8 replaced by '?'; always terminated, at most
 * size - 1 bytes, cut at a character boundary. */
void ask_clean_text(const char *in, size_t len, char *out, size_t size);
