#!/usr/bin/python3
"""latency-probe.py IN OUT MARKS STATS

Measures a session's responsiveness: writes "ping N" lines into IN (a FIFO
to an ssh whose remote command echoes each line back) and times each until
it comes back on OUT, one every 100 ms. When a line "NAME" appears in the
file MARKS, the samples from then on belong to phase NAME; "stop" ends it.
Writes one line per phase to STATS: NAME COUNT MEDIAN_MS MAX_MS LOST."""
import os
import select
import sys
import time

fifo_in, fifo_out, marks, stats = sys.argv[1:5]
w = open(fifo_in, "w", buffering=1)
r = os.open(fifo_out, os.O_RDONLY)
phases = {}
phase = "start"
buf = b""
n = 0
while True:
    try:
        with open(marks) as f:
            lines = f.read().split()
        if lines:
            phase = lines[-1]
    except FileNotFoundError:
        pass
    if phase == "stop":
        break
    n += 1
    t = time.monotonic()
    w.write("ping %d\n" % n)
    got = None
    while time.monotonic() - t < 30:
        ready, _, _ = select.select([r], [], [], 0.5)
        if ready:
            chunk = os.read(r, 4096)
            if not chunk:
                sys.exit("the probe session ended")
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.strip() == b"ping %d" % n:
                    got = time.monotonic() - t
            if got is not None:
                break
    phases.setdefault(phase, []).append(got)
    time.sleep(0.1)
with open(stats, "w") as f:
    for name, samples in phases.items():
        ok = sorted(s for s in samples if s is not None)
        lost = len(samples) - len(ok)
        med = ok[len(ok) // 2] * 1000 if ok else -1
        mx = ok[-1] * 1000 if ok else -1
        f.write("%s %d %.0f %.0f %d\n" % (name, len(samples), med, mx, lost))
