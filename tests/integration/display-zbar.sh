#!/bin/bash
# The recovery screen as a camera would see it: the frames the daemon writes
# (VT and serial form, the default and the longest token and values, and the
# bytes a real pseudo-terminal received from the console writer) are drawn
# as a terminal draws them (tests/tools/halfblock-to-png, which knows only
# terminals and the four glyphs), and zbar must read exactly the token from
# the picture, also after it is shrunk, turned, blurred and made noisy like
# a photo. qr.png too (mode 0600), and the qrencode command line, an
# encoder of its own, must agree with us on the text and the version.
. "$(dirname "$0")/lib.sh"
need zbarimg qrencode python3 convert
convert -version 2>/dev/null | grep -q ImageMagick || skip "convert is not ImageMagick's (apt-get install imagemagick)"

KD="$builddir/tests/tools/kairos-display"
H2P="$builddir/tests/tools/halfblock-to-png"
CAPTURE="$srcdir/tests/integration/pty-capture.py"

# zbar for QR codes only: the text beside the code is not a barcode.
zbar() {
	zbarimg --nodbus --raw -q -Sdisable -Sqrcode.enable "$@" 2>>"$WORK/zbar.log"
}

expect_token() { # WHAT PNG [ZBAR OPTION]
	local got
	got=$(zbar ${3:+"$3"} "$2") || fail "$1: zbarimg found no QR code in $(basename "$2")"
	[ "$got" = "$TOKEN" ] || fail "$1: zbarimg read '$got', the token is '$TOKEN'"
}

"$TUNNEL" new-token --address 192.168.1.20 --address 10.0.0.5 >"$WORK/typical" || fail "new-token failed"
"$TUNNEL" new-token --address 192.168.1.20 --address 10.0.0.5 \
	--address 2001:db8:1234:5678:9abc:def0:1234:5678 >"$WORK/longest" || fail "new-token failed"

for kind in typical longest; do
	TOKEN=$(cat "$WORK/$kind")
	long=""
	[ $kind = longest ] && long=--longest
	for form in vt serial; do
		"$KD" render --form $form $long "$WORK/$kind" >"$WORK/$kind-$form.txt" || fail "render $kind $form"
		"$H2P" "$WORK/$kind-$form.txt" "$WORK/$kind-$form.png" || fail "halfblock-to-png $kind $form"
		expect_token "$kind token, $form form, 80x24 light-on-dark terminal" "$WORK/$kind-$form.png"
	done

	# Like a photo of the screen: smaller (3 px a module), turned, blurred, noisy.
	convert "$WORK/$kind-vt.png" -resize 40% -background black -rotate -7 -blur 0x1 \
		-attenuate 0.5 +noise Gaussian "$WORK/$kind-photo.png" || fail "convert failed"
	expect_token "$kind token, VT form, photo-like" "$WORK/$kind-photo.png"

	# A terminal window that is dark on light: the VT form pins its colours
	# and still reads; the serial form (no escapes at all) shows a negative,
	# which readers do not take by default: why the polarity is what it is.
	"$H2P" --dark-on-light "$WORK/$kind-vt.txt" "$WORK/$kind-vt-dol.png"
	expect_token "$kind token, VT form, dark-on-light terminal" "$WORK/$kind-vt-dol.png"
	"$H2P" --dark-on-light "$WORK/$kind-serial.txt" "$WORK/$kind-serial-dol.png"
	if zbar "$WORK/$kind-serial-dol.png" >/dev/null; then
		fail "the negative code was read: the polarity test proves nothing"
	fi
	expect_token "$kind token, serial form, dark-on-light terminal, reader told to try negatives" \
		"$WORK/$kind-serial-dol.png" -Stest-inverted

	# qr.png, and the qrencode command line as a second opinion.
	"$KD" png "$WORK/$kind" "$WORK/$kind-qr.png" || fail "png $kind"
	[ "$(stat -c %a "$WORK/$kind-qr.png")" = 600 ] || fail "qr.png is mode $(stat -c %a "$WORK/$kind-qr.png"), not 600"
	expect_token "$kind token, qr.png" "$WORK/$kind-qr.png"
	qrencode -l M -s 8 -m 4 -o "$WORK/$kind-ref8.png" "$TOKEN" || fail "qrencode failed"
	expect_token "$kind token, encoded by the qrencode command line" "$WORK/$kind-ref8.png"
	qrencode -l M -s 1 -m 0 -o "$WORK/$kind-ref.png" "$TOKEN" || fail "qrencode failed"
	ours=$(python3 -c 'import struct,sys; print(struct.unpack(">I", open(sys.argv[1],"rb").read()[16:20])[0] // 8 - 8)' "$WORK/$kind-qr.png")
	theirs=$(python3 -c 'import struct,sys; print(struct.unpack(">I", open(sys.argv[1],"rb").read()[16:20])[0])' "$WORK/$kind-ref.png")
	[ "$ours" = "$theirs" ] || fail "$kind token: our code is $ours modules wide, qrencode's $theirs"
	echo "# $kind token (${#TOKEN} characters): $ours modules, version $(((ours - 17) / 4)), read back from every rendering"
	[ $(((ours - 17) / 4)) -le 4 ] || fail "$kind token needs version $(((ours - 17) / 4)), more than 4"
done

# Through the console writer onto a real pseudo-terminal: what arrived there
# (after the line discipline's own processing) is what a console shows.
TOKEN=$(cat "$WORK/typical")
for form in vt auto; do
	rm -f "$WORK/pty-name"
	bg python3 "$CAPTURE" "$WORK/pty-name" "$WORK/pty-$form.out" 24 80
	cap=$LAST_PID
	wait_until 120 "pty-capture.py's terminal" test -s "$WORK/pty-name" || fail "pty-capture.py did not start within 120 s"
	"$KD" console --form $form "$(cat "$WORK/pty-name")" "$WORK/typical" 2>"$WORK/console-$form.log" ||
		fail "the console writer did not get its frame onto the terminal ($form)"
	sleep 0.3
	kill "$cap"
	wait "$cap" 2>/dev/null || true
	"$H2P" "$WORK/pty-$form.out" "$WORK/pty-$form.png" || fail "halfblock-to-png (pty, $form)"
	expect_token "through the console writer onto a pseudo-terminal ($form form)" "$WORK/pty-$form.png"
	grep -q "$("$KD" password "$WORK/typical")" "$WORK/pty-$form.out" || fail "the password did not reach the terminal ($form)"
done
if grep -q '\[' "$WORK/pty-auto.out" && grep -q $'\033' "$WORK/pty-auto.out"; then
	fail "a pseudo-terminal got escape sequences: the automatic form should be the serial one"
fi

pass "zbar reads the token from every rendering, qr.png and qrencode agree"
