#!/usr/bin/env python3
"""pty-capture.py NAMEFILE LOGFILE [ROWS COLS]

Opens a pseudo-terminal of ROWS x COLS (24 x 80), writes the path of its
terminal side to NAMEFILE, and copies everything written to it into LOGFILE
until it gets SIGTERM (or after 300 s). It holds the terminal side open
too, so the terminal never hangs up when a program closes it: like a
console, which is always there."""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def main():
    name_file, log_file = sys.argv[1], sys.argv[2]
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 24
    cols = int(sys.argv[4]) if len(sys.argv) > 4 else 80
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(log_file, "wb", buffering=0) as log:
        tmp = name_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(os.ttyname(slave) + "\n")
        os.rename(tmp, name_file)
        end = time.monotonic() + 300
        while not stop and time.monotonic() < end:
            try:
                ready, _, _ = select.select([master], [], [], 0.1)
            except InterruptedError:
                continue
            if ready:
                try:
                    log.write(os.read(master, 65536))
                except OSError:
                    break


main()
