/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

/* After a pty's shell exited, what is still in the pty is passed on, but a
 * background job that keeps writing must not hold the channel open. */
#define PTY_DRAIN_MAX (4 * 1024 * 1024)

/* Bytes taken out of libssh for a refill, and client data that is dropped.
 * Only the loop's thread touches it. */
static uint8_t scratch[CHANNEL_PENDING_SIZE];

static size_t bb_len(const struct byte_buffer *b) {
        return b->end - b->start;
}

static int bb_alloc(struct byte_buffer *b, size_t size) {
        if (b->data)
                return 0;
        b->data = malloc(size);
        if (!b->data)
                return -ENOMEM;
        b->size = size;
        b->start = b->end = 0;
        return 0;
}

static size_t bb_room(const struct byte_buffer *b) {
        return b->data ? b->size - bb_len(b) : 0;
}

static size_t bb_append(struct byte_buffer *b, const void *p, size_t n) {
        if (b->end + n > b->size && b->start > 0) {
                memmove(b->data, b->data + b->start, bb_len(b));
                b->end -= b->start;
                b->start = 0;
        }
        n = MIN(n, b->size - b->end);
        memcpy(b->data + b->end, p, n);
        b->end += n;
        return n;
}

static void bb_consume(struct byte_buffer *b, size_t n) {
        b->start += n;
        if (b->start == b->end)
                b->start = b->end = 0;
}

static void bb_free(struct byte_buffer *b) {
        free(b->data);
        *b = (struct byte_buffer) {};
}

static bool can_send(struct channel *ch) {
        return !ch->eof_sent && !ch->close_sent && !ch->remote_closed && ssh_channel_window_size(ch->ssh) > 0;
}

/* Client data. Called by libssh with everything it holds for the channel,
 * oldest byte first; what we do not take stays with libssh, which then
 * stops opening the client's window: that is the flow control. */
static int on_data(ssh_session session, ssh_channel channel, void *data, uint32_t len, int is_stderr,
                   void *userdata) {
        struct channel *ch = userdata;
        size_t used = 0;

        ch->server->wakeups++;
        if (is_stderr || ch->in_done)
                return (int) len; /* nobody reads it: dropped, so the window keeps moving */
        if (ch->in_fd < 0 || ch->refilling) {
                ch->backlog = true;
                return 0;
        }
        if (bb_len(&ch->pending) == 0) {
                ssize_t k = write(ch->in_fd, data, len);

                if (k >= 0)
                        used = (size_t) k;
                else if (errno != EAGAIN && errno != EINTR) {
                        log_debug_errno(negative_errno(), "%s: local write failed: %m", ch->name);
                        ch->in_done = true;
                        return (int) len;
                }
        }
        if (used < len && bb_alloc(&ch->pending, CHANNEL_PENDING_SIZE) >= 0)
                used += bb_append(&ch->pending, (uint8_t *) data + used, len - used);
        ch->backlog = used < len;
        ch->taken += used;
        return (int) used;
}

static void on_eof(ssh_session session, ssh_channel channel, void *userdata) {
        struct channel *ch = userdata;

        ch->server->wakeups++;
        ch->remote_eof = true;
}

static void on_close(ssh_session session, ssh_channel channel, void *userdata) {
        struct channel *ch = userdata;

        ch->server->wakeups++;
        ch->remote_eof = ch->remote_closed = true;
}

/* The client opened its window: held bytes can go, fds can be read. */
static int on_window(ssh_session session, ssh_channel channel, uint32_t bytes, void *userdata) {
        struct channel *ch = userdata;

        ch->server->wakeups++;
        return 0;
}

struct channel *chan_new(struct server *s, ssh_channel ssh, enum channel_type type, const char *name) {
        struct channel *ch = calloc(1, sizeof *ch);

        if (!ch)
                return NULL;
        ch->server = s;
        ch->ssh = ssh;
        ch->type = type;
        snprintf(ch->name, sizeof ch->name, "channel %u (%s)", ++s->n_opened, name);
        ch->in_fd = ch->out.fd = ch->err.fd = ch->pty_master = ch->pty_slave = -EBADF;
        ch->in_poll_index = ch->out.poll_index = ch->err.poll_index = -1;
        ch->err.is_stderr = true;

        ssh_callbacks_init(&ch->callbacks);
        ch->callbacks.userdata = ch;
        ch->callbacks.channel_data_function = on_data;
        ch->callbacks.channel_eof_function = on_eof;
        ch->callbacks.channel_close_function = on_close;
        ch->callbacks.channel_write_wontblock_function = on_window;
        if (ssh_set_channel_callbacks(ssh, &ch->callbacks) != SSH_OK) {
                free(ch);
                return NULL;
        }
        ch->next = s->channels;
        s->channels = ch;
        s->n_channels++;
        log_debug("%s opened.", ch->name);
        return ch;
}

void chan_attach(struct channel *ch, int in_fd, bool in_is_socket, int out_fd, int err_fd) {
        ch->in_fd = in_fd;
        ch->in_is_socket = in_is_socket;
        ch->out.fd = out_fd;
        ch->err.fd = err_fd;
        ch->out.eof = out_fd < 0;
        ch->err.eof = err_fd < 0;
        for (int i = 0; i < 3; i++) {
                int fd = i == 0 ? in_fd : i == 1 ? out_fd : err_fd;
                if (fd >= 0)
                        fd_set_nonblock(fd, 1);
        }
}

static void close_fds(struct channel *ch) {
        int *fds[] = { &ch->in_fd, &ch->out.fd, &ch->err.fd, &ch->pty_master, &ch->pty_slave };

        for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
                int fd = *fds[i];

                if (fd < 0)
                        continue;
                close(fd);
                for (size_t j = i; j < ELEMENTSOF(fds); j++)
                        if (*fds[j] == fd)
                                *fds[j] = -EBADF;
        }
}

static void pending_flush(struct channel *ch) {
        while (ch->in_fd >= 0 && !ch->in_done && bb_len(&ch->pending) > 0) {
                ssize_t k = write(ch->in_fd, ch->pending.data + ch->pending.start, bb_len(&ch->pending));

                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return;
                        log_debug_errno(negative_errno(), "%s: local write failed: %m", ch->name);
                        ch->in_done = true;
                        bb_free(&ch->pending);
                        return;
                }
                bb_consume(&ch->pending, (size_t) k);
        }
}

/* Takes client data that libssh kept (see on_data) into the buffer. */
static void pending_refill(struct channel *ch) {
        size_t room;
        int n;

        if (!ch->backlog || ch->in_fd < 0 || ch->in_done || bb_alloc(&ch->pending, CHANNEL_PENDING_SIZE) < 0)
                return;
        room = bb_room(&ch->pending);
        if (room == 0)
                return;
        /* Reading may run on_data for new packets: it leaves them with
         * libssh meanwhile, so nothing overtakes what is read here. */
        ch->backlog = false;
        ch->refilling = true;
        n = ssh_channel_read_nonblocking(ch->ssh, scratch, (uint32_t) room, 0);
        ch->refilling = false;
        if (n > 0) {
                bb_append(&ch->pending, scratch, (size_t) n);
                ch->taken += (size_t) n;
                if ((size_t) n == room)
                        ch->backlog = true;
        }
}

/* Client data to the local fd: from the buffer, then from libssh, until
 * the fd takes no more or nothing is left. */
static void input_pump(struct channel *ch) {
        for (unsigned i = 0; i < 8; i++) {
                pending_flush(ch);
                if (bb_len(&ch->pending) > 0 || !ch->backlog || ch->in_done || ch->in_fd < 0)
                        return;
                pending_refill(ch);
        }
        /* More is waiting in libssh, and nothing would wake us for it. */
        ch->server->wakeups++;
}

/* Client data nobody will read any more: keep the window moving. */
static void backlog_drop(struct channel *ch) {
        int n;

        ch->backlog = false;
        ch->refilling = true;
        n = ssh_channel_read_nonblocking(ch->ssh, scratch, sizeof scratch, 0);
        ch->refilling = false;
        if (n == (int) sizeof scratch) {
                ch->backlog = true;
                ch->server->wakeups++;
        }
}

static void input_finish(struct channel *ch) {
        ch->in_done = true;
        bb_free(&ch->pending);
        if (ch->in_fd < 0)
                return;
        if (ch->in_is_socket)
                shutdown(ch->in_fd, SHUT_WR);
        else if (ch->in_fd != ch->pty_master) {
                close(ch->in_fd); /* the child reads EOF */
                ch->in_fd = -EBADF;
        }
        /* A pty cannot be half-closed: it stays, as with sshd. */
}

static void stream_flush(struct channel *ch, struct stream_out *st) {
        while (bb_len(&st->held) > 0) {
                uint32_t window = ssh_channel_window_size(ch->ssh);
                uint32_t k = (uint32_t) MIN((size_t) window, bb_len(&st->held));
                const uint8_t *p = st->held.data + st->held.start;
                int w;

                if (k == 0 || ch->remote_closed)
                        return;
                w = st->is_stderr ? ssh_channel_write_stderr(ch->ssh, p, k) : ssh_channel_write(ch->ssh, p, k);
                if (w < 0) {
                        log_debug("%s: cannot send: %s", ch->name, ssh_get_error(ch->server->ssh));
                        bb_free(&st->held);
                        st->eof = true;
                        return;
                }
                if (w == 0)
                        return; /* a key re-exchange is running: later */
                bb_consume(&st->held, (size_t) w);
        }
}

/* One read from a local fd, as much as the client's window takes. Returns
 * the bytes read, 0 at the end, -EAGAIN when nothing is there, -ENOBUFS
 * when nothing may be read now. */
static int stream_read(struct channel *ch, struct stream_out *st) {
        uint32_t window;
        ssize_t k;

        if (st->fd < 0 || st->eof || bb_len(&st->held) > 0 || !can_send(ch))
                return -ENOBUFS;
        if (bb_alloc(&st->held, CHANNEL_READ_SIZE) < 0)
                return -ENOBUFS;
        window = ssh_channel_window_size(ch->ssh);
        k = read(st->fd, st->held.data, MIN((size_t) window, st->held.size));
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return -EAGAIN;
        if (k <= 0) {
                /* EOF, or EIO from a pty whose other side is gone. */
                st->eof = true;
                return 0;
        }
        st->held.start = 0;
        st->held.end = (size_t) k;
        stream_flush(ch, st);
        return (int) k;
}

static void send_exit(struct channel *ch) {
        ssh_channel_send_eof(ch->ssh);
        ch->eof_sent = true;
        if (WIFEXITED(ch->status))
                ssh_channel_request_send_exit_status(ch->ssh, WEXITSTATUS(ch->status));
        else if (WIFSIGNALED(ch->status)) {
                const char *name = sigabbrev_np(WTERMSIG(ch->status));

                ssh_channel_request_send_exit_signal(ch->ssh, name ? name : "KILL", WCOREDUMP(ch->status), "",
                                                     "");
        }
        ssh_channel_close(ch->ssh);
        ch->close_sent = true;
        log_debug("%s: child done, channel closed.", ch->name);
}

static void session_progress(struct channel *ch) {
        if (!ch->started || ch->close_sent || ch->remote_closed)
                return;
        if (ch->exited && ch->pty_master >= 0 && !ch->out.eof) {
                /* Whatever the shell wrote before it exited is in the pty
                 * now; a read that finds nothing more ends the stream. */
                for (;;) {
                        int k = stream_read(ch, &ch->out);

                        if (k == -EAGAIN || (k > 0 && (ch->drain_budget -= MIN((size_t) k, ch->drain_budget)) == 0))
                                ch->out.eof = true;
                        if (k <= 0 || ch->out.eof)
                                break;
                }
        }
        if (ch->exited && ch->out.eof && ch->err.eof && bb_len(&ch->out.held) == 0 &&
            bb_len(&ch->err.held) == 0)
                send_exit(ch);
}

static void forward_progress(struct channel *ch) {
        if (ch->close_sent || ch->remote_closed)
                return;
        if (ch->out.eof && bb_len(&ch->out.held) == 0 && !ch->eof_sent) {
                ssh_channel_send_eof(ch->ssh);
                ch->eof_sent = true;
        }
        if (ch->eof_sent && ch->in_done) {
                ssh_channel_close(ch->ssh);
                ch->close_sent = true;
        }
}

/* libssh opens a client's window 1.28 MB at a time, and only once less
 * than half of that is left (WINDOWBASE in its channels.c); OpenSSH's sshd
 * keeps 2 MiB open. Through a relay a round trip takes milliseconds, and
 * the window caps a transfer at window / round trip. libssh's one way to a
 * larger window: a read asking for more than it holds and the window allows
 * opens the window up to that count first. The read is of the stderr flow,
 * always empty here (on_data takes and drops it), so all it does is open the
 * window; after each quarter of it that was taken, so that what libssh
 * buffers for a slow local reader never exceeds CHANNEL_WINDOW. */
static uint8_t window_sink[CHANNEL_WINDOW];

static void window_top_up(struct channel *ch) {
        if (ch->taken < CHANNEL_WINDOW / 4 || ch->in_done || ch->remote_eof || ch->remote_closed)
                return;
        ch->taken = 0;
        (void) ssh_channel_read_timeout(ch->ssh, window_sink, CHANNEL_WINDOW, 1, 0);
}

static void progress(struct channel *ch) {
        window_top_up(ch);
        if (!ch->in_done && ch->in_fd >= 0 && bb_len(&ch->pending) == 0 && ch->backlog)
                input_pump(ch);
        if (ch->in_done && ch->backlog && !ch->remote_closed)
                backlog_drop(ch);
        if (ch->remote_eof && !ch->in_done && ch->in_fd >= 0 && bb_len(&ch->pending) == 0 && !ch->backlog)
                input_finish(ch);
        stream_flush(ch, &ch->out);
        stream_flush(ch, &ch->err);

        if (ch->type == CHANNEL_SESSION)
                session_progress(ch);
        else
                forward_progress(ch);

        if (ch->remote_closed && !ch->close_sent) {
                /* The client is done with it (a closed -L connection, an
                 * interrupted ssh): answer the close, hang up the child. */
                if (ch->type == CHANNEL_SESSION)
                        session_channel_hangup(ch);
                ssh_channel_close(ch->ssh);
                ch->close_sent = true;
        }
        if (ch->close_sent)
                close_fds(ch);
}

static short revents_of(const struct pollfd *pf, int index, int fd) {
        if (!pf || index < 0 || fd < 0 || pf[index].fd != fd)
                return 0;
        return pf[index].revents;
}

void channels_dispatch(struct server *s, const struct pollfd *pf) {
        for (struct channel *ch = s->channels; ch; ch = ch->next) {
                if (revents_of(pf, ch->in_poll_index, ch->in_fd) & (POLLOUT | POLLERR | POLLHUP))
                        input_pump(ch);
                if (revents_of(pf, ch->out.poll_index, ch->out.fd) & (POLLIN | POLLERR | POLLHUP))
                        stream_read(ch, &ch->out);
                if (revents_of(pf, ch->err.poll_index, ch->err.fd) & (POLLIN | POLLERR | POLLHUP))
                        stream_read(ch, &ch->err);
                progress(ch);
        }
}

static int poll_add(struct pollfd *pf, size_t first, size_t *n, size_t max, int fd, short events) {
        /* A pty or a socket is one fd for both directions: one entry. */
        for (size_t i = first; i < *n; i++)
                if (pf[i].fd == fd) {
                        pf[i].events |= events;
                        return (int) i;
                }
        if (*n >= max)
                return -1;
        pf[*n] = (struct pollfd) { .fd = fd, .events = events };
        return (int) (*n)++;
}

int channels_poll_fill(struct server *s, struct pollfd *pf, size_t n, size_t max, bool *retry_soon) {
        size_t first = n;

        *retry_soon = false;
        for (struct channel *ch = s->channels; ch; ch = ch->next) {
                bool sending = can_send(ch);

                /* Bytes the window has room for but libssh did not take: a
                 * key re-exchange runs, and nothing tells when it ends. */
                if (sending && (bb_len(&ch->out.held) > 0 || bb_len(&ch->err.held) > 0))
                        *retry_soon = true;

                ch->in_poll_index = ch->out.poll_index = ch->err.poll_index = -1;
                if (ch->in_fd >= 0 && !ch->in_done && bb_len(&ch->pending) > 0)
                        ch->in_poll_index = poll_add(pf, first, &n, max, ch->in_fd, POLLOUT);
                if (sending && ch->out.fd >= 0 && !ch->out.eof && bb_len(&ch->out.held) == 0)
                        ch->out.poll_index = poll_add(pf, first, &n, max, ch->out.fd, POLLIN);
                if (sending && ch->err.fd >= 0 && !ch->err.eof && bb_len(&ch->err.held) == 0)
                        ch->err.poll_index = poll_add(pf, first, &n, max, ch->err.fd, POLLIN);
        }
        return (int) n;
}

/* free_ssh: also libssh's channel; at the very end ssh_free() does that. */
static void chan_free(struct channel *ch, bool free_ssh) {
        /* First: no callback may reach ch from here on. */
        ssh_remove_channel_callbacks(ch->ssh, &ch->callbacks);
        if (free_ssh)
                ssh_channel_free(ch->ssh); /* libssh keeps its half until the client's close arrives */
        if (ch->type == CHANNEL_SESSION)
                session_channel_free(ch);
        close_fds(ch);
        bb_free(&ch->pending);
        bb_free(&ch->out.held);
        bb_free(&ch->err.held);
        log_debug("%s freed.", ch->name);
        free(ch);
}

void channels_collect(struct server *s) {
        struct channel **p = &s->channels;

        while (*p) {
                struct channel *ch = *p;

                if (!ch->close_sent) {
                        p = &ch->next;
                        continue;
                }
                *p = ch->next;
                s->n_channels--;
                chan_free(ch, true);
        }
}

void channels_child_exited(struct server *s, pid_t pid, int status) {
        for (struct channel *ch = s->channels; ch; ch = ch->next)
                if (ch->pid == pid && !ch->exited) {
                        ch->exited = true;
                        ch->status = status;
                        ch->drain_budget = PTY_DRAIN_MAX;
                        log_debug("%s: child %d ended (status 0x%x).", ch->name, (int) pid, (unsigned) status);
                        return;
                }
}

void channels_hangup(struct server *s) {
        while (s->channels) {
                struct channel *ch = s->channels;

                s->channels = ch->next;
                if (ch->type == CHANNEL_SESSION)
                        session_channel_hangup(ch);
                chan_free(ch, false);
        }
        s->n_channels = 0;
}

void channels_dump(struct server *s) {
        log_info("%u channels, session poll flags 0x%x, status 0x%x.", s->n_channels,
                 (unsigned) ssh_get_poll_flags(s->ssh), (unsigned) ssh_get_status(s->ssh));
        for (struct channel *ch = s->channels; ch; ch = ch->next)
                log_info("%s: in fd %d pending %zu backlog %d done %d; out fd %d held %zu eof %d; err fd %d held %zu "
                         "eof %d; window %u; remote eof %d closed %d; sent eof %d close %d; pid %d exited %d",
                         ch->name, ch->in_fd, bb_len(&ch->pending), ch->backlog, ch->in_done, ch->out.fd,
                         bb_len(&ch->out.held), ch->out.eof, ch->err.fd, bb_len(&ch->err.held), ch->err.eof,
                         ssh_channel_window_size(ch->ssh), ch->remote_eof, ch->remote_closed, ch->eof_sent,
                         ch->close_sent, (int) ch->pid, ch->exited);
}

void channel_stop_output(struct channel *ch) {
        struct stream_out *streams[] = { &ch->out, &ch->err };

        for (size_t i = 0; i < ELEMENTSOF(streams); i++) {
                struct stream_out *st = streams[i];

                bb_free(&st->held);
                st->eof = true;
                /* A pty or a socket is also the input: only pipes close. */
                if (st->fd >= 0 && st->fd != ch->pty_master && st->fd != ch->in_fd) {
                        close(st->fd);
                        st->fd = -EBADF;
                }
        }
        ch->server->wakeups++;
}
