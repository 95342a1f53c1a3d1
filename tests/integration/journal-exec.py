#!/usr/bin/env python3
"""journal-exec.py IDENTIFIER PROGRAM ARGS...: runs PROGRAM with its stderr
connected to journald's stream socket and $JOURNAL_STREAM naming it, as
systemd does for a service (StandardError=journal), so that the program
logs to the journal the way it does under systemd. File descriptors other
than stderr are passed on untouched (socket activation's 3 and 4)."""
import os
import socket
import sys

ident, argv = sys.argv[1], sys.argv[2:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("/run/systemd/journal/stdout")
# identifier, unit id, priority, level prefix, syslog, kmsg, console
s.sendall(("%s\n\n6\n0\n0\n0\n0\n" % ident).encode())
st = os.fstat(s.fileno())
os.dup2(s.fileno(), 2)
s.close()
env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
os.execvpe(argv[0], argv, env)
