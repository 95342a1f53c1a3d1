#!/usr/bin/python3
"""proc-sample.py PID OUT STOPFILE

Every 0.1 s until STOPFILE exists: one line "FDS PROCS PSS_KIB" to OUT,
for process PID (its open fds) and the tree under it (how many processes,
their memory together: proportional set size, so that shared libraries
count once)."""
import os
import sys
import time

root, out, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def sample():
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parent[int(d)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            pass
    children = {}
    for p, pp in parent.items():
        children.setdefault(pp, []).append(p)
    tree, todo = [], [root]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    try:
        fds = len(os.listdir("/proc/%d/fd" % root))
    except OSError:
        fds = 0
    return fds, len(tree), sum(pss(p) for p in tree)


def pss(p):
    try:
        with open("/proc/%d/smaps_rollup" % p) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


with open(out, "a", buffering=1) as f:
    while not os.path.exists(stop):
        f.write("%d %d %d\n" % sample())
        time.sleep(0.1)
