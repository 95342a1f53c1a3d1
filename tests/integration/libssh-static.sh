#!/bin/bash
# The session helper with libssh linked statically (configure's default,
# --with-libssh=static): no Kerberos in it or in what it loads, and the
# GSSAPI without mechanisms that stands in for Kerberos answers a client
# that asks for gssapi-with-mic (crafted with paramiko: OpenSSH's ssh only
# tries what the server lists) with SSH_MSG_USERAUTH_FAILURE, after which
# the same connection logs in with the password and runs a command; the
# helper ends well (no crash, no sanitizer report).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"
need readelf ldd
# Debian's python3-paramiko is for Debian's python3, which another python3
# (pyenv) may hide from PATH.
PY=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import paramiko' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || skip "python3-paramiko is not installed (tools/install-deps)"

# tools/valgrind-check runs the tests against shell wrappers that exec
# valgrind on the real program: look at the program, not the wrapper.
ELF=$HELPER
if ! readelf -h "$ELF" >/dev/null 2>&1; then
	ELF=$(sed -n 's/.*"\([^"]*kairos-recovery-session\)".*/\1/p' "$HELPER" | head -n 1)
fi
readelf -d "$ELF" >"$WORK/dynamic" || fail "readelf cannot read $HELPER (${ELF:-no program found behind it})"
grep -q 'NEEDED.*\[libssh\.so' "$WORK/dynamic" &&
	skip "kairos-recovery-session links libssh.so: built with --with-libssh=shared (or configure fell back to it)"

# What the helper asks for by name, and all that the loader brings in.
if grep -E 'NEEDED.*\[lib(ssh|gssapi|krb5|k5crypto|com_err|keyutils)' "$WORK/dynamic" >"$WORK/bad-needed"; then
	fail "the statically linked helper still needs: $(tr -s ' ' <"$WORK/bad-needed")"
fi
ldd "$ELF" >"$WORK/ldd" || fail "ldd $ELF failed"
if grep -E 'lib(ssh|gssapi_krb5|krb5|k5crypto|krb5support)\.so' "$WORK/ldd" >"$WORK/bad-ldd"; then
	fail "the helper loads Kerberos or libssh.so all the same: $(tr -s '\t ' ' ' <"$WORK/bad-ldd")"
fi

session_setup
start_server
timeout 120 "$PY" "$srcdir/tests/integration/gssapi-probe.py" 127.0.0.1 "$PORT" "$WORK/password" \
	"$WORK/hostkey.pub" >"$WORK/probe.out" 2>"$WORK/probe.err" ||
	fail "the gssapi-with-mic probe failed: $(cat "$WORK/probe.out") $(tail -n 5 "$WORK/probe.err")"
cat "$WORK/probe.out"
# libssh is inside the binary all the same: its server code answers.
grep -q '^server SSH-2\.0-.* libssh-0\.' "$WORK/probe.out" ||
	fail "the server did not present itself as libssh: $(head -n 1 "$WORK/probe.out")"
grep -qx 'gssapi-with-mic: USERAUTH_FAILURE methods=password partial=0' "$WORK/probe.out" ||
	fail "gssapi-with-mic was not refused with password as the only method left: $(cat "$WORK/probe.out")"
grep -qx 'password: authenticated' "$WORK/probe.out" || fail "no login with the password after gssapi-with-mic"
grep -qx 'exec: ok (exit 0)' "$WORK/probe.out" || fail "echo ok did not print ok"

# One connection, authenticated by the password, and the helper ended well.
wait_log "$WORK/events.log" "^1 authenticated password root$" 60
[ "$(grep -c '^[0-9]* pid ' "$WORK/events.log")" = 1 ] ||
	fail "the probe took $(grep -c '^[0-9]* pid ' "$WORK/events.log") connections, expected 1"
helpers_done
exit 0
