#!/usr/bin/env python3
"""A TCP proxy in front of the transit relay that records or tampers.

Between an endpoint and the relay: the relay request line always passes
untouched; offsets count the bytes after it, in the endpoint-to-relay
direction ("up").

  --flip-after N    flip the lowest bit of byte N of every connection
  --record DIR      write each connection's bytes as DIR/N.up and DIR/N.down
                    (what the relay receives and sends, request line included)
  --tamper SEED     at a random offset between --min and --max of every
                    connection, the next of --modes in turn: flip (one bit),
                    drop (1-64 bytes), dup (1-64 bytes sent twice), reorder
                    (two runs of 16-4096 bytes swapped). Each tampering is
                    printed as "tampered N MODE OFFSET LENGTH" once done;
                    none once --stop-file exists.
"""
import argparse
import os
import random
import socket
import threading

lock = threading.Lock()


def say(line):
    with lock:
        print(line, flush=True)


applied = 0


class Tamper:
    """Streaming edit of one direction at one offset. The edit is chosen
    when the stream gets there, the modes in turn, so that a run of
    sessions sees each of them; none once the --stop-file exists."""

    def __init__(self, conn, offset, modes, stop_file):
        self.conn, self.offset, self.modes, self.stop_file = conn, offset, modes, stop_file
        self.mode = None
        self.held = b""
        self.done = False
        self.bit = random.randrange(8)

    def choose(self):
        global applied
        with lock:
            if self.stop_file and os.path.exists(self.stop_file):
                self.done = True
                return
            self.mode = self.modes[applied % len(self.modes)]
            applied += 1
        self.length = random.randint(16, 4096) if self.mode == "reorder" else random.randint(1, 64)
        self.need = 2 * self.length if self.mode == "reorder" else (1 if self.mode == "flip" else self.length)

    def edit(self, chunk):
        k = self.length
        if self.mode == "flip":
            return bytes([chunk[0] ^ (1 << self.bit)]) + chunk[1:]
        if self.mode == "drop":
            return chunk[k:]
        if self.mode == "dup":
            return chunk + chunk
        return chunk[k:2 * k] + chunk[:k]

    def feed(self, count, data):
        """count: bytes of the stream before data. Returns what to send."""
        if self.done:
            return data
        if not self.held and count + len(data) <= self.offset:
            return data
        if not self.held:
            self.choose()
            if self.done:
                return data
            head = data[:self.offset - count]
            self.held = data[self.offset - count:]
        else:
            head = b""
            self.held += data
        if len(self.held) < self.need:
            return head
        out = head + self.edit(self.held[:self.need]) + self.held[self.need:]
        self.held = b""
        self.done = True
        say("tampered %d %s %d %d" % (self.conn, self.mode, self.offset, self.length))
        return out


def pipe(src, dst, record, flip_after, tamper, up):
    seen_line = not up
    count = 0
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if record:
                record.write(data)
                record.flush()
            if not seen_line:
                nl = data.find(b"\n")
                if nl < 0:
                    dst.sendall(data)
                    continue
                dst.sendall(data[:nl + 1])
                data = data[nl + 1:]
                seen_line = True
            n = len(data)
            if flip_after is not None and count <= flip_after < count + n:
                i = flip_after - count
                data = data[:i] + bytes([data[i] ^ 1]) + data[i + 1:]
            if tamper:
                data = tamper.feed(count, data)
            count += n
            if data:
                dst.sendall(data)
    except OSError:
        pass
    if tamper and tamper.held:
        try:
            dst.sendall(tamper.held)  # the stream ended before the edit: untouched
        except OSError:
            pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--flip-after", type=int)
    ap.add_argument("--record")
    ap.add_argument("--tamper", type=int, metavar="SEED")
    ap.add_argument("--modes", default="flip,drop,dup,reorder")
    ap.add_argument("--min", type=int, default=4096)
    ap.add_argument("--max", type=int, default=262144)
    ap.add_argument("--stop-file")
    a = ap.parse_args()
    if a.tamper is not None:
        random.seed(a.tamper)
    modes = a.modes.split(",")
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.listen))
    ls.listen(64)
    n = 0
    while True:
        c, _ = ls.accept()
        n += 1
        try:
            u = socket.create_connection(("127.0.0.1", a.upstream))
        except OSError:
            c.close()
            continue
        rec_up = rec_down = None
        if a.record:
            rec_up = open(os.path.join(a.record, "%d.up" % n), "wb")
            rec_down = open(os.path.join(a.record, "%d.down" % n), "wb")
        tamper = None
        if a.tamper is not None:
            tamper = Tamper(n, random.randint(a.min, a.max), modes, a.stop_file)
        threading.Thread(target=pipe, args=(c, u, rec_up, a.flip_after, tamper, True), daemon=True).start()
        threading.Thread(target=pipe, args=(u, c, rec_down, None, None, False), daemon=True).start()


if __name__ == "__main__":
    main()
