/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

#include "known-machines.h"
#include "log.h"
#include "sealed-input.h"

bool sealed_input_present(const char *text, size_t size) {
        size_t pos = 0, start, len;

        return sealed_find(text, size, &pos, &start, &len) == 0;
}

static int load_operator_key(const struct sealed_options *o, struct operator_key *op) {
        char dir[4096], path[4200], why[256];
        uint8_t sk[32];
        struct stat st;
        int r;

        if (o->operator_key)
                snprintf(path, sizeof path, "%s", o->operator_key);
        else if (bridge_config_dir(dir, sizeof dir) < 0) {
                log_error("A sealed code, but no operator key: set $HOME or give --operator-key FILE.");
                return EX_NOINPUT;
        } else
                snprintf(path, sizeof path, "%s/operator.key", dir);
        r = key_read_file(path, KEY_OPERATOR_SECRET, sk, why, sizeof why);
        if (r == -ENOENT) {
                log_error("A sealed code, but no operator key in %s: make one with kairos-bridge keygen (and put its public key "
                          "in the machine's NotifyKey=), or give the one you have with --operator-key FILE.", path);
                return EX_NOINPUT;
        }
        if (r == -EINVAL || r == -EBADMSG || r == -ERANGE) {
                log_error("%s: %s It must hold the secret key that kairos-bridge keygen wrote.", path, why);
                return EX_DATAERR;
        }
        if (r < 0) {
                log_error_errno(r, "Cannot read the operator key %s: %m", path);
                return EX_IOERR;
        }
        if (stat(path, &st) == 0 && (st.st_mode & 077))
                log_warning("%s can be read by others (mode %03o): whoever reads it opens every code sent to you. chmod 600 it.",
                            path, st.st_mode & 0777);
        operator_key_from_secret(op, sk);
        sodium_memzero(sk, sizeof sk);
        return 0;
}

static int check_signer(const struct sealed_options *o, const struct sealed_code *c, char *name, size_t name_size) {
        char dir[4096], path[4200], key[KEYS_TEXT_MAX];
        int r;

        if (o->known_machines)
                snprintf(path, sizeof path, "%s", o->known_machines);
        else if (bridge_config_dir(dir, sizeof dir) < 0)
                snprintf(path, sizeof path, "known_machines");
        else
                snprintf(path, sizeof path, "%s/known_machines", dir);
        key_to_text(KEY_MACHINE_PUBLIC, c->signer, key);
        r = known_machines_find(path, c->signer, name, name_size);
        if (r < 0) {
                log_error_errno(r, "Cannot read the known machines %s: %m", path);
                return EX_IOERR;
        }
        if (r > 0)
                return 0;
        if (!o->accept_unknown) {
                log_error("The sealed code is signed by a machine key you have not recorded: %s (host name \"%s\", "
                          "machine id %s). The signature only proves that it was made with that machine's signing key; "
                          "anyone who could read that machine's /boot or initramfs may have copied the key, and anyone "
                          "who knows where codes are sent can make a code with a key of their own. If this key is the "
                          "one kairos-recovery keygen-machine printed on that machine, add the line \"%s NAME\" to %s, "
                          "or accept it once with --accept-unknown-machine.",
                          key, c->hostname, c->machine_id, key, path);
                return EX_NOPERM;
        }
        log_warning("Accepting a machine key not recorded before, as asked: %s (host name \"%s\"). It is added to %s; "
                    "the signature proves only that the code was made with this key.", key, c->hostname, path);
        r = known_machines_add(path, c->signer, c->hostname);
        if (r < 0)
                log_warning_errno(r, "Cannot add it to %s: %m", path);
        snprintf(name, name_size, "%.*s", (int) MIN(name_size - 1, sizeof c->hostname), c->hostname);
        return 0;
}

int sealed_input_open(const char *text, size_t size, const struct sealed_options *o, struct sealed_code *code) {
        struct operator_key op;
        struct sealed_error err, last = { .code = SEALED_NOT_SEALED };
        size_t pos = 0, start, len;
        char name[KNOWN_MACHINES_NAME_MAX], when[64];
        bool opened = false;
        time_t t;
        int r;

        r = load_operator_key(o, &op);
        if (r != 0)
                return r;
        /* A body may carry one code for each operator: ours is the one that
         * names our key. */
        while (sealed_find(text, size, &pos, &start, &len) == 0) {
                r = sealed_open(text + start, len, &op, code, &err);
                if (r == 0) {
                        opened = true;
                        break;
                }
                /* The most telling failure: ours forged or damaged beats "someone else's". */
                if (last.code == SEALED_NOT_SEALED || last.code == SEALED_OTHER_KEY)
                        last = err;
        }
        operator_key_clear(&op);
        if (!opened) {
                switch (last.code) {
                case SEALED_OTHER_KEY:
                        log_error("%s Open it with the operator key whose public half is in the machine's NotifyKey= (--operator-key FILE).",
                                  last.message);
                        return EX_NOPERM;
                case SEALED_WRONG_KEY:
                case SEALED_BAD_SIGNATURE:
                        log_error("%s", last.message);
                        return EX_NOPERM;
                default:
                        log_error("%s", last.message);
                        return EX_DATAERR;
                }
        }
        r = check_signer(o, code, name, sizeof name);
        if (r != 0) {
                sealed_code_clear(code);
                return r;
        }
        t = (time_t) code->created;
        if (!strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", localtime(&t)))
                snprintf(when, sizeof when, "?");
        log_info("Sealed code from machine \"%s\" (host name %s, machine id %s), signed by its key, made %s.",
                 name[0] ? name : code->hostname, code->hostname, code->machine_id, when);
        log_info("Reason: %s", code->reason);
        log_info("SSH host key %s", code->fingerprint);
        return 0;
}
