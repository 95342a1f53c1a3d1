#!/bin/bash
# The journal explains kairos' events: every MESSAGE_ID of src/shared/log.h
# is a random 128-bit ID with an entry in catalog/kairos.catalog, the
# installed catalog is what journalctl --update-catalog accepts, and an
# event logged by kairos-recovery to a real journald (private to this test)
# carries SYSLOG_IDENTIFIER= and shows its explanation under journalctl -x.
# The event: the daemon started without its session helper, which stops
# it with exit status 72 (EX_OSFILE) and a message that says why.
if [ "${KAIROS_PRIVATE_JOURNAL:-}" != 1 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; then
	KAIROS_PRIVATE_JOURNAL=1 exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
[ "${KAIROS_PRIVATE_JOURNAL:-}" = 1 ] || skip "needs root and unshare (a journald of its own)"
JOURNALD=/lib/systemd/systemd-journald
[ -x "$JOURNALD" ] || skip "no $JOURNALD"
need journalctl python3

catalog="$srcdir/catalog/kairos.catalog"
[ -f "$catalog" ] || fail "no $catalog"

# 1. Every ID in log.h: 32 hex digits, not a hand-numbered one, and in the catalog.
ids=$(sed -n 's/^#define MESSAGE_ID_[A-Z_]* "\([^"]*\)".*/\1/p' "$srcdir/src/shared/log.h")
[ "$(echo "$ids" | wc -l)" -ge 10 ] || fail "found too few MESSAGE_IDs in log.h: $ids"
[ "$(echo "$ids" | sort -u | wc -l)" = "$(echo "$ids" | wc -l)" ] || fail "a MESSAGE_ID is used twice in log.h"
for id in $ids; do
	[[ "$id" =~ ^[0-9a-f]{32}$ ]] || fail "MESSAGE_ID $id is not 128 bits in hex"
	grep -qx -- "-- $id" "$catalog" || fail "MESSAGE_ID $id of log.h has no entry in kairos.catalog"
done
grep -q '5c1e2a4f6b7d48e9a0c3b2d1e4f506' "$srcdir/src/shared/log.h" && fail "hand-numbered MESSAGE_IDs are back in log.h"

# 2. Installed where systemd looks, and accepted by journalctl.
root="$WORK/root"
make -C "$builddir" install DESTDIR="$root" >"$WORK/install.log" 2>&1 || fail "make install DESTDIR failed (see install.log)"
installed=$(find "$root" -name kairos.catalog | head -n 1)
[ -n "$installed" ] || fail "make install did not install kairos.catalog"
case "$installed" in */lib/systemd/catalog/kairos.catalog) ;; *) fail "kairos.catalog went to $installed" ;; esac
# journald's and journalctl's view of this namespace only: tmpfs over their
# directories, and a catalog directory holding systemd's catalogs and ours.
for d in /run/systemd /run/log /var/log/journal /var/lib/systemd/catalog; do
	mkdir -p "$d" && mount -t tmpfs tmpfs "$d" || fail "cannot mount a tmpfs on $d"
done
mkdir -p "$WORK/catalogs"
cp /usr/lib/systemd/catalog/*.catalog "$WORK/catalogs/" 2>/dev/null || true
cp "$installed" "$WORK/catalogs/"
mount --bind "$WORK/catalogs" /usr/lib/systemd/catalog || fail "cannot bind the catalog directory"
journalctl --update-catalog >"$WORK/update.log" 2>&1 || fail "journalctl --update-catalog failed: $(cat "$WORK/update.log")"
grep -i "kairos" "$WORK/update.log" && fail "journalctl --update-catalog complains about kairos.catalog"
journalctl --list-catalog >"$WORK/list.txt" 2>&1 || fail "journalctl --list-catalog failed"
for id in $ids; do
	grep -q "^$id kairos" "$WORK/list.txt" || fail "journalctl --list-catalog lacks $id: $(grep -c . "$WORK/list.txt") entries"
done

# 3. A real event, through journald, explained by journalctl -x.
mkdir -p /run/systemd/journal
bg "$JOURNALD"
for _ in $(seq 100); do [ -S /run/systemd/journal/stdout ] && break; sleep 0.1; done
[ -S /run/systemd/journal/stdout ] || fail "journald did not start"
printf '[Recovery]\nRelay=\nConsole=null\nPlymouth=no\nHostKey=\nTunnelPort=%s\n' "$(free_port)" >"$WORK/recovery.conf"
rc=0
RUNTIME_DIRECTORY="$WORK/run" KAIROS_SESSION_HELPER="$WORK/no-such-helper" \
	python3 "$srcdir/tests/integration/journal-exec.py" kairos-recovery \
	"$builddir/kairos-recovery" --config "$WORK/recovery.conf" || rc=$?
[ "$rc" = 72 ] || fail "kairos-recovery without its helper exited $rc, not 72 (EX_OSFILE)"
[ ! -e "$WORK/run/qr.png" ] || fail "a QR code was written although no session could ever start"
helper_id=$(sed -n 's/^#define MESSAGE_ID_HELPER_MISSING "\(.*\)"/\1/p' "$srcdir/src/shared/log.h")
for _ in $(seq 100); do
	journalctl -q --no-pager MESSAGE_ID="$helper_id" >/dev/null 2>&1 &&
		[ -n "$(journalctl -q --no-pager MESSAGE_ID="$helper_id")" ] && break
	sleep 0.1
done
journalctl -q --no-pager -o export MESSAGE_ID="$helper_id" >"$WORK/entry.export"
grep -qx "SYSLOG_IDENTIFIER=kairos-recovery" "$WORK/entry.export" || fail "the entry has no SYSLOG_IDENTIFIER=kairos-recovery: $(cat "$WORK/entry.export")"
grep -q "^MESSAGE=The session helper $WORK/no-such-helper cannot be run" "$WORK/entry.export" ||
	fail "the entry does not name the missing helper: $(grep ^MESSAGE= "$WORK/entry.export")"
journalctl -q --no-pager -t kairos-recovery >"$WORK/by-ident.txt"
grep -q "session helper" "$WORK/by-ident.txt" || fail "journalctl -t kairos-recovery does not find the entry"
journalctl -q --no-pager -x MESSAGE_ID="$helper_id" >"$WORK/explained.txt"
grep -q "Subject: kairos-recovery cannot run its session helper and stops" "$WORK/explained.txt" ||
	fail "journalctl -x shows no explanation: $(cat "$WORK/explained.txt")"
grep -q "Reinstall kairos" "$WORK/explained.txt" || fail "journalctl -x does not say what to do"

pass "$(echo "$ids" | wc -l) MESSAGE_IDs, each in the catalog; journalctl -x explains a real event; SYSLOG_IDENTIFIER set"
