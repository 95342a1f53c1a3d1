#!/usr/bin/env python3
"""A TCP proxy that flips one bit of the client-to-server stream.

Between an endpoint and the transit relay: the relay request line passes
untouched, then the byte at --flip-after (counted after that line) has its
lowest bit flipped. Everything else is forwarded as is.
"""
import argparse
import socket
import threading


def pipe(src, dst, flip_after):
    seen_line = flip_after is None
    count = 0
    flipped = False
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if not seen_line:
                nl = data.find(b"\n")
                if nl < 0:
                    dst.sendall(data)
                    continue
                dst.sendall(data[:nl + 1])
                data = data[nl + 1:]
                seen_line = True
            if flip_after is not None and not flipped and count + len(data) > flip_after:
                i = flip_after - count
                data = data[:i] + bytes([data[i] ^ 1]) + data[i + 1:]
                flipped = True
            count += len(data)
            dst.sendall(data)
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
    ap.add_argument("--flip-after", type=int, required=True)
    a = ap.parse_args()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.listen))
    ls.listen(16)
    while True:
        c, _ = ls.accept()
        u = socket.create_connection(("127.0.0.1", a.upstream))
        threading.Thread(target=pipe, args=(c, u, a.flip_after), daemon=True).start()
        threading.Thread(target=pipe, args=(u, c, None), daemon=True).start()


if __name__ == "__main__":
    main()
