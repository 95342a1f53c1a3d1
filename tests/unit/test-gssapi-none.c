/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The GSSAPI without mechanisms that stands in for Kerberos when libssh is
 * linked statically (src/session/gssapi-none.c): libssh's server reads what
 * it returns without looking at the status, so every output must be sane.
 * An empty, valid mechanism set; a real membership test; a status text;
 * releases that leave NULL; every call that needs a mechanism fails and
 * clears what it would have written. */
#include <string.h>

#include "gssapi-none.h"
#include "tap.h"

/* The Kerberos 5 mechanism, as a client puts it in gssapi-with-mic. */
static gss_OID_desc krb5 = { 9, (void *) "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02" };
static gss_OID_desc spnego = { 6, (void *) "\x2b\x06\x01\x05\x05\x02" };

/* A value no call should leave behind: garbage a caller must not read. */
#define GARBAGE ((void *) 0x5a5a5a5a5a5aUL)
#define GARBAGE32 0x5a5a5a5au

static void test_mechanisms(void) {
        OM_uint32 minor = GARBAGE32, maj;
        gss_OID_set set = GARBAGE;
        int present = 7;

        maj = gss_indicate_mechs(&minor, &set);
        tap_ok(maj == GSS_S_COMPLETE, "gss_indicate_mechs succeeds (libssh reads the set without checking): status %#x", maj);
        tap_ok(minor == 0, "gss_indicate_mechs sets the minor status to 0 (got %#x)", minor);
        tap_ok(set != NULL && set != GARBAGE, "gss_indicate_mechs returns a set, not NULL");
        if (set && set != GARBAGE)
                tap_ok(set->count == 0, "the set of mechanisms is empty (count %zu)", set->count);
        maj = gss_test_oid_set_member(&minor, &krb5, set, &present);
        tap_ok(maj == GSS_S_COMPLETE && present == 0, "Kerberos 5 is not a supported mechanism (status %#x, present %d)",
               maj, present);
        maj = gss_add_oid_set_member(&minor, &krb5, &set);
        tap_ok(maj != GSS_S_COMPLETE && set && set->count == 0,
               "the list of mechanisms cannot be grown (status %#x, count %zu)", maj, set ? set->count : 0);
        maj = gss_release_oid_set(&minor, &set);
        tap_ok(maj == GSS_S_COMPLETE && set == NULL, "releasing the mechanism set leaves NULL");
        maj = gss_release_oid_set(&minor, &set);
        tap_ok(maj == GSS_S_COMPLETE && set == NULL, "releasing a NULL set is harmless");
}

static void test_oid_sets(void) {
        OM_uint32 minor = GARBAGE32, maj;
        gss_OID_set set = GARBAGE;
        int present = 7;

        maj = gss_create_empty_oid_set(&minor, &set);
        tap_ok(maj == GSS_S_COMPLETE && set && set != GARBAGE && set->count == 0,
               "gss_create_empty_oid_set gives an empty set (status %#x)", maj);
        if (maj != GSS_S_COMPLETE || !set || set == GARBAGE)
                return;
        maj = gss_test_oid_set_member(&minor, &krb5, set, &present);
        tap_ok(maj == GSS_S_COMPLETE && present == 0, "an empty set holds nothing (present %d)", present);
        maj = gss_add_oid_set_member(&minor, &krb5, &set);
        tap_ok(maj == GSS_S_COMPLETE && set->count == 1, "an OID is added (status %#x, count %zu)", maj, set->count);
        maj = gss_add_oid_set_member(&minor, &krb5, &set);
        tap_ok(maj == GSS_S_COMPLETE && set->count == 1, "the same OID twice is kept once (count %zu)", set->count);
        present = 7;
        gss_test_oid_set_member(&minor, &krb5, set, &present);
        tap_ok(present == 1, "membership: the OID added is found (present %d)", present);
        present = 7;
        gss_test_oid_set_member(&minor, &spnego, set, &present);
        tap_ok(present == 0, "membership: another OID is not (present %d)", present);
        /* Same bytes at another address: membership compares contents. */
        unsigned char copy[9];
        memcpy(copy, krb5.elements, sizeof copy);
        gss_OID_desc krb5_copy = { sizeof copy, copy };
        gss_test_oid_set_member(&minor, &krb5_copy, set, &present);
        tap_ok(present == 1, "membership compares the OID's bytes, not its address (present %d)", present);
        gss_OID_desc prefix = { 8, krb5.elements };
        gss_test_oid_set_member(&minor, &prefix, set, &present);
        tap_ok(present == 0, "membership: a prefix of a member is not a member (present %d)", present);
        maj = gss_release_oid_set(&minor, &set);
        tap_ok(maj == GSS_S_COMPLETE && set == NULL, "releasing the set frees it and leaves NULL");
}

static void test_status_text(void) {
        OM_uint32 minor = GARBAGE32, context = GARBAGE32, maj;
        gss_buffer_desc text = { 12345, GARBAGE };

        maj = gss_display_status(&minor, GSS_S_UNAVAILABLE, GSS_C_GSS_CODE, NULL, &context, &text);
        tap_ok(maj == GSS_S_COMPLETE, "gss_display_status succeeds (status %#x)", maj);
        tap_ok(context == 0, "gss_display_status has no further message (context %#x)", context);
        tap_ok(text.value && text.value != GARBAGE && text.length > 0 && strlen(text.value) == text.length,
               "the status text is a non-empty C string of the length given (%zu)", text.length);
        if (text.value && text.value != GARBAGE)
                tap_str_eq(text.value, GSSAPI_NONE_TEXT, "the status text says why");
        /* libssh releases this buffer on some paths and not on others: the
         * text is static, releasing clears the buffer and frees nothing
         * (AddressSanitizer would report a bad free). */
        maj = gss_release_buffer(&minor, &text);
        tap_ok(maj == GSS_S_COMPLETE && text.value == NULL && text.length == 0, "releasing the text leaves an empty buffer");
        maj = gss_display_status(&minor, 0, GSS_C_MECH_CODE, &krb5, &context, &text);
        tap_ok(maj == GSS_S_COMPLETE && text.value && strcmp(text.value, GSSAPI_NONE_TEXT) == 0,
               "a mechanism status gets the same text");
}

static void test_releases(void) {
        OM_uint32 minor = GARBAGE32;
        gss_name_t name = NULL;
        gss_cred_id_t cred = NULL;

        tap_ok(gss_release_name(&minor, &name) == GSS_S_COMPLETE && name == NULL, "releasing no name is harmless");
        tap_ok(gss_release_cred(&minor, &cred) == GSS_S_COMPLETE && cred == NULL, "releasing no credential is harmless");
        tap_ok(gss_release_name(NULL, NULL) == GSS_S_COMPLETE && gss_release_cred(NULL, NULL) == GSS_S_COMPLETE &&
                       gss_release_buffer(NULL, NULL) == GSS_S_COMPLETE && gss_release_oid_set(NULL, NULL) == GSS_S_COMPLETE,
               "releases take NULL pointers");
}

/* Each call that needs a mechanism: GSS_S_UNAVAILABLE, and every output
 * that was garbage before is now NULL, 0 or an empty buffer. */
static void test_unavailable(void) {
        OM_uint32 minor, maj, u1, u2;
        gss_name_t name;
        gss_cred_id_t cred;
        gss_ctx_id_t ctx;
        gss_OID oid;
        gss_OID_set set;
        gss_cred_usage_t usage;
        gss_qop_t qop;
        gss_buffer_desc in = { 5, (void *) "host" }, out;

#define RESET() (minor = u1 = u2 = GARBAGE32, name = GARBAGE, cred = GARBAGE, ctx = GARBAGE, oid = GARBAGE, \
                 set = GARBAGE, usage = 0x5a5a, qop = GARBAGE32, out = (gss_buffer_desc) { 999, GARBAGE })
#define EMPTY(b) ((b).length == 0 && (b).value == NULL)

        RESET();
        maj = gss_import_name(&minor, &in, GSS_C_NT_HOSTBASED_SERVICE, &name);
        tap_ok(maj == GSS_S_UNAVAILABLE && name == NULL && minor == 0,
               "gss_import_name: unavailable, no name (status %#x)", maj);

        RESET();
        maj = gss_display_name(&minor, NULL, &out, &oid);
        tap_ok(maj == GSS_S_UNAVAILABLE && EMPTY(out) && oid == NULL, "gss_display_name: unavailable, empty buffer");

        RESET();
        maj = gss_acquire_cred(&minor, NULL, 0, NULL, 2, &cred, &set, &u1);
        tap_ok(maj == GSS_S_UNAVAILABLE && cred == NULL && set == NULL && u1 == 0,
               "gss_acquire_cred: unavailable, no credential and no mechanism set");

        RESET();
        maj = gss_inquire_cred(&minor, NULL, &name, &u1, &usage, &set);
        tap_ok(maj == GSS_S_UNAVAILABLE && name == NULL && u1 == 0 && usage == 0 && set == NULL,
               "gss_inquire_cred: unavailable, outputs cleared");

        RESET();
        maj = gss_inquire_cred_by_mech(&minor, NULL, &krb5, &name, &u1, &u2, &usage);
        tap_ok(maj == GSS_S_UNAVAILABLE && name == NULL && u1 == 0 && u2 == 0 && usage == 0,
               "gss_inquire_cred_by_mech: unavailable, outputs cleared");

        RESET();
        ctx = NULL;
        maj = gss_init_sec_context(&minor, NULL, &ctx, NULL, &krb5, 0, 0, NULL, NULL, &oid, &out, &u1, &u2);
        tap_ok(maj == GSS_S_UNAVAILABLE && ctx == NULL && oid == NULL && EMPTY(out) && u1 == 0 && u2 == 0,
               "gss_init_sec_context: unavailable, no context and no token");

        RESET();
        ctx = NULL;
        maj = gss_accept_sec_context(&minor, &ctx, NULL, &in, NULL, &name, &oid, &out, &u1, &u2, &cred);
        tap_ok(maj == GSS_S_UNAVAILABLE && ctx == NULL && name == NULL && oid == NULL && EMPTY(out) && u1 == 0 &&
                       u2 == 0 && cred == NULL,
               "gss_accept_sec_context: unavailable, no context, name, token or delegated credential");

        RESET();
        maj = gss_get_mic(&minor, NULL, 0, &in, &out);
        tap_ok(maj == GSS_S_UNAVAILABLE && EMPTY(out), "gss_get_mic: unavailable, empty token");

        RESET();
        maj = gss_verify_mic(&minor, NULL, &in, &in, &qop);
        tap_ok(maj == GSS_S_UNAVAILABLE && qop == 0, "gss_verify_mic: unavailable (a MIC is never accepted)");

        /* Callers also pass NULL for outputs they do not want. */
        maj = gss_accept_sec_context(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        tap_ok(maj == GSS_S_UNAVAILABLE, "gss_accept_sec_context takes NULL outputs");
        maj = gss_init_sec_context(NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL);
        tap_ok(maj == GSS_S_UNAVAILABLE, "gss_init_sec_context takes NULL outputs");
}

static void test_name_types(void) {
        tap_ok(GSS_C_NT_HOSTBASED_SERVICE && GSS_C_NT_HOSTBASED_SERVICE->length == 10 &&
                       memcmp(GSS_C_NT_HOSTBASED_SERVICE->elements, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04", 10) == 0,
               "GSS_C_NT_HOSTBASED_SERVICE is the OID 1.2.840.113554.1.2.1.4");
        tap_ok(GSS_C_NT_USER_NAME && GSS_C_NT_USER_NAME->length == 10 &&
                       memcmp(GSS_C_NT_USER_NAME->elements, "\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x01", 10) == 0,
               "GSS_C_NT_USER_NAME is the OID 1.2.840.113554.1.2.1.1");
}

int main(void) {
        test_mechanisms();
        test_oid_sets();
        test_status_text();
        test_releases();
        test_unavailable();
        test_name_types();
        return tap_done();
}
