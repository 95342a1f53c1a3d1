/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The SSH server of one connection: libssh in non-blocking mode driven by
 * our own poll loop, so that every local fd (a child's pipes, a pty, a
 * forwarded socket) is read only when the client's window has room and
 * written only when it can take more: memory stays bounded and a slow side
 * never stalls the others.
 *
 * Reentrancy: libssh runs our channel callbacks from inside any call that
 * may read packets (ssh_channel_write() flushes, and a flush reads), so the
 * callbacks only move bytes and set flags; channels are freed only from
 * the loop itself (channels_collect()). */

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "authorized-keys.h"
#include "control.h"
#include "io.h"
#include "kdf.h"

#define CHANNELS_MAX 64
#define CHANNEL_ENV_MAX 32
/* Client data taken from libssh for a local reader that is not keeping up.
 * Beyond it, libssh keeps the data and stops opening the client's window. */
#define CHANNEL_PENDING_SIZE (256 * 1024)
/* The window a channel keeps open for the client (see channel.c). */
#define CHANNEL_WINDOW (4 * 1024 * 1024)
/* One read from a local fd for the client (bounded by the client's window). */
#define CHANNEL_READ_SIZE (128 * 1024)

struct byte_buffer {
        uint8_t *data;
        size_t size, start, end;
};

/* Bytes for the client from one local fd. */
struct stream_out {
        int fd;
        bool is_stderr;
        bool eof;                  /* the fd is done */
        struct byte_buffer held;   /* read, not yet taken by libssh */
        int poll_index;
};

enum channel_type {
        CHANNEL_SESSION,
        CHANNEL_FORWARD,
};

struct channel {
        struct server *server;
        struct channel *next;
        ssh_channel ssh;
        struct ssh_channel_callbacks_struct callbacks;
        enum channel_type type;
        char name[96];             /* for log lines */

        /* client -> local */
        int in_fd;
        bool in_is_socket;
        struct byte_buffer pending;
        bool backlog;              /* libssh holds client data we had no room for */
        bool refilling;            /* inside pending_refill(): on_data leaves data to libssh */
        bool in_done;              /* in_fd closed or shut down; client data is dropped */
        size_t taken;              /* client bytes taken from libssh since the window was last opened */
        int in_poll_index;
        /* local -> client */
        struct stream_out out, err;

        bool remote_eof, remote_closed;
        bool eof_sent, close_sent;

        /* session channels */
        bool started;
        int pty_master, pty_slave;
        char tty_name[64];
        struct winsize winsize;
        char term[64];
        char *env[CHANNEL_ENV_MAX];
        size_t n_env;
        pid_t pid;
        bool exited;
        int status;
        size_t drain_budget;       /* pty bytes still passed on after the shell exited */
};

struct forward_request;

struct server {
        struct session_config *config;
        ssh_session ssh;
        int fd;
        bool fd_owned;             /* until libssh has it */

        char password[KAIROS_PASSWORD_SIZE];
        ssh_key *authorized;
        size_t n_authorized;
        bool authenticated;
        unsigned auth_failures;
        usec_t deadline;           /* for key exchange and authentication */

        /* root's account, looked up once */
        char *shell, *home;

        struct channel *channels;
        unsigned n_channels, n_opened;
        struct forward_request *forwards;
        int forward_notify[2];
        int signal_fd;
        /* Counts channel callbacks: one that ran after its channel was
         * served in this round means another round before sleeping. */
        uint64_t wakeups;
        /* libssh counts the packets it sends here: whether a reply went
         * out tells if a request wanted one (see shell.c). */
        struct ssh_counter_struct packets;
        /* ... and the bytes it reads from the socket (see pump_session()). */
        struct ssh_counter_struct socket_bytes;

        bool done;
        char reason[160];
};

/* ssh-server.c */
int server_run(struct session_config *c, int fd, usec_t deadline, char *reason, size_t reason_size);
void server_end(struct server *s, const char *reason);

/* auth.c */
void auth_handle(struct server *s, ssh_message msg);

/* channel.c */
struct channel *chan_new(struct server *s, ssh_channel ssh, enum channel_type type, const char *name);
void chan_attach(struct channel *ch, int in_fd, bool in_is_socket, int out_fd, int err_fd);
int channels_poll_fill(struct server *s, struct pollfd *pf, size_t n, size_t max, bool *retry_soon);
void channels_dispatch(struct server *s, const struct pollfd *pf);
void channels_collect(struct server *s);
void channels_child_exited(struct server *s, pid_t pid, int status);
void channels_hangup(struct server *s);
/* The client reads no more of the channel's output: close the local ends,
 * so that the writer gets EPIPE, as with sshd. */
void channel_stop_output(struct channel *ch);
/* SIGUSR1: the state of every channel in the log, for debugging a stall. */
void channels_dump(struct server *s);

/* shell.c: session channels (pty, shell, exec, env, subsystem) */
int session_channel_open(struct server *s, ssh_message msg);
/* Handles and answers a channel request. */
void session_channel_request(struct server *s, ssh_message msg);
void session_channel_hangup(struct channel *ch);
void session_channel_free(struct channel *ch);

/* forward.c: direct-tcpip */
int forward_open(struct server *s, ssh_message msg);
void forward_complete(struct server *s);
void forwards_abandon(struct server *s);
