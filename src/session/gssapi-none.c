/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A GSS-API (RFC 2744) with no mechanism, linked into the session helper in
 * place of MIT Kerberos when libssh is linked statically.
 *
 * Why: Debian's libssh is built with GSSAPI, so libssh.so.4 pulls in
 * libgssapi_krb5, libkrb5, libk5crypto, libkrb5support, libkeyutils and
 * libcom_err: 0.58 MiB of the initramfs, for a method the helper never
 * offers (ssh_set_auth_methods() lists password and publickey only). Linking
 * Debian's libssh.a instead leaves 20 GSS-API references, which these
 * definitions satisfy at static link time (their hidden visibility does not
 * matter there, and keeps them out of the helper's dynamic symbol table).
 *
 * The contract, from what libssh 0.10's gssapi.c does with the results:
 * - gss_indicate_mechs() succeeds with an empty set: libssh reads
 *   supported->count without looking at the status, so it must not fail
 *   and must not return NULL. A client asking for gssapi-with-mic then finds
 *   no OID in common and gets SSH_MSG_USERAUTH_FAILURE, and may go on with
 *   the password on the same connection.
 * - gss_display_status() gives a real text: libssh prints buffer.value with
 *   %s and does not always release it, so the text is static and
 *   gss_release_buffer() never frees it.
 * - Everything that needs a mechanism fails with GSS_S_UNAVAILABLE and
 *   clears every output, so that no caller reads or frees garbage.
 * - Releases free what was allocated here and set the handle to NULL. */

#include <stdlib.h>
#include <string.h>

#include "gssapi-none.h"

/* The name types libssh hands to gss_import_name(), with their real OIDs
 * (RFC 2744, 4): nothing compares them here, but a caller may print them. */
static gss_OID_desc nt_hostbased_service = { 10, (void *) "\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04" };
static gss_OID_desc nt_user_name = { 10, (void *) "\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x01" };
gss_OID GSS_C_NT_HOSTBASED_SERVICE = &nt_hostbased_service;
gss_OID GSS_C_NT_USER_NAME = &nt_user_name;

/* What gss_indicate_mechs() returns: never allocated, so it cannot fail and
 * gss_release_oid_set() leaves it alone. */
static gss_OID_set_desc no_mechanisms = { 0, NULL };

static void set_minor(OM_uint32 *minor_status) {
        if (minor_status)
                *minor_status = 0;
}

static void clear_buffer(gss_buffer_t buffer) {
        if (buffer) {
                buffer->length = 0;
                buffer->value = NULL;
        }
}

#define CLEAR(p)                        \
        do {                            \
                if (p)                  \
                        *(p) = 0;       \
        } while (0)

OM_uint32 gss_indicate_mechs(OM_uint32 *minor_status, gss_OID_set *mech_set) {
        set_minor(minor_status);
        if (!mech_set)
                return GSS_S_CALL_INACCESSIBLE_WRITE;
        *mech_set = &no_mechanisms;
        return GSS_S_COMPLETE;
}

OM_uint32 gss_create_empty_oid_set(OM_uint32 *minor_status, gss_OID_set *oid_set) {
        set_minor(minor_status);
        if (!oid_set)
                return GSS_S_CALL_INACCESSIBLE_WRITE;
        *oid_set = calloc(1, sizeof **oid_set);
        return *oid_set ? GSS_S_COMPLETE : GSS_S_FAILURE;
}

OM_uint32 gss_add_oid_set_member(OM_uint32 *minor_status, const gss_OID member_oid, gss_OID_set *oid_set) {
        gss_OID_set set;
        gss_OID grown;
        void *copy;
        int present = 0;

        set_minor(minor_status);
        if (!member_oid || !oid_set || !*oid_set)
                return GSS_S_FAILURE;
        set = *oid_set;
        /* Only sets made by gss_create_empty_oid_set() grow (RFC 2744 says
         * as much); the static empty list of mechanisms stays empty. */
        if (set == &no_mechanisms)
                return GSS_S_FAILURE;
        (void) gss_test_oid_set_member(NULL, member_oid, set, &present);
        if (present)
                return GSS_S_COMPLETE;
        copy = malloc(member_oid->length ? member_oid->length : 1);
        if (!copy)
                return GSS_S_FAILURE;
        if (member_oid->length)
                memcpy(copy, member_oid->elements, member_oid->length);
        grown = realloc(set->elements, (set->count + 1) * sizeof *set->elements);
        if (!grown) {
                free(copy);
                return GSS_S_FAILURE;
        }
        grown[set->count] = (gss_OID_desc) { member_oid->length, copy };
        set->elements = grown;
        set->count++;
        return GSS_S_COMPLETE;
}

OM_uint32 gss_test_oid_set_member(OM_uint32 *minor_status, const gss_OID member, const gss_OID_set set,
                                  int *present) {
        set_minor(minor_status);
        if (!present)
                return GSS_S_CALL_INACCESSIBLE_WRITE;
        *present = 0;
        if (!member || !set)
                return GSS_S_FAILURE;
        for (size_t i = 0; i < set->count; i++)
                if (set->elements[i].length == member->length &&
                    (member->length == 0 || memcmp(set->elements[i].elements, member->elements, member->length) == 0)) {
                        *present = 1;
                        break;
                }
        return GSS_S_COMPLETE;
}

OM_uint32 gss_release_oid_set(OM_uint32 *minor_status, gss_OID_set *set) {
        set_minor(minor_status);
        if (!set)
                return GSS_S_COMPLETE;
        if (*set && *set != &no_mechanisms) {
                for (size_t i = 0; i < (*set)->count; i++)
                        free((*set)->elements[i].elements);
                free((*set)->elements);
                free(*set);
        }
        *set = NULL;
        return GSS_S_COMPLETE;
}

OM_uint32 gss_display_status(OM_uint32 *minor_status, OM_uint32 status_value, int status_type,
                             const gss_OID mech_type, OM_uint32 *message_context, gss_buffer_t status_string) {
        static const char text[] = GSSAPI_NONE_TEXT;

        set_minor(minor_status);
        /* One message only: there is nothing more to say. */
        CLEAR(message_context);
        if (!status_string)
                return GSS_S_CALL_INACCESSIBLE_WRITE;
        status_string->length = sizeof text - 1;
        status_string->value = (void *) text;
        return GSS_S_COMPLETE;
}

/* No buffer handed out here is ever allocated (the only one with content is
 * gss_display_status()'s static text), so releasing one only clears it. */
OM_uint32 gss_release_buffer(OM_uint32 *minor_status, gss_buffer_t buffer) {
        set_minor(minor_status);
        clear_buffer(buffer);
        return GSS_S_COMPLETE;
}

/* Names and credentials are never created here (gss_import_name() and
 * gss_acquire_cred() fail), so there is nothing to free. */
OM_uint32 gss_release_name(OM_uint32 *minor_status, gss_name_t *name) {
        set_minor(minor_status);
        CLEAR(name);
        return GSS_S_COMPLETE;
}

OM_uint32 gss_release_cred(OM_uint32 *minor_status, gss_cred_id_t *cred_handle) {
        set_minor(minor_status);
        CLEAR(cred_handle);
        return GSS_S_COMPLETE;
}

OM_uint32 gss_import_name(OM_uint32 *minor_status, const gss_buffer_t input_name_buffer,
                          const gss_OID input_name_type, gss_name_t *output_name) {
        set_minor(minor_status);
        CLEAR(output_name);
        return GSS_S_UNAVAILABLE;
}

OM_uint32 gss_display_name(OM_uint32 *minor_status, const gss_name_t input_name, gss_buffer_t output_name_buffer,
                           gss_OID *output_name_type) {
        set_minor(minor_status);
        clear_buffer(output_name_buffer);
        CLEAR(output_name_type);
        return GSS_S_UNAVAILABLE;
}

OM_uint32 gss_acquire_cred(OM_uint32 *minor_status, const gss_name_t desired_name, OM_uint32 time_req,
                           const gss_OID_set desired_mechs, gss_cred_usage_t cred_usage,
                           gss_cred_id_t *output_cred_handle, gss_OID_set *actual_mechs, OM_uint32 *time_rec) {
        set_minor(minor_status);
        CLEAR(output_cred_handle);
        CLEAR(actual_mechs);
        CLEAR(time_rec);
        return GSS_S_UNAVAILABLE;
}

OM_uint32 gss_inquire_cred(OM_uint32 *minor_status, const gss_cred_id_t cred_handle, gss_name_t *name,
                           OM_uint32 *lifetime, gss_cred_usage_t *cred_usage, gss_OID_set *mechanisms) {
        set_minor(minor_status);
        CLEAR(name);
        CLEAR(lifetime);
        CLEAR(cred_usage);
        CLEAR(mechanisms);
        return GSS_S_UNAVAILABLE;
}

OM_uint32 gss_inquire_cred_by_mech(OM_uint32 *minor_status, const gss_cred_id_t cred_handle, const gss_OID mech_type,
                                   gss_name_t *name, OM_uint32 *initiator_lifetime, OM_uint32 *acceptor_lifetime,
                                   gss_cred_usage_t *cred_usage) {
        set_minor(minor_status);
        CLEAR(name);
        CLEAR(initiator_lifetime);
        CLEAR(acceptor_lifetime);
        CLEAR(cred_usage);
        return GSS_S_UNAVAILABLE;
}

OM_uint32 gss_init_sec_context(OM_uint32 *minor_status, const gss_cred_id_t initiator_cred_handle,
                               gss_ctx_id_t *context_handle, const gss_name_t target_name, const gss_OID mech_type,
                               OM_uint32 req_flags, OM_uint32 time_req, const gss_channel_bindings_t input_chan_bindings,
                               const gss_buffer_t input_token, gss_OID *actual_mech_type, gss_buffer_t output_token,
                               OM_uint32 *ret_flags, OM_uint32 *time_rec) {
        set_minor(minor_status);
        /* No context was ever made here, so there is none to leak by
         * clearing the caller's handle. */
        CLEAR(context_handle);
        CLEAR(actual_mech_type);
        clear_buffer(output_token);
        CLEAR(ret_flags);
        CLEAR(time_rec);
        return GSS_S_UNAVAILABLE;
}

OM_uint32 gss_accept_sec_context(OM_uint32 *minor_status, gss_ctx_id_t *context_handle,
                                 const gss_cred_id_t acceptor_cred_handle, const gss_buffer_t input_token_buffer,
                                 const gss_channel_bindings_t input_chan_bindings, gss_name_t *src_name,
                                 gss_OID *mech_type, gss_buffer_t output_token, OM_uint32 *ret_flags,
                                 OM_uint32 *time_rec, gss_cred_id_t *delegated_cred_handle) {
        set_minor(minor_status);
        CLEAR(context_handle);
        CLEAR(src_name);
        CLEAR(mech_type);
        clear_buffer(output_token);
        CLEAR(ret_flags);
        CLEAR(time_rec);
        CLEAR(delegated_cred_handle);
        return GSS_S_UNAVAILABLE;
}

OM_uint32 gss_get_mic(OM_uint32 *minor_status, const gss_ctx_id_t context_handle, gss_qop_t qop_req,
                      const gss_buffer_t message_buffer, gss_buffer_t msg_token) {
        set_minor(minor_status);
        clear_buffer(msg_token);
        return GSS_S_UNAVAILABLE;
}

OM_uint32 gss_verify_mic(OM_uint32 *minor_status, const gss_ctx_id_t context_handle, const gss_buffer_t message_buffer,
                         const gss_buffer_t token_buffer, gss_qop_t *qop_state) {
        set_minor(minor_status);
        CLEAR(qop_state);
        return GSS_S_UNAVAILABLE;
}
