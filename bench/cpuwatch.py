#!/usr/bin/env python3
"""Records the CPU each benchmarked server uses while the guest runs.

Usage: cpuwatch.py OUT NAME=PID...
Samples every 0.5 s until it gets SIGTERM, then writes OUT: one line per server,
"NAME user_ticks system_ticks ticks_per_second", counted from the first sample. A server's CPU is
that of its process and every process under it (virtiofsd serves from a child it forks into its
sandbox), and the last sample taken while they were alive counts: QEMU 7.2's virtiofsd exits when
the guest powers off, before anyone could ask it afterwards.
"""
import os
import signal
import sys
import time


def processes():
    """pid -> (ppid, utime, stime) of every process now."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                out[int(d)] = (int(fields[1]), int(fields[11]), int(fields[12]))
            except (OSError, IndexError, ValueError):
                pass  # exited while we looked
    return out


def tree_cpu(procs, root):
    """(user, system) ticks of root and its live descendants, or None when root is gone."""
    if root not in procs:
        return None
    children = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    user = system = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        user += procs[pid][1]
        system += procs[pid][2]
        todo += children.get(pid, [])
    return user, system


def main():
    out = sys.argv[1]
    servers = {name: int(pid) for name, pid in (a.split("=", 1) for a in sys.argv[2:])}
    first, last = {}, {}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    while not stop:
        procs = processes()
        for name, pid in servers.items():
            cpu = tree_cpu(procs, pid)
            if cpu is not None:
                first.setdefault(name, cpu)
                last[name] = cpu
        time.sleep(0.5)
    hz = os.sysconf("SC_CLK_TCK")
    with open(out, "w") as f:
        for name in servers:
            if name in first:
                f.write(f"{name} {last[name][0] - first[name][0]} {last[name][1] - first[name][1]} {hz}\n")


if __name__ == "__main__":
    main()
