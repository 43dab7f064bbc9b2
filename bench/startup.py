#!/usr/bin/env python3
"""Start-up benchmark: time from exec to a listening vhost-user socket.

Usage: bench/startup.py [ROUNDS]   (default 10)

Targets, interleaved round by round so a busy moment hits all of them:
  vfsgw          ./vfsgw serve --backend mem (the launcher: its JVM options and class-data archive)
  vfsgw-no-cds   the same JVM options on the jar, without the launcher's class-data archive
  virtiofsd      /usr/lib/qemu/virtiofsd on an empty directory (the reference)
Each start is stopped with SIGTERM as soon as its socket exists. Prints a markdown table: median,
min and max in milliseconds, and the median's ratio to virtiofsd's (above 1.0: slower).
"""
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCHER = os.path.join(ROOT, "vfsgw")
JAR = os.path.join(ROOT, "cli", "target", "vfsgw.jar")
VIRTIOFSD = "/usr/lib/qemu/virtiofsd"
# The launcher's JVM options without its archive (keep in step with ./vfsgw).
JVM = ["java", "-XX:MaxRAMPercentage=75", "-Xmn32m", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
       "-XX:G1PeriodicGCInterval=30000"]


def commands(sock, source):
    yield "vfsgw", [LAUNCHER, "serve", "--socket-path", sock, "--backend", "mem"]
    yield "vfsgw-no-cds", JVM + ["-jar", JAR, "serve", "--socket-path", sock, "--backend", "mem"]
    if os.access(VIRTIOFSD, os.X_OK):
        yield "virtiofsd", [VIRTIOFSD, "--socket-path=" + sock, "-o", "source=" + source, "-o", "cache=auto"]


def time_to_socket(cmd, sock, timeout=30.0):
    """Milliseconds from exec to the socket's appearance; the process is then stopped."""
    if os.path.exists(sock):
        os.unlink(sock)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not os.path.exists(sock):
            if p.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited with {p.returncode} before listening")
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"{cmd[0]} did not listen within {timeout} s")
            time.sleep(0.002)
        return (time.monotonic() - t0) * 1000
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    work = tempfile.mkdtemp(prefix="vfsgw-startup-")
    sock, source = os.path.join(work, "s"), os.path.join(work, "src")
    os.mkdir(source)
    try:
        # One unmeasured start: the launcher builds the jar or its archive if they are missing.
        for name, cmd in commands(sock, source):
            time_to_socket(cmd, sock, timeout=600)
        times = {}
        for r in range(rounds):
            for name, cmd in commands(sock, source):
                times.setdefault(name, []).append(time_to_socket(cmd, sock))
            print(f"startup: round {r + 1}/{rounds}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ref = statistics.median(times["virtiofsd"]) if "virtiofsd" in times else None
    print(f"Start-up to a listening socket, {rounds} rounds (ms; ratio of medians to virtiofsd):")
    print()
    print("| target | median | min | max | vs virtiofsd |")
    print("|---|---|---|---|---|")
    for name, t in times.items():
        med = statistics.median(t)
        ratio = f"{med / ref:.1f}x" if ref else "n/a"
        print(f"| {name} | {med:.0f} | {min(t):.0f} | {max(t):.0f} | {ratio} |")


if __name__ == "__main__":
    main()
