#!/bin/bash
# The daemon's own QR code, as someone would photograph it: its qr.png and
# its console rendering turned into a picture, each made photo-like with
# ImageMagick (rotated, in perspective, blurred, noisy, JPEG quality 50,
# scaled to 4000 px wide, placed small in a larger picture), are read by
# kairos-bridge --qr-code-image and give the daemon's password.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
need convert

BRIDGE="$builddir/kairos-bridge"
start_recovery
# The console rendering (the form for serial consoles: no escape sequences),
# turned into a picture by a tool that knows only the four glyphs.
RUNTIME_DIRECTORY="$RUN" "$RECOVERY" --config "$WORK/recovery.conf" show >"$WORK/screen.txt" ||
	fail "kairos-recovery show failed"
# (--rows 40: "show" prints the token and password under the 24-row screen.)
"$builddir/tests/tools/halfblock-to-png" --rows 40 "$WORK/screen.txt" "$WORK/screen.png" ||
	fail "cannot turn the console rendering into a picture"

photo() { # IN OUT
	convert -seed 11 "$1" -background white -rotate 6 -virtual-pixel white \
		-distort Perspective '0,0 30,40  %[fx:w],0 %[fx:w-20],10  0,%[fx:h] 10,%[fx:h-30]  %[fx:w],%[fx:h] %[fx:w-40],%[fx:h-10]' \
		-blur 0x1.5 -attenuate 0.4 +noise Gaussian -filter Triangle -resize 1400x "$WORK/tmp.png" &&
	convert -seed 11 -size 4000x3000 gradient:gray80-gray35 -attenuate 0.5 +noise Gaussian \
		"$WORK/tmp.png" -geometry +2300+1200 -composite -quality 50 "$2"
}
n=0
for src in "$RUN/qr.png" "$WORK/screen.png"; do
	out="$WORK/photo-$(basename "$src" .png).jpg"
	photo "$src" "$out" || fail "ImageMagick could not make a photo of $(basename "$src")"
	[ "$(identify -format %w "$out")" = 4000 ] || fail "the photo is not 4000 px wide"
	got=$("$BRIDGE" --qr-code-image "$out" --show-token 2>"$WORK/bridge.err" | sed -n 's/^password: *//p') ||
		fail "kairos-bridge could not read $(basename "$out"): $(cat "$WORK/bridge.err")"
	[ "$got" = "$PASSWORD" ] || fail "from $(basename "$out") the bridge read password '$got', the screen shows '$PASSWORD'"
	n=$((n + 1))
done
pass "$n photo-like pictures of the daemon's QR code (qr.png and the console) read by --qr-code-image"
