#!/bin/bash
# File transfers with OpenSSH's own tools against the session helper:
# scp (SFTP protocol, the default since OpenSSH 9) and scp -O (the legacy
# protocol: scp's server side through exec), 64 MiB each way, byte-exact;
# sftp -b put and get; rsync of a directory tree (rsync --server by exec),
# then an incremental run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"
need scp sftp rsync cmp diff
sftp_server=""
for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/libexec/sftp-server; do
	[ -x "$p" ] && sftp_server=$p
done
[ -n "$sftp_server" ] || skip "no sftp-server (package openssh-sftp-server)"

session_setup
start_server
head -c 64M /dev/urandom >"$WORK/big"

# scp over SFTP, both ways.
sscp "$WORK/big" "kairos-test:$WORK/up.sftp" || fail "scp upload failed"
cmp -s "$WORK/big" "$WORK/up.sftp" || fail "scp upload: 64 MiB arrived different"
sscp "kairos-test:$WORK/big" "$WORK/down.sftp" || fail "scp download failed"
cmp -s "$WORK/big" "$WORK/down.sftp" || fail "scp download: 64 MiB arrived different"

# scp -O: "scp -t" and "scp -f" on the server, by exec.
sscp -O "$WORK/big" "kairos-test:$WORK/up.legacy" || fail "scp -O upload failed"
cmp -s "$WORK/big" "$WORK/up.legacy" || fail "scp -O upload: 64 MiB arrived different"
sscp -O "kairos-test:$WORK/big" "$WORK/down.legacy" || fail "scp -O download failed"
cmp -s "$WORK/big" "$WORK/down.legacy" || fail "scp -O download: 64 MiB arrived different"

# Key re-exchanges in the middle of bulk data both ways (the client asks
# for one every MiB): nothing lost, nothing stuck.
head -c 16M "$WORK/big" >"$WORK/mid"
sssh -o RekeyLimit=1M kairos-test cat <"$WORK/mid" >"$WORK/mid.back" || fail "cat with frequent re-keying failed"
cmp -s "$WORK/mid" "$WORK/mid.back" || fail "16 MiB with frequent re-keying came back different"

# The window the helper opens for client data: libssh alone opens 1.28 MB
# at a time, which caps a transfer through the relay at 1.28 MB a round trip;
# the helper keeps 4 MiB open, as OpenSSH's client sees in its adjustments
# (debug2 "rcvd adjust N"), one of them past what libssh alone would send.
sssh -vv kairos-test 'cat >/dev/null' <"$WORK/mid" 2>"$WORK/window.log" || fail "cat of 16 MiB with ssh -vv failed"
largest=$(sed -n 's/.*channel 0: rcvd adjust \([0-9]*\).*/\1/p' "$WORK/window.log" | sort -n | tail -n 1)
[ "${largest:-0}" -gt 1280000 ] ||
	fail "the helper never opened the client's window past libssh's own 1.28 MB (largest adjustment: ${largest:-none}): libssh changed how ssh_channel_read_timeout grows the window? See window_top_up() in src/session/channel.c"

# sftp in batch mode: put, get, ls, rm, and a failing command fails it.
mkdir "$WORK/remote"
cat >"$WORK/batch" <<EOF
put $WORK/big $WORK/remote/put
get $WORK/remote/put $WORK/got
ls -l $WORK/remote
mkdir $WORK/remote/dir
rename $WORK/remote/put $WORK/remote/dir/moved
EOF
ssftp -b "$WORK/batch" kairos-test >"$WORK/sftp.out" 2>&1 || fail "sftp -b failed: $(cat "$WORK/sftp.out")"
cmp -s "$WORK/big" "$WORK/remote/dir/moved" || fail "sftp put: 64 MiB arrived different"
cmp -s "$WORK/big" "$WORK/got" || fail "sftp get: 64 MiB arrived different"
echo "get $WORK/remote/nonexistent $WORK/nothing" >"$WORK/batch2"
if ssftp -b "$WORK/batch2" kairos-test >/dev/null 2>&1; then
	fail "sftp -b with a failing get succeeded"
fi

# rsync of a tree with subdirectories, modes, a symlink, an empty file and
# a name with spaces; then a change, a deletion and a second run.
mkdir -p "$WORK/tree/a/b/c" "$WORK/tree/empty dir"
head -c 3M /dev/urandom >"$WORK/tree/a/b/c/blob"
echo hello >"$WORK/tree/a/file one"
: >"$WORK/tree/a/empty"
chmod 751 "$WORK/tree/a/b"
chmod 600 "$WORK/tree/a/file one"
ln -s "a/file one" "$WORK/tree/link"
srsync -a "$WORK/tree/" "kairos-test:$WORK/mirror/" || fail "rsync to the machine failed"
diff -r --no-dereference "$WORK/tree" "$WORK/mirror" || fail "the rsync copy differs"
[ "$(stat -c %a "$WORK/mirror/a/b")" = 751 ] || fail "rsync -a lost a directory mode"
[ "$(readlink "$WORK/mirror/link")" = "a/file one" ] || fail "rsync -a lost the symlink"
echo changed >"$WORK/tree/a/file one"
rm "$WORK/tree/a/empty"
srsync -a --delete --stats "$WORK/tree/" "kairos-test:$WORK/mirror/" >"$WORK/rsync2.out" ||
	fail "the second rsync failed"
diff -r --no-dereference "$WORK/tree" "$WORK/mirror" || fail "the second rsync left a difference"
grep -q "Number of regular files transferred: 1" "$WORK/rsync2.out" ||
	fail "the second rsync did not transfer only the changed file: $(grep transferred "$WORK/rsync2.out")"
srsync -a "kairos-test:$WORK/tree/" "$WORK/back/" || fail "rsync from the machine failed"
diff -r --no-dereference "$WORK/tree" "$WORK/back" || fail "the rsync copy back differs"

helpers_done
pass "scp and scp -O 64 MiB both ways, re-keying under load, sftp -b put/get, rsync trees both ways and incrementally"
