/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The only user of libcurl: a TCP connection to a relay the way a
 * workstation allows, through the proxy its environment names.
 *
 * libcurl ignores https_proxy for an http:// URL and would send our
 * handshake raw to an http_proxy, so the environment is read here:
 * https_proxy / HTTPS_PROXY, else all_proxy / ALL_PROXY, as an HTTP
 * CONNECT tunnel (CURLOPT_HTTPPROXYTUNNEL), and no_proxy / NO_PROXY as
 * CURLOPT_NOPROXY. http_proxy is never used. */

#include <stdint.h>

#include "io.h"

/* Connects and hands the socket over (libcurl does not close it). *cancel,
 * if not NULL, aborts the attempt when it becomes non-zero. On failure,
 * err holds a sentence. Returns the fd, -ETIMEDOUT, -ECONNREFUSED,
 * -EHOSTUNREACH (name not resolved / proxy refused), -ECANCELED, -EIO. */
int curl_dial(const char *host, uint16_t port, usec_t timeout, const volatile int *cancel,
              char *err, size_t err_size);

/* Sets libcurl (and the OpenSSL it starts) up, once: called by dial() in
 * the calling thread before any attempt thread exists. libcurl's global
 * set-up is not meant for threads racing, and OpenSSL's per-thread state
 * made in a short-lived attempt thread outlived it (LeakSanitizer). */
void curl_dial_init(void);

/* Which proxy curl_dial() would use for host, "" for none (for messages). */
void curl_dial_proxy_for(const char *host, char *out, size_t size);
