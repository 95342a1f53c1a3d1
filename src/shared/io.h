/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Blocking-style I/O with a deadline on file descriptors that may be
 * non-blocking: each call polls until done, the peer closes, or the
 * deadline passes (-ETIMEDOUT). Deadlines are CLOCK_MONOTONIC microseconds;
 * USEC_INFINITY waits for ever. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef uint64_t usec_t;
#define USEC_INFINITY UINT64_MAX
#define USEC_PER_MSEC UINT64_C(1000)
#define USEC_PER_SEC UINT64_C(1000000)

usec_t now_usec(void);
/* now + timeout, or USEC_INFINITY */
usec_t deadline_after(usec_t timeout);
/* poll(2) timeout in ms for a deadline: -1, or at least 1 while not past. */
int poll_timeout(usec_t deadline);

int fd_set_nonblock(int fd, int nonblock);
int fd_wait(int fd, short events, usec_t deadline);

/* All n bytes, or -ETIMEDOUT, -ECONNRESET (EOF before all), -errno. */
int read_full(int fd, void *buf, size_t n, usec_t deadline);
int write_full(int fd, const void *buf, size_t n, usec_t deadline);

/* TCP keepalive (idle, interval, count) and TCP_USER_TIMEOUT, so a
 * connection whose peer vanished is noticed instead of waited on for ever. */
int socket_set_keepalive(int fd, unsigned idle_sec, unsigned interval_sec, unsigned count);

/* One write(2) (send(2) with MSG_NOSIGNAL on sockets): bytes written,
 * -EAGAIN, or -errno. */
ssize_t write_some(int fd, const void *buf, size_t n);
/* The same for a gather list: one sendmsg(2) on a socket, one writev(2)
 * on anything else (the caller says which, so that a pipe or a file does
 * not cost a failing sendmsg(2) for every write). */
struct iovec;
ssize_t writev_some(int fd, bool socket, const struct iovec *iov, size_t n_iov);
/* 1 for a socket, 0 for anything else, -errno. */
int fd_is_socket(int fd);
