/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A GSS-API with no mechanism at all, for linking Debian's libssh.a into the
 * session helper without Kerberos (gssapi-none.c says why). The types are the
 * C bindings of RFC 2744 as MIT and Heimdal lay them out on Linux: the krb5
 * headers need not be installed, and libssh.a was compiled against these
 * layouts, so they must not change. */

#include <stddef.h>
#include <stdint.h>

typedef uint32_t OM_uint32;

typedef struct gss_OID_desc_struct {
        OM_uint32 length;
        void *elements;
} gss_OID_desc, *gss_OID;

typedef struct gss_OID_set_desc_struct {
        size_t count;
        gss_OID elements;
} gss_OID_set_desc, *gss_OID_set;

typedef struct gss_buffer_desc_struct {
        size_t length;
        void *value;
} gss_buffer_desc, *gss_buffer_t;

/* Opaque handles: this implementation never creates any. */
typedef struct gss_name_struct *gss_name_t;
typedef struct gss_cred_id_struct *gss_cred_id_t;
typedef struct gss_ctx_id_struct *gss_ctx_id_t;
typedef struct gss_channel_bindings_struct *gss_channel_bindings_t;
typedef OM_uint32 gss_qop_t;
typedef int gss_cred_usage_t;

/* Status codes (RFC 2744, 3.9.1): routine errors in bits 16-23. */
#define GSS_S_COMPLETE 0u
#define GSS_C_ROUTINE_ERROR_OFFSET 16
#define GSS_S_BAD_MECH (1u << GSS_C_ROUTINE_ERROR_OFFSET)
#define GSS_S_FAILURE (13u << GSS_C_ROUTINE_ERROR_OFFSET)
#define GSS_S_UNAVAILABLE (16u << GSS_C_ROUTINE_ERROR_OFFSET)
#define GSS_S_CALL_INACCESSIBLE_WRITE (2u << 24)
#define GSS_C_GSS_CODE 1
#define GSS_C_MECH_CODE 2

/* What gss_display_status says, whatever the status. */
#define GSSAPI_NONE_TEXT "no GSSAPI mechanism in kairos"

extern gss_OID GSS_C_NT_HOSTBASED_SERVICE;
extern gss_OID GSS_C_NT_USER_NAME;

/* What works: an empty list of mechanisms, OID sets, status text, releases. */
OM_uint32 gss_indicate_mechs(OM_uint32 *minor_status, gss_OID_set *mech_set);
OM_uint32 gss_create_empty_oid_set(OM_uint32 *minor_status, gss_OID_set *oid_set);
OM_uint32 gss_add_oid_set_member(OM_uint32 *minor_status, const gss_OID member_oid, gss_OID_set *oid_set);
OM_uint32 gss_test_oid_set_member(OM_uint32 *minor_status, const gss_OID member, const gss_OID_set set,
                                  int *present);
OM_uint32 gss_release_oid_set(OM_uint32 *minor_status, gss_OID_set *set);
OM_uint32 gss_display_status(OM_uint32 *minor_status, OM_uint32 status_value, int status_type,
                             const gss_OID mech_type, OM_uint32 *message_context, gss_buffer_t status_string);
OM_uint32 gss_release_buffer(OM_uint32 *minor_status, gss_buffer_t buffer);
OM_uint32 gss_release_name(OM_uint32 *minor_status, gss_name_t *name);
OM_uint32 gss_release_cred(OM_uint32 *minor_status, gss_cred_id_t *cred_handle);

/* What needs a mechanism: GSS_S_UNAVAILABLE, every output cleared. */
OM_uint32 gss_import_name(OM_uint32 *minor_status, const gss_buffer_t input_name_buffer,
                          const gss_OID input_name_type, gss_name_t *output_name);
OM_uint32 gss_display_name(OM_uint32 *minor_status, const gss_name_t input_name, gss_buffer_t output_name_buffer,
                           gss_OID *output_name_type);
OM_uint32 gss_acquire_cred(OM_uint32 *minor_status, const gss_name_t desired_name, OM_uint32 time_req,
                           const gss_OID_set desired_mechs, gss_cred_usage_t cred_usage,
                           gss_cred_id_t *output_cred_handle, gss_OID_set *actual_mechs, OM_uint32 *time_rec);
OM_uint32 gss_inquire_cred(OM_uint32 *minor_status, const gss_cred_id_t cred_handle, gss_name_t *name,
                           OM_uint32 *lifetime, gss_cred_usage_t *cred_usage, gss_OID_set *mechanisms);
OM_uint32 gss_inquire_cred_by_mech(OM_uint32 *minor_status, const gss_cred_id_t cred_handle, const gss_OID mech_type,
                                   gss_name_t *name, OM_uint32 *initiator_lifetime, OM_uint32 *acceptor_lifetime,
                                   gss_cred_usage_t *cred_usage);
OM_uint32 gss_init_sec_context(OM_uint32 *minor_status, const gss_cred_id_t initiator_cred_handle,
                               gss_ctx_id_t *context_handle, const gss_name_t target_name, const gss_OID mech_type,
                               OM_uint32 req_flags, OM_uint32 time_req, const gss_channel_bindings_t input_chan_bindings,
                               const gss_buffer_t input_token, gss_OID *actual_mech_type, gss_buffer_t output_token,
                               OM_uint32 *ret_flags, OM_uint32 *time_rec);
OM_uint32 gss_accept_sec_context(OM_uint32 *minor_status, gss_ctx_id_t *context_handle,
                                 const gss_cred_id_t acceptor_cred_handle, const gss_buffer_t input_token_buffer,
                                 const gss_channel_bindings_t input_chan_bindings, gss_name_t *src_name,
                                 gss_OID *mech_type, gss_buffer_t output_token, OM_uint32 *ret_flags,
                                 OM_uint32 *time_rec, gss_cred_id_t *delegated_cred_handle);
OM_uint32 gss_get_mic(OM_uint32 *minor_status, const gss_ctx_id_t context_handle, gss_qop_t qop_req,
                      const gss_buffer_t message_buffer, gss_buffer_t msg_token);
OM_uint32 gss_verify_mic(OM_uint32 *minor_status, const gss_ctx_id_t context_handle, const gss_buffer_t message_buffer,
                         const gss_buffer_t token_buffer, gss_qop_t *qop_state);
