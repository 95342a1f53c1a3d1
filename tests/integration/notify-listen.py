#!/usr/bin/python3
# A stand-in for systemd's notification socket (sd_notify): appends every
# STATUS= the daemon sends to a file, one line each, so that a test can read
# what "systemctl status" would show.
import os, socket, sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as f:
    while True:
        msg = s.recv(4096).decode(errors="replace")
        for line in msg.split("\n"):
            if line.startswith("STATUS="):
                f.write(line[7:] + "\n")
