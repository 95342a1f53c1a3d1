#!/bin/bash
# kairos-recovery under systemd-socket-activate with both named sockets:
# real OpenSSH clients reach a root shell over the plain SSH socket, and
# through the encrypted tunnel on the direct path and through the relay;
# stdout, stderr and the exit status stay apart and exact; scp (both modes),
# sftp and rsync move files byte for byte; after a rotation the old token
# opens nothing and the new one works.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
need scp sftp rsync

start_recovery "PlainSSH=yes"

for how in ssh_plain ssh_tunnel ssh_relay; do
	out=$($how 'echo out; echo err >&2; exit 7' 2>"$WORK/err") && rc=0 || rc=$?
	[ "$rc" = 7 ] || fail "$how: exit status $rc, expected 7 ($(tail -n 3 "$WORK/err"))"
	[ "$out" = out ] || fail "$how: stdout '$out', expected 'out'"
	grep -qx err "$WORK/err" || fail "$how: stderr does not hold 'err': $(cat "$WORK/err")"
done
[ "$(ssh_tunnel 'id -u; echo $HOME')" = "$(printf '0\n/root')" ] || fail "the tunnel's shell is not root's"

head -c 16M /dev/urandom >"$WORK/blob"
sshpass -p "$PASSWORD" scp -q -o UserKnownHostsFile="$KNOWN_HOSTS" -o HostKeyAlias=kairos-recovery \
	-o ProxyCommand="$TUNNEL initiate --token-file $RUN/token --no-relay --no-token-addresses --direct 127.0.0.1:$TUNNEL_PORT" \
	"$WORK/blob" root@recovery:"$WORK/blob.scp" || fail "scp (SFTP mode) through the tunnel failed"
cmp "$WORK/blob" "$WORK/blob.scp" || fail "scp (SFTP mode) did not copy byte for byte"
sshpass -p "$PASSWORD" scp -O -q -o UserKnownHostsFile="$KNOWN_HOSTS" -o HostKeyAlias=kairos-recovery \
	-o ProxyCommand="$TUNNEL initiate --token-file $RUN/token --no-token-addresses" \
	root@recovery:"$WORK/blob" "$WORK/blob.scp-O" || fail "scp -O through the relay failed"
cmp "$WORK/blob" "$WORK/blob.scp-O" || fail "scp -O did not copy byte for byte"
printf 'put %s %s\nget %s %s\n' "$WORK/blob" "$WORK/blob.sftp-up" "$WORK/blob" "$WORK/blob.sftp-down" |
	sshpass -p "$PASSWORD" sftp -q -o BatchMode=no -b - -o UserKnownHostsFile="$KNOWN_HOSTS" -P "$SSH_PORT" root@127.0.0.1 \
	>"$WORK/sftp.log" 2>&1 || fail "sftp -b over the plain socket failed: $(tail -n 3 "$WORK/sftp.log")"
cmp "$WORK/blob" "$WORK/blob.sftp-down" || fail "sftp get did not copy byte for byte"
mkdir -p "$WORK/tree/a/b" && echo one >"$WORK/tree/a/1" && cp "$WORK/blob" "$WORK/tree/a/b/2"
sshpass -p "$PASSWORD" rsync -a -e "ssh -o UserKnownHostsFile=$KNOWN_HOSTS -p $SSH_PORT" "$WORK/tree/" \
	root@127.0.0.1:"$WORK/tree.copy/" || fail "rsync over ssh failed"
diff -r "$WORK/tree" "$WORK/tree.copy" || fail "rsync did not copy the tree exactly"

grep -q "Session .* opened: root logged in with password from relay" "$WORK/recovery.log" ||
	fail "the log does not show a session opened through the relay"
grep -q "Session .* opened: root logged in with password from direct 127.0.0.1" "$WORK/recovery.log" ||
	fail "the log does not show a session opened on the direct path"
if grep -q "$PASSWORD" "$WORK/recovery.log"; then
	fail "the password appears in the daemon's log"
fi

cp "$RUN/token" "$WORK/old-token"
old_password=$PASSWORD
RUNTIME_DIRECTORY="$RUN" "$RECOVERY" --config "$WORK/recovery.conf" rotate >"$WORK/rotate.out" ||
	fail "kairos-recovery rotate failed"
read_state
[ "$PASSWORD" != "$old_password" ] || fail "rotate kept the password"
grep -q "Token rotated" "$WORK/recovery.log" || fail "no 'Token rotated' in the log"
rc=0
echo | "$TUNNEL" initiate --token-file "$WORK/old-token" --no-relay --no-token-addresses \
	--direct "127.0.0.1:$TUNNEL_PORT" --timeout 3 >/dev/null 2>"$WORK/old.log" || rc=$?
[ "$rc" != 0 ] || fail "the old token still opens a tunnel after rotate"
grep -q "says the token was rotated" "$WORK/old.log" || fail "the old token's failure is not reported as a rotation: $(cat "$WORK/old.log")"
[ "$(ssh_tunnel 'echo new')" = new ] || fail "the new token does not work after rotate"
rc=0
sshpass -p "$old_password" ssh -o UserKnownHostsFile="$KNOWN_HOSTS" -p "$SSH_PORT" -o NumberOfPasswordPrompts=1 \
	root@127.0.0.1 true 2>/dev/null || rc=$?
[ "$rc" = 255 ] || fail "the old password still logs in after rotate (ssh exit $rc)"
pass "ssh, scp (both modes), sftp, rsync over plain SSH, the direct tunnel and the relay; rotate refuses the old token"
