# Sourced by the session-*.sh tests after lib.sh: the session helper behind
# tests/tools/session-launch, and OpenSSH's own clients with full host key
# checking against a known_hosts file written from the host key.
LAUNCH="$builddir/tests/tools/session-launch"
HELPER="$builddir/kairos-recovery-session"
[ -x "$LAUNCH" ] || fail "$LAUNCH is not built (make check builds it)"
[ -x "$HELPER" ] || fail "$HELPER is not built"
# Sessions run as root, with root's shell: only root can start them.
[ "$(id -u)" = 0 ] || skip "needs root (the helper runs root sessions, as kairos-recovery does)"
need ssh ssh-keygen sshpass timeout

# A host key, a token, its password and the client's configuration.
session_setup() {
	ssh-keygen -q -t ed25519 -N '' -C kairos-test -f "$WORK/hostkey" || fail "ssh-keygen failed"
	new_token "$WORK/token"
	"$LAUNCH" password --token-file "$WORK/token" >"$WORK/password" || fail "no password for the token"
	"$LAUNCH" secret --token-file "$WORK/token" >"$WORK/secret" || fail "no secret for the token"
	chmod 600 "$WORK/password" "$WORK/secret"
	PASSWORD=$(cat "$WORK/password")
	SECRET_HEX=$(cat "$WORK/secret")
	echo "kairos-test $(cut -d' ' -f1,2 "$WORK/hostkey.pub")" >"$WORK/known_hosts"
}

# Starts the launcher (extra arguments go to it); sets PORT and LAUNCH_PID.
# Events go to events.log, the helpers' log lines to helper.log. The client
# configuration reaches the helper directly, or through the tunnel with
# kairos-tunnel initiate as ProxyCommand when --transport tunnel is given.
start_server() {
	local tunnel=0 a
	for a in "$@"; do
		[ "$a" = tunnel ] && tunnel=1
	done
	bg "$LAUNCH" serve --helper "$HELPER" --token-file "$WORK/token" --hostkey "$WORK/hostkey" "$@" \
		>"$WORK/events.log" 2>"$WORK/helper.log"
	LAUNCH_PID=$LAST_PID
	wait_log "$WORK/events.log" "^listening " 60
	PORT=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/events.log")
	[ -n "$PORT" ] || fail "the launcher did not say where it listens"
	{
		echo "Host kairos-test"
		echo "  HostName 127.0.0.1"
		echo "  Port $PORT"
		echo "  User root"
		echo "  HostKeyAlias kairos-test"
		echo "  UserKnownHostsFile $WORK/known_hosts"
		echo "  GlobalKnownHostsFile /dev/null"
		echo "  StrictHostKeyChecking yes"
		echo "  PubkeyAuthentication no"
		echo "  KbdInteractiveAuthentication no"
		echo "  NumberOfPasswordPrompts 1"
		echo "  ConnectTimeout 10"
		echo "  LogLevel ERROR"
		if [ "$tunnel" = 1 ]; then
			echo "  ProxyCommand $TUNNEL initiate --token-file $WORK/token --no-relay --no-token-addresses --direct 127.0.0.1:$PORT --timeout 60 2>>$WORK/proxy.log"
		fi
	} >"$WORK/ssh_config"
}

# ssh, scp, sftp and rsync with the password from the token (sshpass reads
# it from a file: not in any argv) and the configuration above.
sssh() {
	timeout 120 sshpass -f "$WORK/password" ssh -F "$WORK/ssh_config" "$@"
}
sscp() {
	timeout 120 sshpass -f "$WORK/password" scp -F "$WORK/ssh_config" "$@"
}
ssftp() {
	# sftp -b turns BatchMode on, which forbids passwords; the first
	# value of an option wins, so this -o comes first.
	timeout 120 sshpass -f "$WORK/password" sftp -o BatchMode=no -F "$WORK/ssh_config" "$@"
}
srsync() {
	timeout 120 sshpass -f "$WORK/password" rsync -e "ssh -F $WORK/ssh_config" "$@"
}

# Waits until every helper started has ended, then checks that each ended
# well (exit 0) unless it is listed as expected to fail: a helper crash or a
# sanitizer report shows here.
helpers_done() { # [CONNECTION-NUMBER-EXPECTED-TO-FAIL...]
	local started ended n
	all_ended() {
		started=$(grep -c '^[0-9]* pid ' "$WORK/events.log" || true)
		ended=$(grep -cE '^[0-9]+ (exit|signal) ' "$WORK/events.log" || true)
		[ "$started" = "$ended" ]
	}
	wait_until 90 "every helper to end" all_ended ||
		fail "$((started - ended)) helpers still running 90 s after their clients ended"
	grep -E '^[0-9]+ (exit [1-9]|signal )' "$WORK/events.log" | while read -r n _; do
		case " $* " in
		*" $n "*) ;;
		*) echo "helper $n: $(grep "^$n " "$WORK/events.log" | tail -n 1)" ;;
		esac
	done >"$WORK/bad-exits"
	[ ! -s "$WORK/bad-exits" ] || fail "helpers ended badly: $(cat "$WORK/bad-exits")"
	if grep -q "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$WORK/helper.log"; then
		fail "sanitizer report in the helper's log"
	fi
}

# The events connection N sent, without the number (not the launcher's own
# pid and exit lines).
events_of() {
	sed -n "s/^$1 //p" "$WORK/events.log" | grep -vE '^(pid|exit|signal) ' || true
}

# The number of the last connection that reported EVENT.
last_with() {
	grep -E "^[0-9]+ $1" "$WORK/events.log" | tail -n 1 | cut -d' ' -f1
}
