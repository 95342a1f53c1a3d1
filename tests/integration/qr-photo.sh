#!/bin/bash
# kairos-bridge --qr-code-image: the token from photos of a screen, made
# with the real qrencode and ImageMagick as a phone would take them (tilted,
# in perspective, blurred, noisy, JPEG, 4000 pixels wide, the code small in
# a large picture, light on dark, moiré, EXIF orientation (JPEG, WebP), beside another
# code), and a clear error with its own code for each kind of bad input.
# tests/tools/qr-image-read prints the token, or the error and exits with
# its code (qr-image.h). Decoding times are printed for the eye only.
KAIROS_SIDES="bridge"
. "$(dirname "$0")/lib.sh"

need qrencode zbarimg convert identify python3 exiftool
READ="$builddir/tests/tools/qr-image-read"
[ -x "$READ" ] || fail "$READ is not built (make check builds it)"
cd "$WORK"

# A typical token (two IPv4 addresses) and one with the relay only.
"$TUNNEL" new-token --relay tcp:127.0.0.1:4001 --address 192.168.1.20 --address 10.0.0.5 >token ||
	fail "kairos-tunnel new-token failed"
"$TUNNEL" new-token --relay tcp:127.0.0.1:4001 >token2 || fail "kairos-tunnel new-token failed"
TOKEN=$(cat token)
TOKEN2=$(cat token2)
case "$TOKEN" in KAIROS:*) ;; *) fail "new-token printed '$TOKEN'" ;; esac

qrencode -l M -o code.png "$TOKEN"
qrencode -l M -s 10 -o code10.png "$TOKEN"
qrencode -l M -s 4 -o code4.png "$TOKEN"
qrencode -l M -s 10 -o code2.png "$TOKEN2"
qrencode -l M -s 10 -o url.png "https://example.com/recovery?id=42"

# Writes an EXIF APP1 segment with one orientation tag (big endian IFD0)
# right after a JPEG's SOI: a phone's way to say "shown turned".
exif_orient() { # IN OUT ORIENTATION
	python3 - "$@" <<-'PY'
		import struct, sys
		src, dst, o = sys.argv[1], sys.argv[2], int(sys.argv[3])
		d = open(src, "rb").read()
		assert d[:2] == b"\xff\xd8", "not a JPEG"
		tiff = b"MM\x00\x2a" + struct.pack(">IH", 8, 1) + struct.pack(">HHIHH", 0x112, 3, 1, o, 0) + struct.pack(">I", 0)
		app1 = b"Exif\x00\x00" + tiff
		open(dst, "wb").write(d[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + d[2:])
	PY
}

failures=0
passed=0

expect_token() { # FILE [TOKEN] [LOG-PATTERN]: the file must give exactly the token
	local file=$1 want=${2:-$TOKEN} pattern=${3:-} out rc
	out=$("$READ" -v "$file" 2>"$file.log") && rc=0 || rc=$?
	echo "$(grep '^# ' "$file.log")"
	if [ "$rc" != 0 ] || [ "$out" != "$want" ]; then
		echo "not ok: $file: exit $rc, got '$out'" >&2
		grep -v '^# ' "$file.log" | tail -n 25 >&2
		failures=$((failures + 1))
		return
	fi
	if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$file.log"; then
		echo "not ok: $file: decoded, but the log lacks '$pattern'" >&2
		failures=$((failures + 1))
		return
	fi
	passed=$((passed + 1))
}

expect_error() { # FILE EXIT-CODE CODE-NAME MESSAGE-PATTERN
	local file=$1 want_rc=$2 name=$3 pattern=$4 out rc
	out=$("$READ" "$file" 2>"$WORK/error.log") && rc=0 || rc=$?
	grep '^# ' "$WORK/error.log" || true
	if [ "$rc" != "$want_rc" ] || [ -n "$out" ] ||
		! grep -q -- "^qr-image-read: $name: .*$pattern" "$WORK/error.log"; then
		echo "not ok: $file: expected exit $want_rc ($name, '$pattern'), got exit $rc:" >&2
		grep -v '^# ' "$WORK/error.log" >&2
		failures=$((failures + 1))
		return
	fi
	grep '^qr-image-read:' "$WORK/error.log"
	passed=$((passed + 1))
}

W=$(identify -format %w code10.png)

echo "# clean renderings"
# zbarimg, the independent reference, agrees that qrencode wrote the token.
[ "$(zbarimg --raw -q code.png 2>/dev/null)" = "$TOKEN" ] || fail "zbarimg does not read the token from code.png"
expect_token code.png
convert code.png -quality 90 code.jpg
expect_token code.jpg
# An RGBA screenshot: transparent background (composited onto white) and colour.
convert code10.png -fuzz 10% -transparent white -fill '#203080' -opaque black rgba.png
expect_token rgba.png
convert code10.png -interlace PNG -depth 16 interlaced16.png
expect_token interlaced16.png

echo "# phone formats: HEIC (an iPhone's default), WebP, AVIF; a photo-like one of each"
convert code10.png -background white -rotate 5 -resize 60% -blur 0x1 phone.png
for ext in heic webp avif; do
	convert code10.png -quality 80 "code.$ext"
	expect_token "code.$ext"
	convert phone.png -quality 60 "phone.$ext"
	expect_token "phone.$ext"
done
# 10-bit AVIF, as some phones write it.
convert code10.png -depth 10 -quality 80 code10bit.avif
expect_token code10bit.avif

echo "# from across the room: the code 140 pixels wide (3 a module) and out of focus, also inverted"
# The recipe of bench/qr-photos, where zbarimg reads none of these and the
# reader before its enlarged-and-sharpened variants read none either. A
# fixed token and noise seed: the same pixels every run (a random token
# would make a borderline picture now and then).
far_token=KAIROS:AHMOCJXDFE7IE7F54ZDTFU7ZGPFAUG7EYCUACFAKAAAAKDRRGI3S4MBOGAXDCORUGAYDCTB3T7TA
qrencode -l M -s 1 -m 4 -o code1.png "$far_token"
convert -seed 7 -size 900x700 plasma:grey40-grey70 -colorspace Gray -attenuate 0.4 +noise Gaussian frame.png
for look in dark light; do
	negate=""
	[ "$look" = light ] && negate="-negate"
	convert -seed 7 frame.png \( code1.png -filter Triangle -resize 140x140 $negate -blur 0x1.2 \) \
		-geometry +217+161 -composite -attenuate 0.15 +noise Gaussian -quality 85 "far-$look.jpg"
	expect_token "far-$look.jpg" "$far_token"
done

echo "# tilted, turned, in perspective"
convert code10.png -background white -rotate 7 rot7.png
expect_token rot7.png
convert code10.png -rotate 90 rot90.png
expect_token rot90.png
convert code10.png -virtual-pixel white -distort Perspective \
	"0,0 60,30  $W,0 $((W - 30)),80  0,$W 20,$((W - 40))  $W,$W $((W - 70)),$((W - 10))" persp.png
expect_token persp.png

echo "# blurred, noisy, JPEG quality 50"
convert -seed 7 code10.png -blur 0x2.5 -attenuate 0.6 +noise Gaussian -quality 50 noisy.jpg
expect_token noisy.jpg

echo "# dim and low in contrast; shaken (motion blur)"
convert -seed 7 code10.png -fill gray55 -opaque black -fill gray70 -opaque white -attenuate 0.3 +noise Gaussian \
	-quality 70 low-contrast.jpg
expect_token low-contrast.jpg
convert code10.png -motion-blur 0x5+30 -quality 80 shaken.jpg
expect_token shaken.jpg

echo "# scaled up to 4000 pixels wide (12 MP phone photo size)"
convert -seed 7 code10.png -filter Triangle -resize 4000x4000 -attenuate 0.3 +noise Gaussian -quality 85 big.jpg
expect_token big.jpg

echo "# the code small (15% of the width) in a large noisy picture"
convert -seed 7 -size 4000x3000 gradient:gray75-gray30 -attenuate 0.5 +noise Gaussian bg.png
convert code10.png -resize 600x600 -background white -rotate 4 small.png
convert bg.png small.png -geometry +2600+1700 -composite -blur 0x1.2 -quality 80 smallbig.jpg
expect_token smallbig.jpg

echo "# inverted colours (light on dark), also as a photo"
convert code10.png -negate inverted.png
expect_token inverted.png
convert -seed 7 -size 3000x2000 xc:gray12 -attenuate 0.4 +noise Gaussian \( code10.png -negate -resize 500x500 \) \
	-geometry +1300+700 -composite -blur 0x1 -quality 75 inverted-photo.jpg
expect_token inverted-photo.jpg

echo "# moiré: a fine interference pattern over the code, and a screen's pixel grid resampled"
convert code10.png \( -size ${W}x${W} xc: -fx '0.7+0.3*sin(i*1.3+j*0.45)' \) -compose multiply -composite \
	-quality 80 moire-stripes.jpg
expect_token moire-stripes.jpg
convert code10.png \( -size ${W}x${W} xc: -fx '0.75+0.25*sin(i*0.21+j*0.09)*sin(j*0.17-i*0.05)' \) \
	-compose multiply -composite -quality 80 moire-bands.jpg
expect_token moire-bands.jpg
S=$(($(identify -format %w code4.png) * 3))
convert -size 3x3 xc:white -fill gray25 -draw 'point 2,0' -draw 'point 2,1' -draw 'point 2,2' \
	-draw 'point 0,2' -draw 'point 1,2' cell.png
convert -seed 7 code4.png -filter point -resize 300% \( -size ${S}x${S} tile:cell.png \) -compose multiply -composite \
	-background white -rotate 3 -filter point -resize 61% -attenuate 0.3 +noise Gaussian -quality 75 moire-grid.jpg
expect_token moire-grid.jpg

echo "# a whole screen photo: pixel grid, perspective, glare, blur, noise, JPEG, 4000x3000"
convert code4.png -filter point -resize 300% \( -size ${S}x${S} tile:cell.png \) -compose multiply -composite \
	screen-code.png
convert -seed 7 -size 1920x1080 xc:gray10 screen-code.png -geometry +700+200 -composite \
	-virtual-pixel black -distort Perspective '0,0 80,60  1920,0 1800,10  0,1080 40,1040  1920,1080 1890,1075' \
	-resize 4000x3000! \( -size 4000x3000 radial-gradient:white-gray40 \) -compose multiply -composite \
	-blur 0x1.5 -attenuate 0.4 +noise Gaussian -quality 70 screen-photo.jpg
expect_token screen-photo.jpg

echo "# EXIF orientation: stored turned or mirrored, to be shown upright"
# Landscape pictures, stored as the camera's sensor saw them: the log shows
# the sides swapped where the orientation says so (the pixel mapping of all
# eight is checked in tests/unit/test-qr-image.c).
convert code10.png -background white -gravity center -extent 800x${W} landscape.png
convert landscape.png -rotate -90 -quality 90 stored-turned.jpg
exif_orient stored-turned.jpg exif6.jpg 6
[ "$(identify -format '%[EXIF:Orientation]' exif6.jpg)" = 6 ] || fail "ImageMagick does not see orientation 6 in exif6.jpg"
expect_token exif6.jpg "$TOKEN" "${W}x800 stored, EXIF orientation 6, shown 800x${W}"
convert landscape.png -flop -quality 90 stored-mirrored.jpg
exif_orient stored-mirrored.jpg exif2.jpg 2
expect_token exif2.jpg "$TOKEN" "800x${W} stored, EXIF orientation 2, shown 800x${W}"
convert landscape.png -transverse -resize 3000x3000 -quality 85 stored-transverse.jpg
exif_orient stored-transverse.jpg exif7.jpg 7
expect_token exif7.jpg "$TOKEN" "EXIF orientation 7, shown 3000x"
# WebP keeps EXIF in a chunk of its own: exiftool tags JPEGs, ImageMagick
# carries the tag into the WebP's EXIF chunk, and exiftool reads it there.
for o in 6 2; do
	from=stored-turned.jpg
	[ "$o" = 2 ] && from=stored-mirrored.jpg
	exiftool -q -n -Orientation=$o -o "exiftool$o.jpg" "$from" || fail "exiftool cannot tag $from"
	convert "exiftool$o.jpg" -quality 90 "exif$o.webp"
	[ "$(exiftool -s3 -n -Orientation "exif$o.webp")" = "$o" ] || fail "no EXIF orientation $o in exif$o.webp"
done
expect_token exif6.webp "$TOKEN" "WebP, ${W}x800 stored, EXIF orientation 6, shown 800x${W}"
expect_token exif2.webp "$TOKEN" "WebP, 800x${W} stored, EXIF orientation 2, shown 800x${W}"

echo "# several codes in one picture: the kairos token is picked"
convert url.png code10.png +append url-and-token.png
expect_token url-and-token.png
convert code10.png url.png -append -quality 85 token-and-url.jpg
expect_token token-and-url.jpg

echo "# bad input: each its own code and message"
expect_error missing.png 1 missing "does not exist"
mkdir adir
expect_error adir 2 unreadable "is a directory"
: >empty.png
expect_error empty.png 3 empty "is empty"
cp token token.png
expect_error token.png 4 not-an-image "holds text, not a picture.*--token-file"
# A NUL first: neither text nor any picture's magic, whatever follows.
{ printf '\0\1\2\3'; head -c 3000 /dev/urandom; } >random.jpg
expect_error random.jpg 4 not-an-image "is not a picture kairos reads"
convert code10.png code.gif
expect_error code.gif 5 unsupported-format "is a GIF picture.*convert it to PNG, JPEG"
cp code.gif disguised.png
expect_error disguised.png 5 unsupported-format "is a GIF picture"
size=$(stat -c %s big.jpg)
head -c $((size / 2)) big.jpg >truncated.jpg
expect_error truncated.jpg 6 truncated "is cut short"
size=$(stat -c %s rgba.png)
head -c $((size / 2)) rgba.png >truncated.png
expect_error truncated.png 6 truncated "is cut short"
# A JPEG whose entropy-coded data is overwritten just after its headers.
python3 -c 'import sys; d=bytearray(open(sys.argv[1],"rb").read()); i=d.find(b"\xff\xda"); d[i+2:i+40]=b"\xff\x01"*19; open(sys.argv[2],"wb").write(d)' \
	code.jpg corrupt.jpg
expect_error corrupt.jpg 7 corrupt "is a damaged JPEG picture"
# The pixel limit comes from the header, before anything is allocated.
python3 -c 'import struct,sys,zlib
ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 20001)) + chunk(b"IEND", b""))' huge.png
expect_error huge.png 8 too-large "20000x20000 pixels"
expect_error bg.png 9 no-qr-code "shows no QR code"
expect_error url.png 10 not-a-token "web address (https://example.com/recovery?id=42), not a kairos token"
qrencode -l M -s 8 -o text.png "hello from a poster"
convert text.png url.png +append two-others.png
expect_error two-others.png 10 not-a-token "2 QR codes"
convert code10.png code2.png +append two-tokens.png
expect_error two-tokens.png 11 several-tokens "2 different kairos tokens"

echo "# $passed passed, $failures failed"
[ "$failures" = 0 ] || fail "$failures of $((passed + failures)) pictures gave the wrong answer"
pass "$passed pictures: every photo gave the token, every bad input its own error"
