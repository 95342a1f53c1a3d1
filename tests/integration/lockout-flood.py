#!/usr/bin/env python3
"""A stranger who tries to lock the owner out by holding connections open.

From each --source address, keeps --per-source TCP connections to
127.0.0.1:--port open and silent (they prove nothing and say nothing).
Whenever the other end closes one, it is opened again after --renew
seconds, for --duration seconds or until SIGTERM. Once every connection
has been opened the first time, --ready is created.

At the end it prints one JSON line: connections opened, closed by the
other end, answered "busy" (the kairos tunnel's refusal frame), refused at
connect, and the lifetimes (seconds) of those the other end closed.
"""
import argparse
import json
import signal
import socket
import threading
import time

BUSY = b"\x00\x04busy"
lock = threading.Lock()
stats = {"opened": 0, "closed_by_peer": 0, "busy": 0, "refused": 0, "lifetimes": []}
started = threading.Semaphore(0)


def hold(port, source, renew, stop):
    first = True
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
        except OSError:
            with lock:
                stats["refused"] += 1
            stop.wait(renew)
            continue
        opened = time.monotonic()
        with lock:
            stats["opened"] += 1
        if first:
            started.release()
            first = False
        got = b""
        s.settimeout(0.2)
        try:
            while not stop.is_set():
                try:
                    b = s.recv(4096)
                except socket.timeout:
                    continue
                if not b:
                    with lock:
                        stats["closed_by_peer"] += 1
                        stats["lifetimes"].append(round(time.monotonic() - opened, 2))
                        stats["busy"] += got.startswith(BUSY)
                    break
                got += b[:64]
        except OSError:
            with lock:
                stats["closed_by_peer"] += 1
                stats["lifetimes"].append(round(time.monotonic() - opened, 2))
        finally:
            s.close()
        stop.wait(renew)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--source", action="append", required=True)
    ap.add_argument("--per-source", type=int, default=12)
    ap.add_argument("--renew", type=float, default=0.1)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--ready")
    a = ap.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = []
    for src in a.source:
        for _ in range(a.per_source):
            t = threading.Thread(target=hold, args=(a.port, src, a.renew, stop), daemon=True)
            t.start()
            threads.append(t)
    for _ in threads:
        started.acquire(timeout=30)
    if a.ready:
        open(a.ready, "w").close()
    stop.wait(a.duration)
    stop.set()
    for t in threads:
        t.join(3)
    stats["lifetimes"] = sorted(stats["lifetimes"])[-5:]  # the longest few
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
