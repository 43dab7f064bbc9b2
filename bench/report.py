#!/usr/bin/env python3
"""Turns the raw results of one bench/run.sh run into the markdown tables (medians and ratios).

Usage: report.py RUN_DIR
RUN_DIR holds host/, posix/ and guest/ (any may be missing), each with one file per measurement:
<target>.<test>.<round>.json (fio --output-format=json), <target>.meta.<round>.txt (metaops) or
<target>.tree*.<round>.txt (stopwatch).
"""
import json
import os
import re
import statistics
import sys

TESTS = [  # (test, label, unit)
    ("seqwrite", "seq write 1 MiB", "MiB/s"),
    ("seqread", "seq read 1 MiB (cold)", "MiB/s"),
    ("randread", "random read 4 KiB (cold)", "IOPS"),
    ("meta", "create+stat+unlink", "files/s"),
    ("treex", "tree: tar x", "entries/s"),
    ("treedu", "tree: du -s (cold)", "entries/s"),
    ("treerm", "tree: rm -rf (cold)", "entries/s"),
]

# section dir -> (title, targets in column order, [(numerator, denominator), ...] ratio columns)
SECTIONS = [
    ("host", "Host mounts (/dev/fuse)", ["tmpfs", "vfsgw-mem", "passthrough"],
     [("vfsgw-mem", "tmpfs"), ("passthrough", "tmpfs"), ("vfsgw-mem", "passthrough")]),
    ("posix", "posix backend, host mount vs its raw source directory", ["raw", "vfsgw-posix"],
     [("vfsgw-posix", "raw")]),
    ("guest", "QEMU guest (TCG), one boot, all shares mounted at once",
     ["virtiofsd", "vfsgw-mem", "vfsgw-posix", "9p", "vfsgw-direct"],
     [("vfsgw-mem", "virtiofsd"), ("vfsgw-posix", "virtiofsd"), ("9p", "virtiofsd"), ("vfsgw-mem", "9p"),
      ("vfsgw-direct", "9p")]),
]

NAME = re.compile(r"^(?P<target>[\w-]+)\.(?P<test>\w+)\.(?P<round>\d+)\.(?P<ext>json|txt)$")


def value(path, test):
    """The figure of merit of one measurement file, or None if the run failed."""
    try:
        with open(path) as f:
            text = f.read()
        if test == "meta":
            m = re.search(r"files_per_s=([\d.]+)", text)
            return float(m.group(1)) if m else None
        if test.startswith("tree"):
            m = re.search(r"entries_per_s=([\d.]+)", text)
            return float(m.group(1)) if m else None
        # fio may print warnings before the JSON object.
        job = json.loads(text[text.index("{"):])["jobs"][0]
        if job.get("error"):
            return None
        if test == "seqwrite":
            return job["write"]["bw_bytes"] / 2**20
        if test == "seqread":
            return job["read"]["bw_bytes"] / 2**20
        return job["read"]["iops"]
    except (OSError, ValueError, KeyError, IndexError):
        return None


def collect(section_dir):
    """{(target, test, round): value} for every measurement that produced one."""
    out = {}
    for name in os.listdir(section_dir):
        m = NAME.match(name)
        if m:
            v = value(os.path.join(section_dir, name), m["test"])
            if v is not None:
                out[(m["target"], m["test"], int(m["round"]))] = v
    return out


def by_row(measured):
    """{(target, test): [values in round order]}, what the median table needs."""
    out = {}
    for (target, test, _), v in sorted(measured.items()):
        out.setdefault((target, test), []).append(v)
    return out


def fmt(v):
    return "—" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.1f}")


def table(title, data, targets, ratios):
    tests = [t for t in TESTS if any((tg, t[0]) in data for tg in targets)]
    if not tests:
        return ""
    med = {k: statistics.median(v) for k, v in data.items()}
    rounds = max(len(v) for v in data.values())
    head = ["test", "unit"] + targets + [f"{a} / {b}" for a, b in ratios]
    lines = [f"### {title}", "",
             f"Median of {rounds} interleaved rounds; [min–max] below each median.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for test, label, unit in tests:
        cells = [label, unit]
        for tg in targets:
            vals = data.get((tg, test))
            cells.append(f"{fmt(med[(tg, test)])} [{fmt(min(vals))}–{fmt(max(vals))}]" if vals else "—")
        for a, b in ratios:
            if (a, test) in med and (b, test) in med and med[(b, test)] > 0:
                cells.append(f"{med[(a, test)] / med[(b, test)]:.2f}x")
            else:
                cells.append("—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def paired_table(by_round, ratios):
    """Per-round ratios (both sides measured in the same round): median and [min–max] per row."""
    lines = []
    for test, label, _ in TESTS:
        cells = []
        for a, b in ratios:
            r = [v / by_round[(b, test, n)] for (t, x, n), v in by_round.items()
                 if t == a and x == test and by_round.get((b, test, n), 0) > 0]
            cells.append(f"{statistics.median(r):.2f}x [{min(r):.2f}–{max(r):.2f}]" if r else "—")
        if any(c != "—" for c in cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if not lines:
        return ""
    head = ["test"] + [f"{a} / {b}" for a, b in ratios]
    return "\n".join(["#### Per-round ratios", "",
                      "The ratio of the two measurements of the same round, median and [min–max] over the "
                      "rounds: how far one round moves a ratio.", "",
                      "| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + lines) + "\n"


def cpu_table(path, targets, base):
    """Server CPU over the guest boot from cpu.txt (target user_ticks system_ticks ticks_per_s)."""
    try:
        with open(path) as f:
            rows = {p[0]: [int(x) for x in p[1:4]] for p in (l.split() for l in f) if len(p) == 4}
    except (OSError, ValueError):
        return ""
    shown = [t for t in targets if t in rows]
    if not shown:
        return ""
    total = {t: (rows[t][0] + rows[t][1]) / rows[t][2] for t in shown}
    lines = ["#### Server CPU over the boot", "",
             "User + system CPU of each server process from the guest's start to its end, every round "
             "(warm-up included), the same workload on each share; 9p is served inside QEMU.", "",
             "| server | user s | system s | total s | / " + base + " |", "|---|---|---|---|---|"]
    for t in shown:
        u, s, hz = rows[t]
        ratio = f"{total[t] / total[base]:.2f}x" if base in total and total[base] > 0 else "—"
        lines.append(f"| {t} | {u / hz:.1f} | {s / hz:.1f} | {total[t]:.1f} | {ratio} |")
    return "\n".join(lines) + "\n"


def main():
    run = sys.argv[1]
    parts = []
    for sub, title, targets, ratios in SECTIONS:
        d = os.path.join(run, sub)
        if os.path.isdir(d):
            measured = collect(d)
            t = table(title, by_row(measured), targets, ratios)
            if t:
                parts.append(t)
                if sub == "guest":
                    parts.append(paired_table(measured, ratios))
                c = cpu_table(os.path.join(d, "cpu.txt"), targets, targets[0])
                if c:
                    parts.append(c)
    print("\n".join(parts), end="")


if __name__ == "__main__":
    main()
