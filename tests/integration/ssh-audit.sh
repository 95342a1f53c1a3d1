#!/bin/bash
# The SSH algorithm policy (src/session/ssh-policy.c, kairos-recovery(8)
# "SSH ALGORITHMS"), seen from outside as an auditor and as clients see it:
# - ssh-audit against the daemon's plain SSH socket and against the session
#   behind the tunnel (kairos-bridge's listening port): no [fail], and no
#   [warn] but the ones listed below as deliberate; the algorithms offered
#   are exactly the policy's (what this libssh implements of it);
# - OpenSSH's own sshd (9.2, Debian's defaults: its three host key types),
#   audited the same way in the same run, for comparison;
# - today's ssh with its defaults, and ssh limited to the default algorithm
#   sets of OpenSSH 6.5 (the oldest client the policy serves) and 7.4 (RHEL
#   7), as far as today's ssh still knows those names, log in and run a
#   command; a client offering only what the policy left out is refused;
# - a configured ECDSA host key is passed over with a warning.
# The counts are printed as "# ..." lines.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
need ssh-audit ssh-keygen
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || skip "$SSHD is not installed (tools/install-deps installs openssh-server)"
[ "$(id -u)" = 0 ] || skip "OpenSSH's sshd as the baseline needs root"

# Warnings that are deliberate, as "(section) algorithm -- [warn] text"
# patterns (grep -E) with the reason; each one is also in kairos-recovery(8).
ALLOWED_WARNINGS=(
	# Not an algorithm: the marker by which a server says it does strict
	# key exchange, OpenSSH's countermeasure to the Terrapin attack
	# (CVE-2023-48795), which libssh 0.10.6 implements. ssh-audit 2.5.0
	# predates it and calls every name it does not know an "unknown
	# algorithm"; without the marker the attack would be open again.
	'^\(kex\) kex-strict-s-v00@openssh\.com +-- \[warn\] unknown algorithm$'
)

BRIDGE="$builddir/kairos-bridge"
export XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

# audit NAME PORT: ssh-audit's report in $WORK/audit-NAME.txt (no colours),
# its [fail] and [warn] lines in $WORK/audit-NAME.fail and .warn.
audit() {
	local name=$1 port=$2 rc=0
	ssh-audit -n -t 20 -p "$port" 127.0.0.1 >"$WORK/audit-$name.txt" 2>&1 || rc=$?
	# 0: nothing to report, 1: warnings, 2: failures, 3: names it does not
	# know; anything else is an audit that did not happen.
	case "$rc" in 0 | 1 | 2 | 3) ;; *) fail "ssh-audit of $name exited $rc: $(tail -n 5 "$WORK/audit-$name.txt")" ;; esac
	grep -q '^(kex) ' "$WORK/audit-$name.txt" || fail "ssh-audit of $name saw no key exchange: $(tail -n 5 "$WORK/audit-$name.txt")"
	grep -F '[fail]' "$WORK/audit-$name.txt" >"$WORK/audit-$name.fail" || true
	grep -F '[warn]' "$WORK/audit-$name.txt" >"$WORK/audit-$name.warn" || true
	echo "# ssh-audit $(ssh-audit --help 2>&1 | grep -o 'v[0-9][0-9.]*' | head -n 1) on $name:" \
		"$(wc -l <"$WORK/audit-$name.fail") fail, $(wc -l <"$WORK/audit-$name.warn") warn"
}

# The algorithm names ssh-audit saw in one section (kex, key, enc, mac).
offered() { # NAME SECTION
	sed -n "s/^($2) \([^ ]*\).*/\1/p" "$WORK/audit-$1.txt" | tr '\n' ',' | sed 's/,$//'
}

# No [fail]; every [warn] matches an allowed pattern.
check_clean() { # NAME
	local name=$1 line ok p
	[ ! -s "$WORK/audit-$name.fail" ] || fail "ssh-audit fails $name: $(tr -s ' ' <"$WORK/audit-$name.fail")"
	while IFS= read -r line; do
		ok=no
		for p in "${ALLOWED_WARNINGS[@]}"; do
			grep -qE -- "$p" <<<"$line" && ok=yes
		done
		[ "$ok" = yes ] || fail "ssh-audit warns about $name, and no documented reason allows it: $(tr -s ' ' <<<"$line")"
	done <"$WORK/audit-$name.warn"
}

# What this libssh offers of the policy: the lists in ssh-policy.c less the
# names libssh does not implement (it drops them). Post-quantum hybrids are
# allowed here, since a newer libssh offers them.
check_policy() { # NAME
	local name=$1 kex key enc mac
	# The Terrapin countermeasure's marker travels in the key exchange list.
	offered "$name" kex | grep -q 'kex-strict-s-v00@openssh.com' ||
		fail "$name does not offer strict key exchange (kex-strict-s-v00@openssh.com)"
	kex=$(offered "$name" kex | sed 's/,\?kex-strict-s-v00@openssh.com//')
	key=$(offered "$name" key)
	enc=$(offered "$name" enc)
	mac=$(offered "$name" mac)
	echo "# $name offers: kex $kex; host key $key; ciphers $enc; MACs $mac"
	case "$(sed 's/\(sntrup761x25519-sha512@openssh.com\|mlkem768x25519-sha256\),//g' <<<"$kex")" in
	curve25519-sha256,curve25519-sha256@libssh.org) ;;
	*) fail "$name offers the key exchanges $kex, not the policy's" ;;
	esac
	case "$kex" in
	*sntrup761* | *mlkem768*) echo "# $name offers post-quantum key exchange: $kex" ;;
	*) echo "# $name offers no post-quantum key exchange (this libssh has none)" ;;
	esac
	[ "$key" = ssh-ed25519 ] || fail "$name offers the host key algorithms $key, not ssh-ed25519"
	[ "$enc" = chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes128-ctr ] ||
		fail "$name offers the ciphers $enc, not the policy's"
	[ "$mac" = hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com ] ||
		fail "$name offers the MACs $mac, not the policy's"
}

start_recovery "PlainSSH=yes"

# The daemon's plain SSH socket, as an outsider on the network sees it.
audit kairos-plain "$SSH_PORT"

# The session behind the tunnel: the same helper, reached through the bridge.
LISTEN_PORT=$(free_port)
bg "$BRIDGE" --token-file "$RUN/token" --direct "127.0.0.1:$TUNNEL_PORT" --direct-only \
	--listen "127.0.0.1:$LISTEN_PORT" --timeout 30 >"$WORK/bridge.log" 2>&1
wait_log "$WORK/bridge.log" "SSH server reachable at" 40
audit kairos-tunnel "$LISTEN_PORT"

# OpenSSH's sshd with Debian's defaults: no algorithm settings, the three
# host key types the package generates (ssh-keygen -A).
SSHD_PORT=$(free_port)
ssh-keygen -q -t rsa -b 3072 -N "" -f "$WORK/sshd_rsa_key"
ssh-keygen -q -t ecdsa -b 256 -N "" -f "$WORK/sshd_ecdsa_key"
ssh-keygen -q -t ed25519 -N "" -f "$WORK/sshd_ed25519_key"
cat >"$WORK/sshd_config" <<CONF
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $WORK/sshd_rsa_key
HostKey $WORK/sshd_ecdsa_key
HostKey $WORK/sshd_ed25519_key
PidFile $WORK/sshd.pid
UsePAM no
CONF
mkdir -p /run/sshd
bg "$SSHD" -D -f "$WORK/sshd_config" -E "$WORK/sshd.log"
wait_port "$SSHD_PORT"
audit openssh-sshd "$SSHD_PORT"
echo "# OpenSSH sshd is $("$SSHD" -V 2>&1 | head -n 1)"

check_clean kairos-plain
check_policy kairos-plain
check_clean kairos-tunnel
check_policy kairos-tunnel
# Both are the same server: the same report but for the banner's timing.
diff <(grep -E '^\((kex|key|enc|mac)\)' "$WORK/audit-kairos-plain.txt") \
	<(grep -E '^\((kex|key|enc|mac)\)' "$WORK/audit-kairos-tunnel.txt") >/dev/null ||
	fail "the session behind the tunnel offers other algorithms than the plain SSH socket"

# Clients. ssh -v says what was agreed on ("kex: algorithm: ...").
login() { # WHAT SSH-OPTIONS...
	local what=$1 out
	shift
	out=$(ssh_plain -v "$@" 'echo logged-in' 2>"$WORK/client.err") ||
		fail "$what: ssh failed: $(grep -v '^debug' "$WORK/client.err" | tail -n 3)"
	[ "$out" = logged-in ] || fail "$what: ssh said '$out'"
	echo "# $what: $(sed -n 's/^debug1: kex: algorithm: /kex /p; s/^debug1: kex: host key algorithm: /host key /p; s/^debug1: kex: client->server cipher: \(.*\) compression.*/cipher \1/p' "$WORK/client.err" | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
}
login "today's ssh, its defaults"

# OpenSSH 6.5's defaults (myproposal.h of January 2014) less what today's
# ssh no longer knows (arcfour, blowfish-cbc, cast128-cbc, rijndael-cbc,
# hmac-ripemd160, the -cert-v00 host keys).
login "OpenSSH 6.5 defaults" \
	-o KexAlgorithms=curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group-exchange-sha1,diffie-hellman-group14-sha1,diffie-hellman-group1-sha1 \
	-o HostKeyAlgorithms=ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,ssh-ed25519-cert-v01@openssh.com,ssh-rsa-cert-v01@openssh.com,ssh-dss-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,ssh-ed25519,ssh-rsa,ssh-dss \
	-o Ciphers=aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-cbc,3des-cbc,aes192-cbc,aes256-cbc \
	-o MACs=hmac-md5-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-96-etm@openssh.com,hmac-md5-96-etm@openssh.com,hmac-md5,hmac-sha1,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1-96,hmac-md5-96

# OpenSSH 7.4's defaults (RHEL and CentOS 7), all still known.
login "OpenSSH 7.4 defaults" \
	-o KexAlgorithms=curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group14-sha256,diffie-hellman-group14-sha1 \
	-o HostKeyAlgorithms=ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,ssh-ed25519-cert-v01@openssh.com,ssh-rsa-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ssh-rsa \
	-o Ciphers=chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com \
	-o MACs=umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1

# A CTR cipher agrees on an encrypt-then-MAC, the only MACs there are.
login "aes128-ctr" -o Ciphers=aes128-ctr

# Left out means refused: each of these alone finds nothing in common.
refused() { # WHAT SSH-OPTIONS...
	local what=$1
	shift
	if ssh_plain "$@" true 2>"$WORK/refused.err"; then
		fail "a client with only $what logged in"
	fi
	grep -q "no matching" "$WORK/refused.err" || fail "$what: not refused for want of a common algorithm: $(cat "$WORK/refused.err")"
}
refused "ecdh-sha2-nistp256" -o KexAlgorithms=ecdh-sha2-nistp256
refused "diffie-hellman-group14-sha256" -o KexAlgorithms=diffie-hellman-group14-sha256
refused "hmac-sha2-256 (encrypt-and-MAC)" -o Ciphers=aes128-ctr -o MACs=hmac-sha2-256,hmac-sha2-512
refused "aes256-cbc" -o Ciphers=aes256-cbc
refused "ecdsa and rsa host keys" -o HostKeyAlgorithms=ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256

# A configured host key of a type the policy does not serve is passed over
# with a warning, as a missing one is: sessions still start, with a key
# made for this boot.
kill "$RECOVERY_PID"
wait "$RECOVERY_PID" 2>/dev/null || true
ssh-keygen -q -t ecdsa -N "" -f "$WORK/configured_ecdsa_key"
start_recovery "PlainSSH=yes" "HostKey=$WORK/configured_ecdsa_key" "Relay="
grep -q "Host key $WORK/configured_ecdsa_key is ecdsa-sha2-nistp256, but the SSH server offers Ed25519 host keys only" \
	"$WORK/recovery.log" || fail "no warning about the configured ECDSA host key"
[ "$(ssh_plain 'echo ok')" = ok ] || fail "no login with an ECDSA key configured"

pass "no fail, no undocumented warn from ssh-audit on the plain socket and behind the tunnel;" \
	"OpenSSH 6.5's and 7.4's default sets and today's ssh log in; what the policy leaves out is refused"
