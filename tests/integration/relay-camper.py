#!/usr/bin/env python3
"""Someone who saw the relay channels on the wire, camping on them.

Keeps --per-channel connections waiting at the transit relay on each
channel, as the daemon's side (--side HEX) or with the side-less legacy
handshake ("please relay CHANNEL\\n", which pairs with anybody: use one
connection a channel, or the camper pairs with itself). Whenever
one pairs, what it does depends on --after-pair: "probe" (the default)
reads what the other end sends for a moment, sends bytes of its own (a
made-up first handshake message), closes and camps again; "silent" holds
the pairing without a word until the other end closes it; "close" closes
at once (pairing churn).

At the end (--duration, or SIGTERM) it prints one JSON line: pairings, bytes read,
whether anything it read looked like plaintext (an SSH banner, the
markers given with --marker), and how long each pairing took from the
request to "ok" (with the legacy handshake: whether the daemon had its
waiter back by the time the camper returned, a good second later).
"""
import argparse
import json
import os
import signal
import socket
import threading
import time

lock = threading.Lock()
stats = {"pairings": 0, "bytes_read": 0, "plaintext": [], "waits": [], "refused": 0}
progress = None  # --progress: a file that holds the pairings so far


def camp(port, channel, side, markers, stop, asked_once, after, paired_file, n_channels):
    line = ("please relay %s for side %s\n" % (channel, side) if side else "please relay %s\n" % channel).encode()
    first = True
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            time.sleep(0.2)
            continue
        try:
            s.sendall(line)
            asked = time.monotonic()
            if first:
                asked_once.release()
                first = False
            s.settimeout(0.5)
            reply = b""
            while not stop.is_set() and not reply.endswith(b"\n"):
                try:
                    b = s.recv(1)
                except socket.timeout:
                    continue
                if not b:
                    break
                reply += b
            if reply != b"ok\n":
                with lock:
                    stats["refused"] += 1
                continue
            now = time.monotonic()
            with lock:
                stats["pairings"] += 1
                stats["waits"].append(round(now - asked, 3))
                if progress:
                    with open(progress + ".tmp", "w") as f:
                        f.write("%d\n" % stats["pairings"])
                    os.replace(progress + ".tmp", progress)
                if paired_file and stats["pairings"] >= n_channels and not os.path.exists(paired_file):
                    open(paired_file, "w").close()
            if after == "close":
                continue
            if after == "silent":
                s.settimeout(0.2)
                while not stop.is_set():
                    try:
                        b = s.recv(65536)
                    except socket.timeout:
                        continue
                    if not b:
                        break
                    with lock:
                        stats["bytes_read"] += len(b)
                continue
            # What the other end says, for a moment; then our own bytes.
            got = b""
            end = time.monotonic() + 1.0
            s.settimeout(0.2)
            while time.monotonic() < end:
                try:
                    b = s.recv(65536)
                except socket.timeout:
                    continue
                if not b:
                    break
                got += b
            try:
                s.sendall(b"\x00\x30" + os.urandom(48) + os.urandom(200))
                time.sleep(0.2)
                got += s.recv(65536)
            except OSError:
                pass
            with lock:
                stats["bytes_read"] += len(got)
                for m in [b"SSH-2.0"] + markers:
                    if m in got:
                        stats["plaintext"].append(m.decode(errors="replace"))
        except OSError:
            pass
        finally:
            s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--relay-port", type=int, required=True)
    ap.add_argument("--channel", action="append", required=True)
    ap.add_argument("--side", help="the side to claim; none: the legacy handshake")
    ap.add_argument("--per-channel", type=int, default=2)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--marker", action="append", default=[])
    ap.add_argument("--ready", help="a file created once every camper has sent its request")
    ap.add_argument("--after-pair", choices=["probe", "silent", "close"], default="probe")
    ap.add_argument("--paired", help="a file created once there were as many pairings as channels")
    ap.add_argument("--progress", help="a file that holds the number of pairings so far")
    a = ap.parse_args()
    global progress
    progress = a.progress
    stop = threading.Event()
    markers = [m.encode() for m in a.marker]
    threads = []
    # Released once by each request sent: ready when every camper has
    # asked once (not after a guess of how long that takes).
    asked = threading.Semaphore(0)
    for ch in a.channel:
        for _ in range(a.per_channel):
            t = threading.Thread(target=camp, args=(a.relay_port, ch, a.side, markers, stop, asked, a.after_pair,
                                                    a.paired, len(a.channel)), daemon=True)
            t.start()
            threads.append(t)
    for _ in threads:
        asked.acquire(timeout=60)
    if a.ready:
        open(a.ready, "w").close()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait(a.duration)
    stop.set()
    for t in threads:
        t.join(3)
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
