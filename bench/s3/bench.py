#!/usr/bin/env python3
"""S3 benchmark driver (run through bench/s3/run.sh).

One S3Proxy (standalone, filesystem store) behind an nginx reverse proxy whose access log counts
every request; four clients take turns against it: vfsgw, s3fs and rclone mounts (each in its own
top-level directory of one bucket) and the AWS SDK itself (SdkBench.java, the ceiling). Writes
results.json and results.md into the work directory; run.sh copies the table into docs.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.join(REPO, "bench", "s3")
WORK = os.environ.get("BENCH_S3_WORK", "/tmp/vfsgw-bench-s3")
MIB = int(os.environ.get("BENCH_S3_MIB", "256"))
RAND_SECONDS = int(os.environ.get("BENCH_S3_RAND_SECONDS", "20"))
# A cap on random reads as well as time: a client that downloads the whole file behind the reader
# (s3fs) would otherwise return most of the file from its local copy and hide its over-fetch.
RAND_IOS = int(os.environ.get("BENCH_S3_RAND_IOS", "1000"))
SMALL = int(os.environ.get("BENCH_S3_SMALL", "1000"))
LISTN = int(os.environ.get("BENCH_S3_LIST", "10000"))
CLIENTS = os.environ.get("BENCH_S3_CLIENTS", "sdk,vfsgw,s3fs,rclone").split(",")
# Rounds are interleaved (every client once, then again): a slow minute of the shared machine hits
# every client of that round alike. Reported: the median per figure, and the min-max of the rates.
ROUNDS = int(os.environ.get("BENCH_S3_ROUNDS", "3"))
RATES = ("write_mibps", "read_mibps", "rand_iops")
MEDIANS = RATES + ("write_s", "read_s", "rand_overfetch", "list_s", "create_ms", "stat_ms", "unlink_ms")
ACCESS, SECRET, BUCKET = "bench-access", "bench-secret-key", "bench"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(cmd, **kw):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise SystemExit(f"failed (exit {r.returncode}): {cmd[:300]}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return r.stdout


def drop_caches():
    sh("sync; echo 3 > /proc/sys/vm/drop_caches")


def wait(what, cond, timeout=120.0):
    end = time.time() + timeout
    while not cond():
        if time.time() > end:
            raise SystemExit("timed out waiting for " + what)
        time.sleep(0.05)


def mounted(d):
    with open("/proc/self/mounts") as f:
        return (" " + d + " ") in f.read()


class AccessLog:
    """nginx's access log: one line per request; phases are byte offsets into it."""

    LINE = re.compile(r'(\S+) (\S+) "([^"]*)" (\d+) (\d+) (\d+)')

    def __init__(self, path):
        self.path = path

    def mark(self):
        time.sleep(0.3)  # nginx logs a request when it ends; let stragglers land
        return os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def since(self, off):
        with open(self.path) as f:
            f.seek(off)
            out = []
            for line in f:
                m = self.LINE.match(line)
                if m:
                    out.append((m.group(2), m.group(3), int(m.group(4)), int(m.group(5)), int(m.group(6))))
            return out


def kind(method, uri):
    path, _, query = uri.partition("?")
    if method == "GET" and path.rstrip("/") == "/" + BUCKET:
        return "LIST"
    if method == "PUT" and "partNumber" in query:
        return "UploadPart"
    if method == "POST" and "uploadId" in query:
        return "Complete"
    if method == "POST" and "uploads" in query:
        return "CreateMPU"
    if method == "PUT" and "x-amz-copy-source" in query:
        return "COPY"
    return method


def summary(reqs):
    counts = {}
    for m, u, st, _b, _l in reqs:
        k = kind(m, u)
        counts[k] = counts.get(k, 0) + 1
    return counts


def fmt_counts(c):
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: -kv[1])) or "0"


class Bench:
    def __init__(self):
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK + "/store")
        os.makedirs(WORK + "/nginx-tmp")
        self.procs = []
        self.env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="us-east-1")
        self.cp = open(os.environ["BENCH_S3_CLASSPATH_FILE"]).read().strip()
        self.s3port = free_port()
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = AccessLog(WORK + "/access.log")
        self.results = {"size_mib": MIB, "rand_seconds": RAND_SECONDS, "small": SMALL, "list": LISTN,
                        "rounds": ROUNDS, "clients": {}}

    # ---------------------------------------------------------------- infrastructure
    def start(self):
        sh(f"javac -nowarn -cp '{self.cp}' -d {WORK}/classes {HERE}/SdkBench.java {HERE}/BenchServer.java")
        self.spawn(["java", "-Xmx2g", "-cp", f"{self.cp}:{WORK}/classes", "BenchServer", WORK + "/store",
                    str(self.s3port), ACCESS, SECRET], "s3proxy")
        wait("S3Proxy", lambda: self.port_open(self.s3port), 60)
        conf = open(HERE + "/nginx.conf.in").read().replace("@WORK@", WORK) \
            .replace("@S3PORT@", str(self.s3port)).replace("@PORT@", str(self.port))
        open(WORK + "/nginx.conf", "w").write(conf)
        self.spawn(["nginx", "-c", WORK + "/nginx.conf", "-p", WORK], "nginx")
        wait("nginx", lambda: self.port_open(self.port), 20)
        self.sdk("mb")
        self.sdk("populate", "list10k/", str(LISTN))
        sh(f"head -c {MIB}M /dev/urandom > {WORK}/src.bin")
        # What the mounts read: an object none of them wrote (rclone would serve its own writes
        # from its local cache), one server-side copy per client.
        self.sdk("seqwrite", "shared/read.bin", WORK + "/src.bin", "8", "8")
        for c in CLIENTS:
            self.sdk("copy", "shared/read.bin", c + "/read.bin")

    def port_open(self, port):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    def spawn(self, cmd, name, env=None):
        logf = open(f"{WORK}/{name}.log", "w")
        p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env or self.env)
        self.procs.append((name, p))
        return p

    def sdk_warm(self, cmd, *args):
        """SdkBench after one untimed pass: returns (its result, the log offset where the timed pass starts)."""
        p = subprocess.Popen(["java", "-cp", f"{self.cp}:{WORK}/classes", "SdkBench", self.endpoint, BUCKET,
                              "warm-" + cmd, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             env=self.env)
        if p.stdout.readline().strip() != "warm":
            raise SystemExit(f"SdkBench warm-{cmd} failed")
        off = self.log.mark()
        p.stdin.write("go\n")
        p.stdin.flush()
        out = p.stdout.read()
        if p.wait() != 0:
            raise SystemExit(f"SdkBench warm-{cmd} failed")
        return json.loads(out.strip().splitlines()[-1]), off

    def sdk(self, *args):
        r = subprocess.run(["java", "-cp", f"{self.cp}:{WORK}/classes", "SdkBench", self.endpoint, BUCKET, *args],
                           capture_output=True, text=True, env=self.env)
        if r.returncode != 0:
            raise SystemExit(f"SdkBench {args} failed:\n{r.stderr[-3000:]}")
        return json.loads(r.stdout.strip().splitlines()[-1])

    def stop(self):
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()

    # ---------------------------------------------------------------- mounts
    def mount(self, client):
        mnt = f"{WORK}/mnt-{client}"
        os.makedirs(mnt, exist_ok=True)
        if client == "vfsgw":
            # Through the launcher: its JVM options are part of what is measured.
            p = self.spawn([REPO + "/vfsgw", "mount", mnt, "--backend", "s3", "--bucket", BUCKET,
                            "--endpoint", self.endpoint, "--path-style", "--cache-dir", WORK + "/vfsgw-cache"]
                           + os.environ.get("BENCH_S3_VFSGW_ARGS", "").split(), client)
        elif client == "s3fs":
            pw = WORK + "/s3fs-passwd"
            open(pw, "w").write(f"{ACCESS}:{SECRET}\n")
            os.chmod(pw, 0o600)
            p = self.spawn(["s3fs", BUCKET, mnt, "-f", "-o", "url=" + self.endpoint, "-o", "use_path_request_style",
                            "-o", "passwd_file=" + pw, "-o", "endpoint=us-east-1"], client)
        elif client == "rclone":
            env = {k: v for k, v in self.env.items() if k != "AWS_CA_BUNDLE"}   # rclone refuses it over http
            env.update(RCLONE_CONFIG_BENCH_TYPE="s3", RCLONE_CONFIG_BENCH_PROVIDER="Other",
                       RCLONE_CONFIG_BENCH_ENDPOINT=self.endpoint, RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=ACCESS,
                       RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=SECRET, RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE="true",
                       RCLONE_CONFIG_BENCH_REGION="us-east-1")
            p = self.spawn(["rclone", "mount", "bench:" + BUCKET, mnt, "--vfs-cache-mode", "writes",
                            "--vfs-write-back", "1s", "--cache-dir", WORK + "/rclone-cache"], client, env)
        wait(client + " mounted", lambda: mounted(mnt) or p.poll() is not None, 60)
        if p.poll() is not None:
            raise SystemExit(f"{client} exited: see {WORK}/{client}.log")
        return mnt, p

    def unmount(self, mnt, p):
        sh(f"umount {mnt} || fusermount3 -u {mnt}")
        p.wait(60)

    # ---------------------------------------------------------------- phases
    def wait_uploaded(self, off, prefix, size, n=1, timeout=300):
        """rclone uploads after close: wait until the server has the object(s) (complete or PUT)."""
        def done():
            hits = 0
            for m, u, st, _b, ln in self.log.since(off):
                path, _, q = u.partition("?")
                if st == 200 and path.startswith(prefix) and (
                        (m == "POST" and "uploadId" in q) or (m == "PUT" and not q and ln >= size)):
                    hits += 1
            return hits >= n
        wait("upload of " + prefix, done, timeout)

    def run_mount(self, client):
        mnt, p = self.mount(client)
        d = f"{mnt}/{client}"
        os.makedirs(d, exist_ok=True)
        r = {}
        size = MIB << 20
        # One untimed pass, as the SDK client gets one: code warmed up, connections open.
        off = self.log.mark()
        sh(f"dd if={WORK}/src.bin of={d}/warm.bin bs=1M count=64 status=none")
        self.wait_uploaded(off, f"/{BUCKET}/{client}/warm.bin", 64 << 20)
        drop_caches()
        sh(f"cat {d}/warm.bin > /dev/null")
        os.remove(f"{d}/warm.bin")
        time.sleep(1)
        drop_caches()
        # The source file in the page cache, as it is for the SDK client (its untimed pass read
        # it): the write figure is the upload path's, not the local disk's.
        sh(f"cat {WORK}/src.bin > /dev/null")
        off = self.log.mark()
        t0 = time.time()
        sh(f"dd if={WORK}/src.bin of={d}/seq.bin bs=1M status=none")
        self.wait_uploaded(off, f"/{BUCKET}/{client}/seq.bin", size)
        r["write_s"] = time.time() - t0
        r["write_mibps"] = MIB / r["write_s"]
        r["write_reqs"] = summary(self.log.since(off))
        time.sleep(2)

        rand = (f"fio --name=rand --filename={d}/read.bin --rw=randread --bs=4k --ioengine=psync "
                f"--runtime={RAND_SECONDS} --number_ios={RAND_IOS} --invalidate=1 --fadvise_hint=1 --output-format=json")
        # One untimed pass first, as the SDK client gets one: a JIT-compiled client (vfsgw's and
        # the SDK's) reads at half its rate for its first thousand random reads.
        drop_caches()
        sh(rand)
        drop_caches()
        off = self.log.mark()
        fio = json.loads(sh(rand))
        job = fio["jobs"][0]["read"]
        reqs = self.log.since(off)
        fetched = sum(b for m, _u, _s, b, _l in reqs if m == "GET")
        r["rand_iops"] = job["iops"]
        r["rand_bytes"] = job["io_bytes"]
        r["rand_fetched"] = fetched
        r["rand_overfetch"] = fetched / max(1, job["io_bytes"])
        r["rand_reqs"] = summary(reqs)

        drop_caches()
        off = self.log.mark()
        t0 = time.time()
        sh(f"dd if={d}/read.bin of=/dev/null bs=1M status=none")
        r["read_s"] = time.time() - t0
        r["read_mibps"] = MIB / r["read_s"]
        r["read_reqs"] = summary(self.log.since(off))

        off = self.log.mark()
        t0 = time.time()
        n = int(sh(f"ls -f {mnt}/list10k | wc -l")) - 2
        r["list_s"] = time.time() - t0
        r["list_entries"] = n
        r["list_reqs"] = summary(self.log.since(off))

        sd = f"{d}/small"
        os.makedirs(sd, exist_ok=True)
        off = self.log.mark()
        t0 = time.time()
        for i in range(SMALL):
            with open(f"{sd}/f{i}", "wb") as f:
                f.write(b"x" * 100)
        if client == "rclone":
            self.wait_uploaded(off, f"/{BUCKET}/{client}/small/", 100, SMALL)
        r["create_ms"] = (time.time() - t0) * 1000 / SMALL
        r["create_reqs"] = summary(self.log.since(off))
        off = self.log.mark()
        t0 = time.time()
        for i in range(SMALL):
            os.stat(f"{sd}/f{i}")
        r["stat_ms"] = (time.time() - t0) * 1000 / SMALL
        r["stat_reqs"] = summary(self.log.since(off))
        off = self.log.mark()
        t0 = time.time()
        for i in range(SMALL):
            os.unlink(f"{sd}/f{i}")
        r["unlink_ms"] = (time.time() - t0) * 1000 / SMALL
        r["unlink_reqs"] = summary(self.log.since(off))
        self.unmount(mnt, p)
        return r

    def run_sdk(self):
        r = {}
        w, off = self.sdk_warm("seqwrite", "sdk/seq.bin", WORK + "/src.bin", "8", "8")
        # the transfer's own rate (measured inside SdkBench, without JVM start and client set-up)
        r["write_s"], r["write_mibps"], r["write_reqs"] = w["seconds"], w["mibps"], summary(self.log.since(off))
        x, off = self.sdk_warm("rand", "sdk/read.bin", str(RAND_SECONDS), str(RAND_IOS))
        reqs = self.log.since(off)
        fetched = sum(b for m, _u, _s, b, _l in reqs if m == "GET")
        r["rand_iops"], r["rand_bytes"], r["rand_fetched"] = x["iops"], x["bytes"], fetched
        r["rand_overfetch"] = fetched / max(1, x["bytes"])
        r["rand_reqs"] = summary(reqs)
        x, off = self.sdk_warm("seqread", "sdk/read.bin", "8", "8")
        r["read_s"], r["read_mibps"], r["read_reqs"] = x["seconds"], x["mibps"], summary(self.log.since(off))
        x, off = self.sdk_warm("list", "list10k/")
        r["list_s"], r["list_entries"], r["list_reqs"] = x["seconds"], x["entries"], summary(self.log.since(off))
        x, off = self.sdk_warm("small", "sdk/small/", str(SMALL))
        reqs = self.log.since(off)
        r["create_ms"], r["stat_ms"], r["unlink_ms"] = (x["create"] * 1000 / SMALL, x["stat"] * 1000 / SMALL,
                                                        x["unlink"] * 1000 / SMALL)
        r["create_reqs"] = {"PUT": sum(1 for q in reqs if q[0] == "PUT")}
        r["stat_reqs"] = {"HEAD": sum(1 for q in reqs if q[0] == "HEAD")}
        r["unlink_reqs"] = {"DELETE": sum(1 for q in reqs if q[0] == "DELETE")}
        return r

    def main(self):
        t0 = time.time()
        try:
            self.start()
            runs = {c: [] for c in CLIENTS}
            for rnd in range(1, ROUNDS + 1):
                for c in CLIENTS:
                    print(f"== round {rnd}/{ROUNDS}: {c}", flush=True)
                    runs[c].append(self.run_sdk() if c == "sdk" else self.run_mount(c))
                    print(json.dumps(runs[c][-1]), flush=True)
            for c, rs in runs.items():
                self.results["clients"][c] = combine(rs)
        finally:
            self.stop()
        self.results["wall_s"] = time.time() - t0
        json.dump(self.results, open(WORK + "/results.json", "w"), indent=1)
        open(WORK + "/results.md", "w").write(report(self.results))
        print(report(self.results))


def combine(rounds):
    """One client's rounds: medians of the figures, min-max of the rates, request counts of round 1."""
    out = dict(rounds[0])
    for k in MEDIANS:
        vals = sorted(r[k] for r in rounds)
        out[k] = vals[len(vals) // 2] if len(vals) % 2 else (vals[len(vals) // 2 - 1] + vals[len(vals) // 2]) / 2
        if k in RATES:
            out[k + "_range"] = [vals[0], vals[-1]]
    out["rounds"] = rounds
    return out


def report(res):
    c = res["clients"]
    sdk = c.get("sdk")

    def ratio(client, key, invert=False):
        if not sdk or client not in c or not sdk.get(key):
            return ""
        v = c[client][key] / sdk[key]
        return f" ({(1 / v if invert else v):.2f}x)"

    def per(reqs, n):
        return sum(reqs.values()) / n

    lines = [f"Sizes: sequential {res['size_mib']} MiB, random 4 KiB reads: {RAND_IOS} or {res['rand_seconds']} s, "
             f"whichever ends first (fio psync, 1 job, page cache dropped), listing {res['list']} objects, {res['small']} small files "
             f"(100 B). Median of {res['rounds']} interleaved round(s), [min–max] of the rates; ratios are of medians, "
             f"to the direct SDK client. Whole run: {res['wall_s'] / 60:.1f} min.", "",
             "| client | seq write MiB/s | seq read MiB/s | rand 4K IOPS | server bytes per byte read (rand) "
             "| ls 10k s | create ms | stat ms | unlink ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    def rng(r, key):
        lo, hi = r.get(key + "_range", (r[key], r[key]))
        return f" [{lo:.0f}–{hi:.0f}]" if len(r.get("rounds", [])) > 1 else ""

    for name, r in c.items():
        lines.append(f"| {name} | {r['write_mibps']:.0f}{ratio(name, 'write_mibps')}{rng(r, 'write_mibps')} "
                     f"| {r['read_mibps']:.0f}{ratio(name, 'read_mibps')}{rng(r, 'read_mibps')} "
                     f"| {r['rand_iops']:.0f}{ratio(name, 'rand_iops')}{rng(r, 'rand_iops')} | {r['rand_overfetch']:.2f} "
                     f"| {r['list_s']:.2f} | {r['create_ms']:.2f} | {r['stat_ms']:.2f} | {r['unlink_ms']:.2f} |")
    lines += ["", "S3 requests per operation (counted by the nginx reverse proxy in front of S3Proxy):", "",
              f"| client | seq write {res['size_mib']} MiB | seq read | rand read (per 4K read) | ls 10k "
              "| create (per file) | stat (per file) | unlink (per file) |",
              "|---|---|---|---|---|---|---|---|"]
    for name, r in c.items():
        nread = max(1, r["rand_bytes"] // 4096)
        lines.append(f"| {name} | {fmt_counts(r['write_reqs'])} | {fmt_counts(r['read_reqs'])} "
                     f"| {per(r['rand_reqs'], nread):.2f} | {fmt_counts(r['list_reqs'])} "
                     f"| {per(r['create_reqs'], res['small']):.2f} ({fmt_counts(r['create_reqs'])}) "
                     f"| {per(r['stat_reqs'], res['small']):.2f} | {per(r['unlink_reqs'], res['small']):.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    Bench().main()
