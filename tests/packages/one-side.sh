#!/bin/bash
# Builds for one side (issue 14), from a copy of what make dist ships, each
# in a fresh folder (VPATH), installed with make install DESTDIR=:
# - ./configure --disable-recovery, inside a fresh Debian 12 root that has
#   only what `tools/install-deps build-bridge` installs (so none of the
#   daemon's libraries: no libssh-dev, no libqrencode-dev): it configures,
#   builds and installs kairos-bridge, its man page and completion, and
#   nothing of the machine's side; the installed program loads none of the
#   daemon's libraries (libssh, libqrencode);
# - ./configure --disable-bridge, on this host: the daemon, its helpers,
#   units, dracut module, GRUB entry and man pages, nothing of the bridge;
#   none of the installed programs loads a library of the bridge's photo
#   reader (libzbar, libjpeg, libheif, libwebp).
# make check-packages runs it (root, the Debian archive, a few minutes); the
# Debian 12 root is the one tests/packages/installed.sh keeps in the build
# tree (tests/packages/bookworm-minbase.tar), debootstrapped here if absent.
. "$(dirname "$0")/../integration/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, systemd-nspawn)"
need debootstrap systemd-nspawn flock readelf ldd make

. "$(dirname "$0")/lib-packages.sh"

version=$(sed -n 's/^PACKAGE_VERSION=.\(.*\).$/\1/p' "$builddir/configure" 2>/dev/null || true)
[ -n "$version" ] || version=$(sed -n 's/^AC_INIT(\[kairos\], \[\([^]]*\)\].*/\1/p' "$srcdir/configure.ac")
SRC="$WORK/src/kairos-$version"
mkdir -p "$WORK/src"
make -C "$builddir" distdir distdir="$SRC" >"$WORK/distdir.log" 2>&1 || fail "make distdir failed (see distdir.log)"

# What each side installs, and what it must not: paths under DESTDIR.
bridge_files='/usr/bin/kairos-bridge$|/man1/kairos-bridge\.1|/completions/kairos-bridge$|/site-functions/_kairos-bridge$'
recovery_files='/usr/sbin/kairos-recovery$|/usr/sbin/kairos-unlock$|/man8/kairos-unlock\.8|/kairos-recovery-session$|/kairos-recovery\.service$|/kairos-recovery\.socket$|/kairos-recovery\.target$|/grub\.d/|/dracut/modules\.d/|/man8/kairos-recovery\.8|/man5/kairos-recovery\.conf\.5|/man7/kairos-recovery-boot\.7'
# Libraries only the other side needs (ldd: also those that come along).
daemon_libs='libssh\.so|libqrencode\.so'
bridge_libs='libzbar\.so|libjpeg\.so|libheif\.so|libwebp\.so|libwebpdemux\.so'

check_side() { # DESTDIR SIDE MUST-HAVE-PATTERN MUST-NOT-PATTERN FOREIGN-LIBS LDD-PREFIX...
	local dest=$1 side=$2 have=$3 not=$4 libs=$5 n p missing
	shift 5
	(cd "$dest" && find . ! -type d | sed 's|^\.||' | sort) >"$WORK/$side.files"
	[ -s "$WORK/$side.files" ] || fail "$side: make install installed nothing"
	for p in $(echo "$have" | tr '|' ' '); do
		grep -Eq -- "$p" "$WORK/$side.files" || missing="${missing:-} $p"
	done
	[ -z "${missing:-}" ] || fail "$side: not installed:$missing (installed: $(tr '\n' ' ' <"$WORK/$side.files"))"
	grep -E -- "$not" "$WORK/$side.files" >"$WORK/$side.foreign" &&
		fail "$side: installs the other side's files: $(tr '\n' ' ' <"$WORK/$side.foreign")"
	n=0
	while read -r f; do
		[ "$(head -c 4 "$dest$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
		n=$((n + 1))
		readelf -d "$dest$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' >"$WORK/needed"
		"$@" ldd "${dest#"${LDD_ROOT:-}"}$f" >"$WORK/ldd" 2>&1 || fail "$side: ldd $f failed: $(cat "$WORK/ldd")"
		grep -q "not found" "$WORK/ldd" && fail "$side: $f needs a library that is not there: $(grep 'not found' "$WORK/ldd")"
		if grep -Eq -- "$libs" "$WORK/needed" "$WORK/ldd"; then
			fail "$side: $f loads the other side's libraries: $(grep -Eho -- "$libs" "$WORK/needed" "$WORK/ldd" | sort -u | tr '\n' ' ')"
		fi
		echo "# $side: $f: $(wc -l <"$WORK/needed") libraries needed, $(grep -c '=>' "$WORK/ldd") loaded, none of the other side's"
	done <"$WORK/$side.files"
	[ "$n" -gt 0 ] || fail "$side: no program installed"
}

# The machine's side, on this host: built while the root below fetches and
# installs its packages (the network's time, not the CPU's).
mkdir -p "$WORK/build-recovery"
(cd "$WORK/build-recovery" && "$SRC/configure" --prefix=/usr --sysconfdir=/etc --disable-bridge &&
	make -j2 && make install DESTDIR="$WORK/dest-recovery") >"$WORK/recovery-build.log" 2>&1 &
recovery_build=$!
PIDS="$PIDS $recovery_build"

# The workstation's side, in a root with the bridge's build group only.
base_root

WS="$WORK/ws"
in_ws() { # CMD...: in the root (not booted), on this host's network (the archive)
	local rc=0
	flock /run/kairos-nspawn.lock systemd-nspawn -q -D "$WS" --register=no --keep-unit --machine="kside-$$" \
		--console=pipe --bind-ro="$SRC:/src" --setenv=DEBIAN_FRONTEND=noninteractive "$@" </dev/null || rc=$?
	nspawn_tidy
	rm -rf "/run/systemd/nspawn/propagate/kside-$$" "/run/systemd/nspawn/unix-export/kside-$$"
	return $rc
}
mkdir -p "$WS" && tar -C "$WS" -xf "$BASE_TAR" || fail "cannot unpack $BASE_TAR"
in_ws /src/tools/install-deps build-bridge >"$WORK/bridge-deps.log" 2>&1 ||
	fail "tools/install-deps build-bridge failed in the root: $(tail -n 10 "$WORK/bridge-deps.log")"
wait "$recovery_build" ||
	fail "--disable-bridge: configure, make or make install failed: $(tail -n 15 "$WORK/recovery-build.log")"
grep -q "checking for zbar\|checking for libjpeg\|checking for libheif\|checking for libwebp" "$WORK/recovery-build.log" &&
	fail "--disable-bridge: configure still looks for the bridge's libraries"
check_side "$WORK/dest-recovery" recovery "$recovery_files" "$bridge_files" "$bridge_libs"

in_ws dpkg-query -W -f '${Package} ${Status}\n' >"$WORK/ws-packages" 2>&1
grep -E '^(libssh-dev|libqrencode-dev|libssh-4|libqrencode4) .* installed$' "$WORK/ws-packages" &&
	fail "install-deps build-bridge installed the daemon's libraries"
in_ws sh -c 'mkdir -p /build && cd /build && /src/configure --prefix=/usr --disable-recovery && make -j2 &&
	make install DESTDIR=/dest' >"$WORK/bridge-build.log" 2>&1 ||
	fail "--disable-recovery with only the bridge's build group: $(tail -n 15 "$WORK/bridge-build.log")"
LDD_ROOT="$WS" check_side "$WS/dest" bridge "$bridge_files" "$recovery_files" "$daemon_libs" in_ws
out=$(in_ws /dest/usr/bin/kairos-bridge --version 2>&1) || fail "the bridge built in the root does not run there: $out"
case "$out" in *"kairos-bridge $version"*) ;; *) fail "kairos-bridge --version in the root said: $out" ;; esac

pass "--disable-bridge (host) and --disable-recovery (a Debian 12 root with install-deps build-bridge only): each configures, builds and installs its side's programs, units and man pages only, and loads none of the other side's libraries"
