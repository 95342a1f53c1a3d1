/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A sealed code (sealed.h) as a token source: the text a webhook, a push
 * message or an e-mail carried, pasted or piped into the bridge. It is
 * opened with the operator's secret key, its signer looked up among the
 * known machines, and what remains is the token, exactly as from a photo. */

#include <stdbool.h>
#include <stddef.h>

#include "sealed.h"

struct sealed_options {
        const char *operator_key;   /* NULL: bridge_config_dir()/operator.key */
        const char *known_machines; /* NULL: bridge_config_dir()/known_machines */
        bool accept_unknown;        /* accept (and record) a machine key not listed */
};

/* Whether text holds a sealed code at all. */
bool sealed_input_present(const char *text, size_t size);

/* Finds the code in text sealed to the operator's key, opens it, checks its
 * signer and says which machine sent it and why. On success 0 and *code
 * (the caller wipes it); otherwise one clear message and the sysexits code:
 * 65 damaged, 66 no operator key file, 74 cannot read it, 77 not for this
 * key, forged, or signed by a machine that is not known. */
int sealed_input_open(const char *text, size_t size, const struct sealed_options *o, struct sealed_code *code);
