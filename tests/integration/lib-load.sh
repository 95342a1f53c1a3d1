# Sourced by the load tests after lib-recovery.sh: what the daemon holds
# (file descriptors, processes, memory) sampled while the load runs, and
# its idle counts to come back to.

# The sanitizer build runs the daemon, its helpers and the bridges several
# times slower (20 bridges at once: 70 s under ASan beside make -j4 check,
# 14 s without): a load test's time bound is for the normal build, three
# times that under ASan (as fault-sessions does for memory). A bridge or
# session that waits forever, or work done one at a time, still fails.
load_time_bound() { # SECONDS
	if ldd "$RECOVERY" 2>/dev/null | grep -q libasan; then
		echo $(($1 * 3))
	else
		echo "$1"
	fi
}

# load_sampler_start DAEMON: samples every 0.1 s into $WORK/samples
# ("fds processes pss-KiB" of the daemon and everything under it: helpers,
# shells, commands), until load_sampler_stop.
load_sampler_start() {
	python3 "$srcdir/tests/integration/proc-sample.py" "$1" "$WORK/samples" "$WORK/sampler.stop" &
	SAMPLER=$!
	PIDS="$PIDS $SAMPLER"
}

# Sets PEAK_FDS, PEAK_PROCS, PEAK_PSS_MIB.
load_sampler_stop() {
	touch "$WORK/sampler.stop"
	wait "$SAMPLER" 2>/dev/null || true
	read -r PEAK_FDS PEAK_PROCS PEAK_PSS_MIB < <(awk '
		$1 > f { f = $1 } $2 > p { p = $2 } $3 > r { r = $3 }
		END { printf "%d %d %.0f\n", f, p, r / 1024 }' "$WORK/samples")
}

# Until the daemon has no children and at most its idle fds (120 s).
daemon_idle() { # DAEMON IDLE-FDS
	kids=$(pgrep -P "$1" | wc -l)
	fds=$(ls "/proc/$1/fd" | wc -l)
	[ "$kids" = 0 ] && [ "$fds" -le "$2" ]
}
wait_daemon_idle() { # DAEMON IDLE-FDS
	local fds kids
	wait_until 120 "the daemon to be idle after the load" daemon_idle "$1" "$2" ||
		fail "120 s after the load the daemon still has $kids children and $fds fds ($2 when idle)"
}
