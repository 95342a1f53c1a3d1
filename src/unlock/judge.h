/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What became of an answer, from what the request directory holds
 * afterwards. systemd-cryptsetup removes its ask file as soon as an answer
 * arrives, then tries the passphrase (the key derivation takes a moment),
 * then either activates the volume and exits, or asks again: a new ask
 * file with the same Id=, from the same process. So:
 *   - our request still there: our answer is not taken yet (waiting);
 *   - a new request with the same Id (or, without an Id, from the same
 *     PID): refused, asked again;
 *   - our request gone, none new, the asker (PID=) has exited, and no new
 *     request came for a short while (settle_passed): accepted. The while
 *     is for askers that run one process per try (a script calling
 *     systemd-ask-password in a loop), whose next try comes from a new
 *     PID; without a PID, the while alone decides.
 * Pure logic: the unit test drives it. */

#include <stdbool.h>
#include <stddef.h>

#include "ask-file.h"

enum unlock_outcome {
        UNLOCK_WAITING,
        UNLOCK_ACCEPTED,
        UNLOCK_REFUSED,
};

/* answered: the request we answered (its name, Id, PID); pending: the live
 * requests now; asker_alive: whether answered->pid still runs (ignored when
 * it has none). *ret_again: the new request when refused. */
enum unlock_outcome unlock_judge(const struct ask_request *answered, const struct ask_request *pending, size_t n,
                                 bool asker_alive, bool settle_passed, const struct ask_request **ret_again);

/* Whether a and b ask for the same thing: the same Id=, or without one,
 * the same asker (PID=). */
bool ask_same_subject(const struct ask_request *a, const struct ask_request *b);

const char *unlock_outcome_to_string(enum unlock_outcome o);
