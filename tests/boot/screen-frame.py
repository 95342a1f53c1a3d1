#!/usr/bin/env python3
# Prints the N-th last complete recovery screen (QR code rows and the text
# beside them) found in a serial console log, for halfblock-to-png: the
# frame's first row holds the title, its last row is the bottom quiet zone
# (upper half blocks only). Kernel or systemd lines written into the middle
# of a frame make it incomplete; older frames are there to fall back on.
#   screen-frame.py SERIAL-LOG [N]   (N = 1: the last)  exit 1: none
import sys

TITLE = "kairos remote recovery"
text = open(sys.argv[1], "rb").read().decode("utf-8", "replace").replace("\r", "")
lines = text.split("\n")
frames = []
for i, line in enumerate(lines):
    if TITLE not in line or not line.startswith("\u2588"):
        continue
    rows = []
    for row in lines[i:]:
        if not row.startswith(("\u2588", "\u2580")):
            break
        rows.append(row)
        code = row.split("  ")[0]
        if code and set(code) == {"\u2580"}:
            frames.append(rows)
            break
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1
if len(frames) < n:
    sys.exit(1)
print("\n".join(frames[-n]))
