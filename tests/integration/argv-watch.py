#!/usr/bin/python3
"""argv-watch.py PID OUT STOPFILE

Until STOPFILE exists, in a tight loop: the command line and environment of
process PID and every process under it (found through
/proc/P/task/T/children, so a child that lives a few milliseconds, such as a
`plymouth display-message` client, is read within a pass), and every tenth
pass the command line of every process in /proc. Each distinct string seen
is written to OUT at the end, one a line (NULs as spaces) after
"cmdline PID:" or "environ PID:", for the caller to search for secrets;
the last line says how many passes were made."""
import os
import sys
import time

root, out, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
seen = {}


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def note(kind, pid, data):
    if data and data not in seen:
        seen[data] = "%s %d" % (kind, pid)


def children(pid):
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return kids
    for t in tasks:
        data = read("/proc/%d/task/%s/children" % (pid, t))
        if data:
            kids.extend(int(k) for k in data.split())
    return kids


def tree():
    todo = [root]
    while todo:
        p = todo.pop()
        note("cmdline", p, read("/proc/%d/cmdline" % p))
        note("environ", p, read("/proc/%d/environ" % p))
        todo.extend(children(p))


def everyone():
    for d in os.listdir("/proc"):
        if d.isdigit():
            note("cmdline", int(d), read("/proc/%s/cmdline" % d))


passes = 0
start = time.monotonic()
while not os.path.exists(stop):
    tree()
    if passes % 10 == 0:
        everyone()
    passes += 1
took = time.monotonic() - start

with open(out, "w") as f:
    for data, where in seen.items():
        f.write("%s: %s\n" % (where, data.replace(b"\0", b" ").replace(b"\n", b" ").decode("utf-8", "replace")))
    f.write("# %d passes in %.1f s\n" % (passes, took))
