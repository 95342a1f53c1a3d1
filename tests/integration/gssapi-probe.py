#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A client that asks an SSH server for gssapi-with-mic, then logs in with the
password on the same connection and runs `echo ok` (tests/integration/libssh-static.sh).

OpenSSH's ssh only tries the methods a server lists, and kairos lists only
password (and publickey): the request is crafted here with paramiko, after the
key exchange, as RFC 4462 (3.2) lays it out with one mechanism, Kerberos 5.
Prints what happened, one line per step; exits 1 with the reason when a step
does not go as a user would expect.

usage: gssapi-probe.py HOST PORT PASSWORD-FILE HOSTKEY.pub
"""
import socket
import sys
import threading

import paramiko
from paramiko.auth_handler import AuthHandler
from paramiko.common import MSG_SERVICE_ACCEPT, MSG_USERAUTH_FAILURE, cMSG_USERAUTH_REQUEST
from paramiko.message import Message

# SSH_OID_TAG, length 9, then 1.2.840.113554.1.2.2 (Kerberos 5), as ssh -K sends it.
KRB5_OID = bytes.fromhex("06092a864886f712010202")
TIMEOUT = 60


def fail(why):
    print(f"FAIL {why}", flush=True)
    sys.exit(1)


class GssapiProbe(AuthHandler):
    """paramiko's client authentication, with a gssapi-with-mic request of its own
    (paramiko would need python3-gssapi and a Kerberos ticket to send one)."""

    failures = []

    def auth_gssapi_probe(self, username, event):
        with self.transport.lock:
            self.auth_event = event
            self.auth_method = "gssapi-with-mic"
            self.username = username
            self._request_auth()  # ssh-userauth service request; the reply comes below

    def _service_accept(self, m):
        if self.auth_method != "gssapi-with-mic":
            return AuthHandler._parse_service_accept(self, m)
        if m.get_text() != "ssh-userauth":
            fail("the server accepted another service than ssh-userauth")
        req = Message()
        req.add_byte(cMSG_USERAUTH_REQUEST)
        req.add_string(self.username)
        req.add_string("ssh-connection")
        req.add_string("gssapi-with-mic")
        req.add_int(1)
        req.add_string(KRB5_OID)
        self.transport._send_message(req)

    def _userauth_failure(self, m):
        # Record the answer (SSH_MSG_USERAUTH_FAILURE, 51) before paramiko reads it.
        GssapiProbe.failures.append((self.auth_method, m.get_list(), m.get_boolean()))
        m.rewind()
        return AuthHandler._parse_userauth_failure(self, m)

    _client_handler_table = dict(AuthHandler._client_handler_table)
    _client_handler_table[MSG_SERVICE_ACCEPT] = _service_accept
    _client_handler_table[MSG_USERAUTH_FAILURE] = _userauth_failure


def main():
    if len(sys.argv) != 5:
        fail("usage: gssapi-probe.py HOST PORT PASSWORD-FILE HOSTKEY.pub")
    host, port, password_file, hostkey_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    with open(password_file) as f:
        password = f.read().strip()
    with open(hostkey_file) as f:
        expected_key = f.read().split()[1]

    sock = socket.create_connection((host, port), timeout=TIMEOUT)
    t = paramiko.Transport(sock)
    t.start_client(timeout=TIMEOUT)
    print(f"server {t.remote_version}", flush=True)
    key = t.get_remote_server_key()
    if key.get_base64() != expected_key:
        fail(f"the server's host key is {key.get_name()} {key.get_base64()}, not the one in {hostkey_file}")

    # 1. gssapi-with-mic with the Kerberos 5 OID: refused with the methods left.
    t.auth_handler = GssapiProbe(t)
    event = threading.Event()
    t.auth_handler.auth_gssapi_probe("root", event)
    try:
        t.auth_handler.wait_for_response(event)
        fail("gssapi-with-mic was accepted")
    except paramiko.BadAuthenticationType as e:
        allowed = e.allowed_types
    except paramiko.AuthenticationException as e:
        fail(f"gssapi-with-mic: {e!r} instead of SSH_MSG_USERAUTH_FAILURE")
    if not GssapiProbe.failures:
        fail("gssapi-with-mic: no SSH_MSG_USERAUTH_FAILURE came back")
    method, methods, partial = GssapiProbe.failures[0]
    print(f"gssapi-with-mic: USERAUTH_FAILURE methods={','.join(methods)} partial={int(partial)}", flush=True)
    if "gssapi-with-mic" in allowed:
        fail(f"the server lists gssapi-with-mic among its methods: {allowed}")
    if not t.is_active():
        fail("the server closed the connection after the gssapi-with-mic request")

    # 2. The password on the same connection.
    try:
        rest = t.auth_password("root", password)
    except paramiko.AuthenticationException as e:
        fail(f"the password was refused after gssapi-with-mic: {e!r}")
    if rest or not t.is_authenticated():
        fail(f"the password did not authenticate (still to do: {rest})")
    print("password: authenticated", flush=True)

    # 3. A command.
    ch = t.open_session(timeout=TIMEOUT)
    ch.settimeout(TIMEOUT)
    ch.exec_command("echo ok")
    out = b""
    while True:
        data = ch.recv(4096)
        if not data:
            break
        out += data
    status = ch.recv_exit_status()
    print(f"exec: {out.decode(errors='replace').strip()} (exit {status})", flush=True)
    if out != b"ok\n" or status != 0:
        fail(f"echo ok printed {out!r} with exit status {status}")
    t.close()


if __name__ == "__main__":
    main()
