/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "ask-dir.h"
#include "judge.h"

bool ask_same_subject(const struct ask_request *a, const struct ask_request *b) {
        if (a->id[0] || b->id[0])
                return !strcmp(a->id, b->id);
        return a->pid > 0 && a->pid == b->pid;
}

enum unlock_outcome unlock_judge(const struct ask_request *answered, const struct ask_request *pending, size_t n,
                                 bool asker_alive, bool settle_passed, const struct ask_request **ret_again) {
        if (ret_again)
                *ret_again = NULL;
        if (ask_find_name(pending, n, answered->name))
                return UNLOCK_WAITING;
        for (size_t i = 0; i < n; i++)
                if (ask_same_subject(answered, &pending[i])) {
                        if (ret_again)
                                *ret_again = &pending[i];
                        return UNLOCK_REFUSED;
                }
        if (answered->pid > 0 && asker_alive)
                return UNLOCK_WAITING;
        return settle_passed ? UNLOCK_ACCEPTED : UNLOCK_WAITING;
}

const char *unlock_outcome_to_string(enum unlock_outcome o) {
        switch (o) {
        case UNLOCK_WAITING: return "waiting";
        case UNLOCK_ACCEPTED: return "accepted";
        case UNLOCK_REFUSED: return "refused";
        }
        return "?";
}
