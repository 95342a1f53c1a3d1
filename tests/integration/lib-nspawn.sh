# Sourced after lib.sh by the tests that boot systemd in a container
# (systemd-nspawn) on a debootstrapped Debian 12 root, as TESTING.md
# describes. The root is built once per machine (about 75 s) under a lock
# and reused read-only: each boot runs with --volatile=overlay, so nothing
# a test does in the container survives it.

NSPAWN_ROOT=${KAIROS_NSPAWN_ROOT:-/var/tmp/kairos-nspawn-root-v1}
NSPAWN_PACKAGES=systemd,systemd-sysv,dbus,iproute2,libsystemd0,libsodium23,libssh-4,libqrencode4,libpng16-16,openssh-sftp-server,rsync,procps

[ "$(id -u)" = 0 ] || skip "needs root (systemd-nspawn, debootstrap)"
need systemd-nspawn debootstrap nsenter flock

nspawn_mirror() {
	sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1 | grep . ||
		awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null | grep . ||
		echo http://deb.debian.org/debian
}

nspawn_build_root() {
	(
		flock 9
		[ -x "$NSPAWN_ROOT/usr/bin/systemctl" ] && exit 0
		rm -rf "$NSPAWN_ROOT.tmp"
		echo "# building the container root in $NSPAWN_ROOT (once; about 75 s)" >&2
		debootstrap --variant=minbase --include="$NSPAWN_PACKAGES" bookworm "$NSPAWN_ROOT.tmp" "$(nspawn_mirror)" \
			>"$WORK/debootstrap.log" 2>&1 || { tail -n 20 "$WORK/debootstrap.log" >&2; exit 1; }
		# No login prompt on the console, no getty waiting for a terminal.
		ln -sf /dev/null "$NSPAWN_ROOT.tmp/etc/systemd/system/console-getty.service"
		mv "$NSPAWN_ROOT.tmp" "$NSPAWN_ROOT"
	) 9>"$NSPAWN_ROOT.lock" || fail "cannot build the container root (see debootstrap.log)"
}

# nspawn_boot NAME [nspawn options...]: boots the container in the background
# and sets NSPAWN_PID (nspawn) and NSPAWN_INIT (the container's PID 1).
nspawn_boot() {
	local name=$1
	shift
	nspawn_build_root
	NSPAWN_NAME=$name
	# nspawn without machined puts its "payload" and "supervisor" cgroups
	# beside itself: two containers at once would share them. One at a time.
	exec 8>/run/kairos-nspawn.lock
	flock 8
	systemd-nspawn -q -D "$NSPAWN_ROOT" --boot --register=no --keep-unit --machine="$name" \
		--console=passive --volatile=overlay "$@" >"$WORK/nspawn.log" 2>&1 &
	NSPAWN_PID=$!
	PIDS="$PIDS $NSPAWN_PID"
	NSPAWN_INIT=""
	# The container's PID 1 is nspawn's child once it has exec'd systemd
	# (before that, the child is a copy of nspawn).
	wait_until 120 "the container's PID 1" nspawn_find_init ||
		fail "the container did not start in 120 s (see nspawn.log)"
	# systemctl answers once PID 1 has set up its private socket.
	wait_until 180 "the container's systemd" nspawn_system_up ||
		fail "the container's systemd did not come up in 180 s: $(cat "$WORK/nspawn-state")"
	at_cleanup nspawn_stop
}

nspawn_find_init() {
	NSPAWN_INIT=$(pgrep -P "$NSPAWN_PID" -x systemd | head -n 1 || true)
	[ -n "$NSPAWN_INIT" ]
}

nspawn_system_up() {
	nsenter -t "$NSPAWN_INIT" -a systemctl is-system-running --wait >"$WORK/nspawn-state" 2>&1 ||
		grep -q "degraded\|running" "$WORK/nspawn-state"
}

nspawn_run() { # CMD... inside the container
	nsenter -t "$NSPAWN_INIT" -a "$@"
}

# Until the journal of UNIT in the container, in journalctl's output FORMAT
# (cat, json, ...), holds TEXT (30 s): journald writes what it received a
# moment after the unit has said or done it, later still under load.
nspawn_journal_has() { # UNIT FORMAT TEXT
	nspawn_run journalctl -u "$1" -o "$2" --no-pager 2>/dev/null | grep -qF -- "$3"
}
nspawn_journal_wait() { # UNIT FORMAT TEXT
	wait_until 30 "'$3' in the journal of $1" nspawn_journal_has "$@"
}

nspawn_stop() {
	[ -n "${NSPAWN_INIT:-}" ] || return 0
	nsenter -t "$NSPAWN_INIT" -a systemctl poweroff >/dev/null 2>&1 || true
	for _ in $(seq 100); do
		kill -0 "$NSPAWN_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$NSPAWN_PID" 2>/dev/null; then
		kill -9 "$NSPAWN_INIT" 2>/dev/null || true
		sleep 0.5
		kill -9 "$NSPAWN_PID" 2>/dev/null || true
	fi
	wait "$NSPAWN_PID" 2>/dev/null || true
	NSPAWN_INIT=""
	# What nspawn leaves on this host when systemd is not PID 1 here:
	# its cgroups (deepest first) and its runtime folders.
	for d in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do
		for top in payload supervisor; do
			[ -d "$d/$top" ] && find "$d/$top" -depth -type d -exec rmdir {} \; 2>/dev/null
		done
	done
	rm -rf "/run/systemd/nspawn/propagate/$NSPAWN_NAME" "/run/systemd/nspawn/unix-export/$NSPAWN_NAME" 2>/dev/null || true
	flock -u 8 2>/dev/null || true
}

# nspawn_install_kairos: "make install" into $WORK/dest, and the options
# that put the programs, the units, the libraries the container lacks and
# $WORK/etc-kairos (the container's /etc/kairos, for recovery.conf) into it.
# Sets NSPAWN_BINDS (an array, for nspawn_boot), KAIROS_PREFIX (where the
# programs are in the container) and KAIROS_RECOVERY (the daemon there).
nspawn_install_kairos() {
	local dest="$WORK/dest" service daemon unitdir u lib
	make -C "$builddir" install DESTDIR="$dest" >"$WORK/install.log" 2>&1 || fail "make install failed (see install.log)"
	# Where make install put things (under make distcheck, a prefix of its own).
	service=$(find "$dest" -name kairos-recovery.service -type f | head -n 1)
	daemon=$(find "$dest" -path "*/sbin/kairos-recovery" -type f | head -n 1)
	[ -n "$service" ] && [ -n "$daemon" ] || fail "make install did not install the daemon and its units"
	unitdir=$(dirname "${service#"$dest"}")
	KAIROS_PREFIX=$(dirname "$(dirname "${daemon#"$dest"}")")
	KAIROS_RECOVERY="$KAIROS_PREFIX/sbin/kairos-recovery" # the path in the container, on PATH or not
	mkdir -p "$WORK/etc-kairos"
	NSPAWN_BINDS=(--bind-ro="$dest$KAIROS_PREFIX:$KAIROS_PREFIX" --bind-ro="$WORK/etc-kairos:/etc/kairos")
	for u in kairos-recovery.target kairos-recovery.service kairos-recovery.socket kairos-recovery-ssh.socket \
		kairos-recovery-shell@.service; do
		NSPAWN_BINDS+=(--bind-ro="$dest$unitdir/$u:/etc/systemd/system/$u")
	done
	# The journal catalog, where journalctl --update-catalog looks.
	local catalog
	catalog=$(find "$dest" -name kairos.catalog -type f | head -n 1)
	[ -z "$catalog" ] || NSPAWN_BINDS+=(--bind-ro="$catalog:/usr/lib/systemd/catalog/kairos.catalog")
	# Libraries the build links that the container lacks (the sanitizer runtimes).
	for lib in $(ldd "$dest$KAIROS_PREFIX/sbin/kairos-recovery" "$dest$KAIROS_PREFIX/libexec/kairos/kairos-recovery-session" \
		"$dest$KAIROS_PREFIX/bin/kairos-bridge" |
		awk '/=> \// { print $3 }' | sort -u); do
		[ -e "$NSPAWN_ROOT$lib" ] || NSPAWN_BINDS+=(--bind-ro="$lib:$lib")
	done
}
