/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A proxy URL as it may be shown: in a log line, an error message, on the
 * screen. https_proxy=http://user:password@host:port is common, and the
 * password is the user's own (often their login): it is never shown. */

#include <stdbool.h>
#include <stddef.h>

/* Writes url into out with its credentials hidden:
 *     http://user:secret@host:3128   ->  http://user:***@host:3128
 *     user:secret@host:3128          ->  user:***@host:3128  (without a scheme)
 *     http://apikey@host:3128        ->  the same with *** for apikey
 *     http://host:3128, http://[::1]:3128  unchanged
 * The credentials end at the last '@' (a password with an unescaped '@' is
 * hidden whole: what libcurl would make of it does not matter here) and the
 * user name at their first ':'. A user name alone may be a key some
 * proxies take: it is hidden too. Truncated to size, always terminated. */
void proxy_url_redact(const char *url, char *out, size_t size);

/* True when the credentials (as proxy_url_redact() finds them) hold a
 * character that ends them for an URL parser: an unescaped '@', '/', '?'
 * or '#'. libcurl then takes part of the password for the host name, puts
 * it in its error message and asks DNS for it: such a URL is refused before
 * libcurl sees it (write them %40, %2F, %3F, %23). */
bool proxy_url_ambiguous(const char *url);
