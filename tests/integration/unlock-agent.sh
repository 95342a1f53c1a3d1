#!/bin/bash
# kairos-unlock against the real asker: systemd-ask-password, which writes
# the ask.* file and waits on its socket exactly as systemd-cryptsetup does
# in the initramfs (same code, libshared's ask_password_agent()), in a
# private mount namespace with a tmpfs on /run/systemd/ask-password and a
# journald of its own. The asker is a loop like systemd-cryptsetup's tries:
# a wrong passphrase is asked again with the same Id.
#  1. nothing asked: --list and a plain run exit 69 and say so;
#  2. --list names the request (Id and message);
#  3. a wrong then the right passphrase on stdin: "Wrong passphrase", then
#     "Unlocked", exit 0; the asker got the right one on its second try;
#     the journal holds who unlocked (KAIROS_PEER) and the refusal, and
#     neither passphrase;
#  4. only a wrong one: exit 65;
#  5. answered elsewhere (another agent, as the console would) while
#     kairos-unlock waits for input: it says so at once and exits 75,
#     sending nothing;
#  6. a request for another Id: exit 69.
if [ "${KAIROS_PRIVATE_NS:-}" != 1 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; then
	KAIROS_PRIVATE_NS=1 exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
[ "${KAIROS_PRIVATE_NS:-}" = 1 ] || skip "needs root and unshare (a private /run/systemd/ask-password)"
need systemd-ask-password journalctl
JOURNALD=/lib/systemd/systemd-journald
[ -x "$JOURNALD" ] || skip "no $JOURNALD"
UNLOCK="$builddir/kairos-unlock"
ASK=/run/systemd/ask-password
WRONG="wrong-$RANDOM-passphrase"
RIGHT="right-$RANDOM-passphrase"

for d in /run/systemd /run/log; do
	mkdir -p "$d" && mount -t tmpfs tmpfs "$d" || fail "cannot mount a tmpfs on $d"
done
mkdir -p /run/systemd/journal "$ASK"
bg "$JOURNALD"
for _ in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
[ -S /run/systemd/journal/socket ] || fail "journald did not start"

# asker ID OUT: up to 3 tries, as systemd-cryptsetup makes them.
asker() {
	local i p
	for i in 1 2 3; do
		p=$(systemd-ask-password --no-tty --id="$1" --timeout=120 "Please enter passphrase for disk $1:") || {
			echo "ask failed" >>"$2"
			return 1
		}
		if [ "$p" = "$RIGHT" ]; then
			echo "unlocked on try $i" >>"$2"
			return 0
		fi
		echo "refused try $i" >>"$2"
	done
	return 1
}
asked() { ls "$ASK"/ask.* >/dev/null 2>&1; }

# 1. nothing asked
rc=0
"$UNLOCK" --list >"$WORK/list0.out" 2>&1 || rc=$?
[ "$rc" = 69 ] || fail "--list with nothing asked exited $rc, not 69: $(cat "$WORK/list0.out")"
grep -q "No passphrase is being asked for" "$WORK/list0.out" || fail "--list does not say nothing is asked: $(cat "$WORK/list0.out")"
rc=0
"$UNLOCK" </dev/null >"$WORK/none.out" 2>&1 || rc=$?
[ "$rc" = 69 ] || fail "kairos-unlock with nothing asked exited $rc, not 69"

# 2., 3. wrong, then right
asker cryptsetup:/dev/test "$WORK/asker1.out" &
ASKER=$!
wait_until 30 "the ask file" asked || fail "systemd-ask-password wrote no ask file"
"$UNLOCK" --list >"$WORK/list1.out" 2>&1 || fail "--list failed with a request pending: $(cat "$WORK/list1.out")"
grep -q "^cryptsetup:/dev/test .*Please enter passphrase for disk cryptsetup:/dev/test:" "$WORK/list1.out" ||
	fail "--list does not name the request: $(cat "$WORK/list1.out")"
rc=0
printf '%s\n%s\n' "$WRONG" "$RIGHT" | KAIROS_PEER="direct 192.0.2.7:40123" timeout 120 "$UNLOCK" --timeout 60 \
	>"$WORK/unlock1.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "kairos-unlock exited $rc: $(cat "$WORK/unlock1.out")"
grep -q "Wrong passphrase: cryptsetup:/dev/test asks again" "$WORK/unlock1.out" || fail "the wrong passphrase was not reported: $(cat "$WORK/unlock1.out")"
grep -q "^Unlocked: cryptsetup:/dev/test" "$WORK/unlock1.out" || fail "no 'Unlocked': $(cat "$WORK/unlock1.out")"
wait "$ASKER" || fail "the asker did not get the right passphrase: $(cat "$WORK/asker1.out")"
[ "$(cat "$WORK/asker1.out")" = "refused try 1
unlocked on try 2" ] || fail "the asker saw: $(cat "$WORK/asker1.out")"
grep -q -e "$WRONG" -e "$RIGHT" "$WORK/unlock1.out" && fail "kairos-unlock printed a passphrase"

ok_id=$(sed -n 's/^#define MESSAGE_ID_UNLOCKED "\(.*\)"/\1/p' "$srcdir/src/shared/log.h")
bad_id=$(sed -n 's/^#define MESSAGE_ID_UNLOCK_REFUSED "\(.*\)"/\1/p' "$srcdir/src/shared/log.h")
journal_has() { [ -n "$(journalctl -q --no-pager MESSAGE_ID="$1" 2>/dev/null)" ]; }
wait_until 20 "the unlock record in the journal" journal_has "$ok_id" || fail "no MESSAGE_ID=$ok_id in the journal"
journalctl -q --no-pager -o export MESSAGE_ID="$ok_id" >"$WORK/ok.export"
grep -qx "MESSAGE=cryptsetup:/dev/test unlocked by a kairos session from direct 192.0.2.7:40123 (kairos-unlock): the boot goes on." "$WORK/ok.export" ||
	fail "the journal's record does not say who unlocked: $(grep ^MESSAGE= "$WORK/ok.export")"
grep -qx "KAIROS_PEER=direct 192.0.2.7:40123" "$WORK/ok.export" || fail "no KAIROS_PEER= field: $(cat "$WORK/ok.export")"
grep -qx "KAIROS_ASK_ID=cryptsetup:/dev/test" "$WORK/ok.export" || fail "no KAIROS_ASK_ID= field"
grep -qx "SYSLOG_IDENTIFIER=kairos-unlock" "$WORK/ok.export" || fail "no SYSLOG_IDENTIFIER=kairos-unlock"
wait_until 20 "the refusal in the journal" journal_has "$bad_id" || fail "no MESSAGE_ID=$bad_id (refused) in the journal"
journalctl --no-pager -o export >"$WORK/all.export"
grep -q -e "$WRONG" -e "$RIGHT" "$WORK/all.export" && fail "a passphrase reached the journal"

# 4. only a wrong one
asker cryptsetup:/dev/test "$WORK/asker2.out" &
ASKER=$!
wait_until 30 "the ask file" asked || fail "systemd-ask-password wrote no ask file (2)"
rc=0
printf '%s\n' "$WRONG" | timeout 120 "$UNLOCK" --timeout 60 >"$WORK/unlock2.out" 2>&1 || rc=$?
[ "$rc" = 65 ] || fail "a wrong passphrase and no other: exit $rc, not 65: $(cat "$WORK/unlock2.out")"
grep -q "No other passphrase given" "$WORK/unlock2.out" || fail "$(cat "$WORK/unlock2.out")"

# 5. answered elsewhere while kairos-unlock waits for input (the asker
# still waits for its second try).
mkfifo "$WORK/in"
exec 8<>"$WORK/in"
"$UNLOCK" --timeout 60 <"$WORK/in" >"$WORK/unlock3.out" 2>&1 &
U=$!
wait_log "$WORK/unlock3.out" "Please enter passphrase" 30
printf '%s\n' "$RIGHT" | "$UNLOCK" --timeout 60 >"$WORK/console.out" 2>&1 || fail "the other agent failed: $(cat "$WORK/console.out")"
rc=0
wait "$U" || rc=$?
exec 8>&-
[ "$rc" = 75 ] || fail "kairos-unlock, answered elsewhere, exited $rc, not 75: $(cat "$WORK/unlock3.out")"
grep -q "was answered elsewhere (at the machine's console) before yours: nothing sent" "$WORK/unlock3.out" ||
	fail "it does not say the request was answered elsewhere: $(cat "$WORK/unlock3.out")"
wait "$ASKER" || fail "the asker did not get the right passphrase from the other agent: $(cat "$WORK/asker2.out")"

# 6. another Id
asker cryptsetup:/dev/other "$WORK/asker3.out" &
ASKER=$!
wait_until 30 "the ask file" asked || fail "no ask file (3)"
rc=0
"$UNLOCK" cryptsetup:/dev/test </dev/null >"$WORK/unlock4.out" 2>&1 || rc=$?
[ "$rc" = 69 ] || fail "a request for another Id: exit $rc, not 69: $(cat "$WORK/unlock4.out")"
printf '%s\n' "$RIGHT" | "$UNLOCK" cryptsetup:/dev/other >"$WORK/unlock5.out" 2>&1 || fail "by Id: $(cat "$WORK/unlock5.out")"
wait "$ASKER" || fail "the asker (by Id) failed"
pass "kairos-unlock: list, wrong then right (reported, journal says who, no passphrase logged), refused, answered elsewhere, by Id"
