#!/usr/bin/env python3
# A webhook receiver for the tests: HTTPS (python3's ssl + http.server) with
# the certificate and key given, on ADDRESS:0 (the port is written to
# PORTFILE once it listens). Each POST's body goes to DIR/post-N.txt and its
# headers to DIR/post-N.headers, written to a temporary name first so that a
# test sees only whole files. The first FAIL requests get HTTP 503, to test
# the sender's retries.
#   https-sink.py CERT KEY ADDRESS PORTFILE DIR [FAIL]
import http.server
import os
import ssl
import sys

cert, key, address, portfile, outdir = sys.argv[1:6]
fail_first = int(sys.argv[6]) if len(sys.argv) > 6 else 0
state = {"requests": 0, "posts": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        state["requests"] += 1
        if state["requests"] <= fail_first:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        state["posts"] += 1
        base = os.path.join(outdir, "post-%d" % state["posts"])
        with open(base + ".headers.tmp", "w") as f:
            f.write("path: %s\n" % self.path)
            for k, v in self.headers.items():
                f.write("%s: %s\n" % (k, v))
        os.rename(base + ".headers.tmp", base + ".headers")
        with open(base + ".tmp", "wb") as f:
            f.write(body)
        os.rename(base + ".tmp", base + ".txt")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        sys.stderr.write("https-sink: " + (fmt % args) + "\n")


server = http.server.HTTPServer((address, 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
