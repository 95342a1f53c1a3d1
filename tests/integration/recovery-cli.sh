#!/bin/bash
# kairos-recovery's commands as a person at the console uses them, with bad
# inputs (kairos-recovery(8), EXIT STATUS):
#  - show | grep gives plain lines, no "\r"; a terminal in raw mode gets "\r\n";
#  - rotate and show as a user other than root: 77 and "run as root";
#  - --config naming a file that does not exist: reported by show,
#    show-config and check-config; check-config exits 1 on any problem,
#    0 on a clean file, and names file and line;
#  - the daemon without its session helper: exit 72 and a message naming
#    it, no qr.png; with a helper that cannot make a key: exit 73;
#  - a configured host key that is missing, or has no .pub: the QR code is
#    shown all the same, with a key made for this boot.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
need setpriv script

start_recovery
cli() { RUNTIME_DIRECTORY="$RUN" "$RECOVERY" --config "$WORK/recovery.conf" "$@"; }

# show, piped.
cli show >"$WORK/show.txt" 2>"$WORK/show.err" || fail "kairos-recovery show failed: $(cat "$WORK/show.err")"
line=$(grep '^Password' "$WORK/show.txt")
[ "$line" = "Password: $PASSWORD" ] || fail "show | grep Password gives \"$(printf %q "$line")\""
grep -q $'\r' "$WORK/show.txt" && fail "show into a pipe still writes carriage returns"
grep -q "Password *$PASSWORD" "$WORK/show.txt" || fail "the screen part of show lacks the password"
# A terminal that does not turn \n into \r\n (raw, as a serial console may be) gets \r\n.
script -qec "stty -opost; RUNTIME_DIRECTORY='$RUN' '$RECOVERY' --config '$WORK/recovery.conf' show" /dev/null >"$WORK/show-raw.txt" </dev/null ||
	fail "show on a raw terminal failed"
grep -q $'kairos remote recovery[^\r]*\r$' "$WORK/show-raw.txt" || fail "show on a raw terminal does not end its lines with \\r\\n"

# Not root.
chmod 755 "$WORK"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env RUNTIME_DIRECTORY="$RUN" "$RECOVERY" "$@"; }
rc=0; nobody rotate >"$WORK/rotate.out" 2>"$WORK/rotate.err" || rc=$?
[ "$rc" = 77 ] || fail "rotate as nobody exited $rc, not 77: $(cat "$WORK/rotate.err")"
grep -q "run this command as root" "$WORK/rotate.err" || fail "rotate as nobody does not say to run it as root: $(cat "$WORK/rotate.err")"
grep -q "Is kairos-recovery running" "$WORK/rotate.err" && fail "rotate as nobody suggests the daemon is not running"
rc=0; nobody show >/dev/null 2>"$WORK/show-nobody.err" || rc=$?
[ "$rc" = 77 ] || fail "show as nobody exited $rc, not 77"
cli show | grep -q "^Password: $PASSWORD$" || fail "the refused rotate changed the password"

# --config that does not exist.
rc=0; RUNTIME_DIRECTORY="$RUN" "$RECOVERY" --config "$WORK/no-such.conf" show-config >"$WORK/sc.out" 2>"$WORK/sc.err" || rc=$?
[ "$rc" = 0 ] || fail "show-config with a missing file exited $rc (it prints the defaults)"
grep -q "no-such.conf: does not exist" "$WORK/sc.err" || fail "show-config does not report the missing file: $(cat "$WORK/sc.err")"
grep -q "^TunnelPort=7140$" "$WORK/sc.out" || fail "show-config with a missing file does not print the defaults"
rc=0; RUNTIME_DIRECTORY="$RUN" "$RECOVERY" --config "$WORK/no-such.conf" show >/dev/null 2>"$WORK/show-missing.err" || rc=$?
grep -q "no-such.conf: does not exist" "$WORK/show-missing.err" || fail "show does not report the missing file"
rc=0; "$RECOVERY" --config "$WORK/no-such.conf" check-config >"$WORK/cc.out" 2>"$WORK/cc.err" || rc=$?
[ "$rc" = 1 ] || fail "check-config with a missing file exited $rc, not 1"
grep -q "no-such.conf: does not exist" "$WORK/cc.err" || fail "check-config does not name the missing file"
# check-config: clean, then a problem with its line.
rc=0; cli check-config >"$WORK/cc.out" 2>"$WORK/cc.err" || rc=$?
[ "$rc" = 0 ] || fail "check-config on the clean test configuration exited $rc: $(cat "$WORK/cc.err")"
[ ! -s "$WORK/cc.out" ] && [ ! -s "$WORK/cc.err" ] || fail "check-config on a clean file printed something"
cp "$WORK/recovery.conf" "$WORK/bad.conf"
echo "TunelPort=7141" >>"$WORK/bad.conf"
n=$(wc -l <"$WORK/bad.conf")
rc=0; "$RECOVERY" --config "$WORK/bad.conf" check-config 2>"$WORK/cc.err" || rc=$?
[ "$rc" = 1 ] || fail "check-config on a misspelled key exited $rc, not 1"
grep -q "bad.conf:$n: unknown key \"TunelPort\"" "$WORK/cc.err" || fail "check-config does not name file and line: $(cat "$WORK/cc.err")"
rc=0; "$RECOVERY" --config "$WORK/bad.conf" show-config >/dev/null 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "show-config on a misspelled key exited $rc (only check-config fails)"

# The daemon without its helper: a clear stop, no QR code.
mkdir -p "$WORK/run2"
printf '[Recovery]\nRelay=\nConsole=null\nPlymouth=no\nHostKey=\nTunnelPort=%s\n' "$(free_port)" >"$WORK/solo.conf"
rc=0
RUNTIME_DIRECTORY="$WORK/run2" KAIROS_SESSION_HELPER="$WORK/no-such-helper" timeout 20 "$RECOVERY" --config "$WORK/solo.conf" \
	>"$WORK/nohelper.log" 2>&1 || rc=$?
[ "$rc" = 72 ] || fail "the daemon without its helper exited $rc, not 72"
grep -q "session helper $WORK/no-such-helper cannot be run" "$WORK/nohelper.log" || fail "no message names the missing helper"
grep -q "host key )" "$WORK/nohelper.log" && fail "the daemon still logs an empty host key"
[ ! -e "$WORK/run2/qr.png" ] || fail "qr.png written though nobody could be let in"
# A helper that runs but cannot make a key.
printf '#!/bin/sh\nexit 1\n' >"$WORK/broken-helper"
chmod +x "$WORK/broken-helper"
rm -rf "$WORK/run2"; mkdir -p "$WORK/run2"
rc=0
RUNTIME_DIRECTORY="$WORK/run2" KAIROS_SESSION_HELPER="$WORK/broken-helper" timeout 20 "$RECOVERY" --config "$WORK/solo.conf" \
	>"$WORK/nokey.log" 2>&1 || rc=$?
[ "$rc" = 73 ] || fail "the daemon without any host key exited $rc, not 73"
grep -q "No SSH host key" "$WORK/nokey.log" || fail "no message says there is no host key"

# A configured key that is missing, or lacks its .pub: a key for this boot, and the QR code.
for case in missing nopub; do
	rm -rf "$WORK/run2"; mkdir -p "$WORK/run2"
	key="$WORK/conf-key-$case"
	if [ "$case" = nopub ]; then
		"$KAIROS_SESSION_HELPER" --generate-host-key "$key" >/dev/null 2>&1 || fail "cannot make a key"
		rm -f "$key.pub"
	fi
	port=$(free_port)
	printf '[Recovery]\nRelay=\nConsole=null\nPlymouth=no\nHostKey=%s\nTunnelPort=%s\n' "$key" "$port" >"$WORK/key.conf"
	RUNTIME_DIRECTORY="$WORK/run2" bg "$RECOVERY" --config "$WORK/key.conf" >"$WORK/key-$case.log" 2>&1
	wait_log "$WORK/key-$case.log" "kairos-recovery started"
	grep -q "host key SHA256:" "$WORK/key-$case.log" || fail "($case) started without a host key fingerprint"
	[ -s "$WORK/run2/qr.png" ] || fail "($case) no qr.png"
	kill "$LAST_PID"; wait "$LAST_PID" 2>/dev/null || true
done
grep -q "using a key made for this boot instead" "$WORK/key-nopub.log" || fail "a key without .pub is not reported"

pass "show pipes clean lines; not root gives 77; a missing --config is reported; check-config fails on problems; no helper 72, no key 73, a bad configured key falls back"
