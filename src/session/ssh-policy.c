/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "log.h"
#include "macro.h"
#include "ssh-policy.h"

/* Whom this serves: OpenSSH clients from 6.5 (January 2014) on, the first
 * with curve25519-sha256@libssh.org, ssh-ed25519 and chacha20-poly1305,
 * and so every OpenSSH a helper may still have (Debian 8, RHEL 7's 7.4,
 * Windows' 7.7 and later). Nothing here is kept for older clients: kairos
 * is new, so no installed base depends on weaker algorithms, and a client
 * that cannot connect gets a clear "no matching ..." from its ssh.
 * tests/integration/ssh-audit.sh connects with 6.5's and 7.4's default
 * algorithm sets (the names today's ssh still knows) and today's defaults.
 *
 * libssh drops the names it does not implement from a list it is given
 * (and refuses only a list left empty), so the post-quantum hybrids stand
 * first in the key exchange list: a libssh that has them offers them, this
 * one (Debian 12's 0.10.6) has neither and offers curve25519 alone. */

/* Key exchange.
 * In: sntrup761x25519-sha512@openssh.com (OpenSSH 9.0's default) and
 *   mlkem768x25519-sha256 (OpenSSH 9.9; 10.0's default): X25519 combined
 *   with a post-quantum KEM, so that a recording of the session stays
 *   secret even against a future quantum computer; used when libssh has
 *   them (libssh 0.12 lists both; 0.10 neither).
 *   curve25519-sha256 (RFC 8731) and curve25519-sha256@libssh.org (the
 *   same method under its older name, OpenSSH 6.5 to 7.3 know only this
 *   one): X25519, fast, constant-time, no parameters to choose.
 * Out: ecdh-sha2-nistp256/384/521 (NIST curves whose constants nobody can
 *   explain; ssh-audit fails them), diffie-hellman-group14/16/18 and
 *   group-exchange (finite-field DH: slower, bigger, and the SHA-1 ones
 *   broken; every client above speaks curve25519). */
#define POLICY_KEY_EXCHANGE                                                             \
        "sntrup761x25519-sha512@openssh.com,mlkem768x25519-sha256,curve25519-sha256," \
        "curve25519-sha256@libssh.org"

/* Host key algorithms.
 * In: ssh-ed25519 (OpenSSH 6.5): the only host key kairos makes
 *   (keygen.c) and the one kairos-recovery.conf(5) asks for; one key type
 *   means one fingerprint on the screen and one known_hosts line.
 * Out: ecdsa-sha2-nistp* (the NIST curves again), rsa-sha2-* and ssh-rsa
 *   (SHA-1), ssh-dss: kairos never has such a key to sign with. */
#define POLICY_HOST_KEY_ALGORITHMS "ssh-ed25519"

/* Ciphers, the same both ways.
 * In: chacha20-poly1305@openssh.com (OpenSSH 6.5's and today's first
 *   choice), aes256-gcm@openssh.com and aes128-gcm@openssh.com (6.2;
 *   fastest where the CPU has AES-NI): authenticated encryption, the MAC
 *   list below does not apply to them.
 *   aes256-ctr and aes128-ctr, always with an encrypt-then-MAC below: for
 *   clients without the AEAD modes (paramiko, under Ansible and in this
 *   project's tests/integration/gssapi-probe.py, has only CTR and CBC).
 * Out: aes192-ctr (adds nothing between the two kept), every CBC mode
 *   (padding-oracle history), 3des-cbc. */
#define POLICY_CIPHERS \
        "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes128-ctr"

/* MACs, for the CTR ciphers only, the same both ways.
 * In: hmac-sha2-256-etm@openssh.com and hmac-sha2-512-etm@openssh.com
 *   (OpenSSH 6.2): the MAC covers the ciphertext, checked before anything
 *   is decrypted.
 * Out: hmac-sha2-256 and hmac-sha2-512 (encrypt-and-MAC: the MAC is over
 *   the plaintext, and the packet length is decrypted before it is
 *   authenticated; ssh-audit warns), hmac-sha1 and its -etm variant (SHA-1),
 *   hmac-md5-etm. */
#define POLICY_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com"

int ssh_policy_apply(ssh_bind bind) {
        static const struct {
                enum ssh_bind_options_e option;
                const char *what, *list;
        } policy[] = {
                { SSH_BIND_OPTIONS_KEY_EXCHANGE, "key exchange methods", POLICY_KEY_EXCHANGE },
                { SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, "host key algorithms", POLICY_HOST_KEY_ALGORITHMS },
                { SSH_BIND_OPTIONS_CIPHERS_C_S, "ciphers (client to server)", POLICY_CIPHERS },
                { SSH_BIND_OPTIONS_CIPHERS_S_C, "ciphers (server to client)", POLICY_CIPHERS },
                { SSH_BIND_OPTIONS_HMAC_C_S, "MACs (client to server)", POLICY_MACS },
                { SSH_BIND_OPTIONS_HMAC_S_C, "MACs (server to client)", POLICY_MACS },
        };

        for (size_t i = 0; i < ELEMENTSOF(policy); i++)
                if (ssh_bind_options_set(bind, policy[i].option, policy[i].list) < 0)
                        return log_error_errno(-EINVAL, "Cannot set the SSH %s to %s: %s", policy[i].what, policy[i].list,
                                               ssh_get_error(bind));
        return 0;
}

bool ssh_policy_host_key_allowed(ssh_key key) {
        return ssh_key_type(key) == SSH_KEYTYPE_ED25519;
}
