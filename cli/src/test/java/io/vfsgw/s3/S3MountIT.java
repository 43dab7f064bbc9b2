package io.vfsgw.s3;

import static io.vfsgw.s3.S3Mount.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.backend.s3.S3Clients;
import io.vfsgw.backend.s3.S3ProxyFixture;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * The S3 backend through a real host mount (/dev/fuse, vfsgw in this JVM) on S3Proxy in this JVM:
 * ordinary tools with checksums, every result checked again with the SDK; a large file both ways;
 * a 10,000-entry directory; four concurrent readers; s3fs-fuse reading what we wrote and the
 * reverse through two mounts of one bucket; the server stopped mid-upload.
 */
class S3MountIT {
    /** 1 GiB; -Ds3it.largeMiB=256 on a slow machine. */
    private static final int LARGE_MIB = Integer.getInteger("s3it.largeMiB", 1024);

    static S3ProxyFixture server;
    static S3AsyncClient sdk;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        server = S3ProxyFixture.shared();
        // generous timeouts: this client checksums whole large objects on a busy machine
        sdk = S3Clients.build(server.options(Path.of("/nonexistent")).attemptTimeout(Duration.ofMinutes(5))
                .callTimeout(Duration.ofMinutes(10)).build());
    }

    @AfterAll
    static void stop() {
        sdk.close();
    }

    /**
     * A server that refuses an upload as not implemented (S3Proxy answers 501 to encryption) must
     * fail every close(2), not only the first: the kernel takes ENOSYS from FLUSH to mean "this
     * file system has no flush", returns success and never sends FLUSH again on the mount.
     */
    @Test
    void aServerThatRefusesUploadsFailsEveryCloseNotOnlyTheFirst() throws Exception {
        try (S3Mount m = S3Mount.vfsgw(server, "refused", tmp.resolve("cache"), "--sse", "AES256")) {
            String out = sh("cd '" + m.dir() + "' && python3 -c '\n"
                    + "import os, errno\n"
                    + "for i in range(3):\n"
                    + "    fd = os.open(\"f%d\" % i, os.O_CREAT | os.O_WRONLY, 0o644)\n"
                    + "    os.write(fd, b\"data\")\n"
                    + "    try:\n"
                    + "        os.close(fd); print(\"closed\")\n"
                    + "    except OSError as e:\n"
                    + "        print(\"EOPNOTSUPP\" if e.errno == errno.EOPNOTSUPP else errno.errorcode[e.errno])\n"
                    + "'");
            assertEquals(List.of("EOPNOTSUPP", "EOPNOTSUPP", "EOPNOTSUPP"), List.of(out.strip().split("\n")), out);
        }
    }

    @Test
    void everyOperationWithChecksums() throws Exception {
        String prefix = "ops";
        try (S3Mount m = S3Mount.vfsgw(server, prefix, tmp.resolve("cache"))) {
            String out = sh("set -x; W='" + tmp + "'; cd '" + m.dir() + "'\n"
                    + "head -c 3000000 /dev/urandom > $W/src.bin\n"
                    + "cp $W/src.bin a.bin\n"
                    + "mkdir d && mv a.bin d/b.bin && ln -s b.bin d/link\n"
                    + "chmod 600 d/b.bin && touch -d '2020-01-02 03:04:05 UTC' d/b.bin\n"
                    + "cat d/link > $W/cat.out\n"
                    + "dd if=$W/src.bin of=d/dd.bin bs=64k status=none && dd if=d/dd.bin of=$W/dd.out bs=128k status=none\n"
                    + "dd if=$W/src.bin of=d/gone.bin bs=1M status=none && rm d/gone.bin\n"
                    + "mkdir e && rmdir e\n"
                    + "sha256sum < $W/src.bin; sha256sum < $W/cat.out; sha256sum < $W/dd.out\n"
                    + "stat -c '%a %Y %s' d/b.bin; readlink d/link; ls -A . d | tr -s '\\n' ' '\n");
            String[] lines = out.strip().split("\n");
            assertEquals(lines[0], lines[1], "cat through the symlink: " + out);
            assertEquals(lines[0], lines[2], "dd read back: " + out);
            assertEquals("600 1577934245 3000000", lines[3]);
            assertEquals("b.bin", lines[4]);
            assertEquals(".: d d: b.bin dd.bin link", lines[5].strip());
            String sum = lines[0].split(" ")[0];
            // Now the same facts from S3 itself.
            assertEquals(sum, sha256(prefix + "/d/b.bin"));
            assertEquals(sum, sha256(prefix + "/d/dd.bin"));
            Map<String, String> meta = sdk.headObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(prefix + "/d/b.bin"))
                    .join().metadata();
            assertEquals(String.valueOf(0100600), meta.get("mode"));
            assertEquals("1577934245", meta.get("mtime"));
            Map<String, String> link = sdk.headObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(prefix + "/d/link"))
                    .join().metadata();
            assertEquals(0120000, Integer.parseInt(link.get("mode")) & 0170000, "symlink type in x-amz-meta-mode");
            assertTrue(absent(prefix + "/a.bin"), "mv removed the source object");
            assertTrue(absent(prefix + "/d/gone.bin"), "rm removed the object");
            assertTrue(absent(prefix + "/e/"), "rmdir removed the marker");
            sdk.headObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(prefix + "/d/")).join();   // mkdir's marker
        }
    }

    /**
     * Locks are served by the gateway (S3 has none): a byte-range lock and a flock held by one
     * process are refused to another and reported by F_GETLK, close releases them; SQLite, which
     * needs fcntl locks, keeps a database consistent under three concurrent writers, and the
     * object in the bucket is the file the mount shows.
     */
    @Test
    void locksBetweenProcessesAndSqliteWithConcurrentWriters() throws Exception {
        String prefix = "locks";
        try (S3Mount m = S3Mount.vfsgw(server, prefix, tmp.resolve("cache"))) {
            String out = sh("cd '" + m.dir() + "'; echo 0123456789 > lk; python3 - <<'EOF'\n"
                    + "import fcntl, os, struct, subprocess, sys\n"
                    + "fd = os.open('lk', os.O_RDWR)\n"
                    + "fcntl.lockf(fd, fcntl.LOCK_EX, 5, 0)\n"
                    + "fcntl.flock(os.open('lk', os.O_RDONLY), fcntl.LOCK_EX)\n"
                    + "probe = '''import fcntl, os, struct\n"
                    + "fd = os.open('lk', os.O_RDWR)\n"
                    + "out = []\n"
                    + "for kind, f in (('posix', lambda: fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 5, 0)),\n"
                    + "                ('flock', lambda: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB))):\n"
                    + "    try:\n"
                    + "        f(); out.append(kind + ' granted')\n"
                    + "    except OSError as e:\n"
                    + "        out.append(kind + ' errno ' + str(e.errno))\n"
                    + "lk = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack('hhqqi', fcntl.F_WRLCK, 0, 0, 0, 0))\n"
                    + "t, w, s, l, pid = struct.unpack('hhqqi', lk)\n"
                    + "out.append('getlk %s %d %d %s' % ('wr' if t == fcntl.F_WRLCK else t, s, l, pid == os.getppid()))\n"
                    + "print(', '.join(out))'''\n"
                    + "run = lambda: subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True).stdout.strip()\n"
                    + "print(run())\n"
                    + "os._exit(0) if os.fork() == 0 else os.wait()   # a child's exit does not release the parent's locks\n"
                    + "print(run())\n"
                    + "EOF\n"
                    + "python3 -c \"import fcntl, os; fd = os.open('lk', os.O_RDWR); fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); "
                    + "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free after close')\"\n");
            assertEquals("""
                    posix errno 11, flock errno 11, getlk wr 0 5 True
                    posix errno 11, flock errno 11, getlk wr 0 5 True
                    free after close""", out.strip());

            String db = sh("cd '" + m.dir() + "'; python3 - <<'EOF'\n"
                    + "import sqlite3, multiprocessing as mp\n"
                    + "c = sqlite3.connect('t.db'); c.execute('create table t(w int, i int)'); c.commit(); c.close()\n"
                    + "def work(w):\n"
                    + "    c = sqlite3.connect('t.db', timeout=120)\n"
                    + "    for i in range(20):\n"
                    + "        c.execute('insert into t values (?, ?)', (w, i)); c.commit()\n"
                    + "ps = [mp.Process(target=work, args=(w,)) for w in range(3)]\n"
                    + "[p.start() for p in ps]; [p.join() for p in ps]\n"
                    + "c = sqlite3.connect('t.db')\n"
                    + "print(c.execute('select count(*), count(distinct w), sum(i) from t').fetchone(),"
                    + " c.execute('pragma integrity_check').fetchone()[0])\n"
                    + "EOF\n"
                    + "sha256sum < t.db");
            String[] lines = db.strip().split("\n");
            assertEquals("(60, 3, 570) ok", lines[0], "three writers' rows, no corruption");
            assertEquals(lines[1].split(" ")[0], sha256(prefix + "/t.db"), "the bucket holds the database the mount shows");
        }
    }

    @Test
    void largeFileBothWaysAndFourConcurrentReaders() throws Exception {
        String prefix = "large";
        Path src = tmp.resolve("large.src");
        sh("head -c " + LARGE_MIB + "M /dev/urandom > '" + src + "'");
        String sum = sh("sha256sum < '" + src + "'").split(" ")[0];
        try (S3Mount m = S3Mount.vfsgw(server, prefix, tmp.resolve("cache"))) {
            long t0 = System.nanoTime();
            sh("cp '" + src + "' '" + m.dir() + "/big.bin'");   // close(2) returns once the object is complete
            double writeS = (System.nanoTime() - t0) / 1e9;
            assertEquals(sum, sha256(prefix + "/big.bin"), "object written through the mount");
            Files.delete(src);
            // Read direction: server-side copies the mount never saw, so no page cache can answer.
            copy(prefix + "/big.bin", prefix + "/copy.bin");
            copy(prefix + "/big.bin", prefix + "/copy4.bin");
            t0 = System.nanoTime();
            assertEquals(sum, sh("sha256sum < '" + m.dir() + "/copy.bin'").split(" ")[0], "read through the mount");
            double readS = (System.nanoTime() - t0) / 1e9;
            System.out.printf("S3MountIT large file %d MiB: write %.1f s (%.0f MiB/s), read %.1f s (%.0f MiB/s)%n",
                    LARGE_MIB, writeS, LARGE_MIB / writeS, readS, LARGE_MIB / readS);
            // Four readers of one file at once, each with its own handle and read-ahead.
            t0 = System.nanoTime();
            String four = sh("cd '" + m.dir() + "'; for i in 1 2 3 4; do (sha256sum < copy4.bin > /dev/shm/s3it-r$i) & done; "
                    + "wait; cat /dev/shm/s3it-r[1-4]; rm -f /dev/shm/s3it-r[1-4]");
            System.out.printf("S3MountIT 4 concurrent readers of %d MiB: %.1f s%n", LARGE_MIB, (System.nanoTime() - t0) / 1e9);
            List<String> sums = four.lines().map(l -> l.split(" ")[0]).toList();
            assertEquals(List.of(sum, sum, sum, sum), sums);
        }
    }

    /**
     * A file first met in a listing has no mode or owner yet (they are in its metadata): shown with
     * the defaults, the kernel kept 0644 for the entry timeout and checked permissions against it,
     * so a 0600 file of another user was readable right after an ls.
     */
    @Test
    void aFileFirstSeenInAListingShowsItsOwnModeAtOnce() throws Exception {
        Map<String, String> meta = Map.of("mode", String.valueOf(0100600), "uid", "1234", "gid", "5678");
        sdk.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key("private/d/secret").metadata(meta),
                AsyncRequestBody.fromString("not for everyone")).join();
        try (S3Mount m = S3Mount.vfsgw(server, "private", tmp.resolve("cache"))) {
            String d = m.dir() + "/d";
            assertEquals("secret", sh("ls '" + d + "'").strip());   // READDIRPLUS: the listing's entry
            assertEquals("600 1234 5678", sh("stat -c '%a %u %g' '" + d + "/secret'").strip());
            assertEquals("denied", sh("setpriv --reuid=65534 --regid=65534 --clear-groups cat '" + d + "/secret'"
                    + " >/dev/null 2>&1 && echo read || echo denied").strip());
        }
    }

    @Test
    void tenThousandEntryDirectory() throws Exception {
        String prefix = "bigdir";
        int n = 10_000;
        Semaphore inflight = new Semaphore(64);
        CompletableFuture<?>[] puts = new CompletableFuture<?>[n];
        for (int i = 0; i < n; i++) {
            inflight.acquire();
            String key = String.format("%s/d/f%05d", prefix, i);
            puts[i] = sdk.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(key), AsyncRequestBody.fromString("x"))
                    .whenComplete((r, e) -> inflight.release());
        }
        CompletableFuture.allOf(puts).join();
        try (S3Mount m = S3Mount.vfsgw(server, prefix, tmp.resolve("cache"))) {
            long t0 = System.nanoTime();
            assertEquals(String.valueOf(n), sh("ls '" + m.dir() + "/d' | wc -l").strip());
            double lsS = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            assertEquals(String.valueOf(n), sh("find '" + m.dir() + "/d' -type f -size 1c | wc -l").strip());
            System.out.printf("S3MountIT 10,000 entries: ls %.2f s, find (with stat) %.2f s%n", lsS,
                    (System.nanoTime() - t0) / 1e9);
            assertEquals("f09999", sh("ls '" + m.dir() + "/d' | tail -1").strip());
        }
    }

    @Test
    void s3fsReadsWhatVfsgwWroteAndTheReverse() throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/s3fs"))) {
            System.out.println("SKIPPED S3MountIT.s3fsReadsWhatVfsgwWroteAndTheReverse: needs /usr/bin/s3fs (apt-get install s3fs)");
            Assumptions.abort("s3fs missing");
        }
        String prefix = "interop";
        sdk.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(prefix + "/"), AsyncRequestBody.empty()).join();
        try (S3Mount ours = S3Mount.vfsgw(server, prefix, tmp.resolve("cache"));
             S3Mount theirs = S3Mount.s3fs(server, prefix, tmp)) {
            Path a = ours.dir();
            Path b = theirs.dir();
            String sum = sh("head -c 5000000 /dev/urandom > '" + tmp + "/v.src'; sha256sum < '" + tmp + "/v.src'").split(" ")[0];
            sh("cd '" + a + "'; mkdir fromvfsgw; cp '" + tmp + "/v.src' fromvfsgw/file; chmod 640 fromvfsgw/file; "
                    + "touch -d '2021-05-06 07:08:09 UTC' fromvfsgw/file; ln -s file fromvfsgw/link");
            S3Mount.await(Duration.ofSeconds(10), "s3fs sees fromvfsgw/file",
                    () -> Files.exists(b.resolve("fromvfsgw/file")));
            assertEquals(sum + " 640 1620284889 file", sh("cd '" + b + "/fromvfsgw'; echo $(sha256sum < link | cut -d' ' -f1) "
                    + "$(stat -c '%a %Y' file) $(readlink link)").strip(), "through s3fs");

            String sum2 = sh("head -c 7000000 /dev/urandom > '" + tmp + "/s.src'; sha256sum < '" + tmp + "/s.src'").split(" ")[0];
            sh("cd '" + b + "'; mkdir froms3fs; cp '" + tmp + "/s.src' froms3fs/file; chmod 604 froms3fs/file; "
                    + "touch -d '2019-01-01 00:00:01 UTC' froms3fs/file; ln -s file froms3fs/link");
            S3Mount.await(Duration.ofSeconds(10), "vfsgw sees froms3fs/file with s3fs's mode",
                    () -> sh("stat -c %a '" + a + "/froms3fs/file' 2>/dev/null || true").strip().equals("604"));
            assertEquals(sum2 + " 604 1546300801 file", sh("cd '" + a + "/froms3fs'; echo $(sha256sum < link | cut -d' ' -f1) "
                    + "$(stat -c '%a %Y' file) $(readlink link)").strip(), "through vfsgw");
        }
    }

    @Test
    void serverStoppedMidUploadLosesNothingAcknowledged() throws Exception {
        String prefix = "fault";
        Path cache = tmp.resolve("cache");
        byte[] chunk = new byte[1 << 20];
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        Random rnd = new Random(42);
        try (S3Mount m = S3Mount.vfsgw(server, prefix, cache)) {
            Path f = m.dir().resolve("log.bin");
            FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            boolean stopped = false;
            try {
                for (int i = 0; i < 48; i++) {
                    if (i == 20) {   // 20 MiB written: two 8 MiB parts streamed, the third under way
                        server.stopServer();
                        stopped = true;
                    }
                    rnd.nextBytes(chunk);
                    md.update(chunk);
                    ByteBuffer b = ByteBuffer.wrap(chunk);
                    while (b.hasRemaining()) {
                        ch.write(b);   // acknowledged: the staging file has it
                    }
                }
                IOException fsync = assertThrows(IOException.class, () -> ch.force(true), "fsync with the server down");
                System.out.println("S3MountIT fault: fsync failed as it must: " + fsync);
                IOException close = assertThrows(IOException.class, ch::close, "close with the server down");
                System.out.println("S3MountIT fault: close failed as it must: " + close);
                long staged;
                try (var s = Files.list(cache.resolve("staging"))) {
                    staged = s.filter(p -> !p.getFileName().toString().endsWith("~manifest")).count();
                }
                assertEquals(1, staged, "the staging file is kept");
            } finally {
                if (stopped) {
                    server.startServer();
                }
                if (ch.isOpen()) {
                    ch.close();
                }
            }
            // The server is back: the next close (of any handle) uploads what was acknowledged.
            try (FileChannel again = FileChannel.open(f, StandardOpenOption.READ)) {
                again.force(true);
            }
            assertEquals(HexFormat.of().formatHex(md.digest()), sha256(prefix + "/log.bin"));
            assertEquals(48L << 20, Files.size(f));
        }
        try (var s = Files.list(cache.resolve("staging"))) {
            assertEquals(0, s.count(), "staging file removed once uploaded");
        }
    }

    @Test
    void recoverCommandListsAndUploadsLeftoverStagingFiles() throws Exception {
        // What a gateway killed before it could upload leaves: a staging file and its manifest.
        Path staging = Files.createDirectories(tmp.resolve("cache/staging"));
        String sum = sh("head -c 2000000 /dev/urandom > '" + staging + "/m1-7-recovered%2Ffile'; "
                + "sha256sum < '" + staging + "/m1-7-recovered%2Ffile'").split(" ")[0];
        Files.writeString(staging.resolve("m1-7-recovered%2Ffile~manifest"), "bucket=" + S3ProxyFixture.BUCKET
                + "\nkey=recovered/renamed\nmeta.mode=33188\n");
        String jar = Path.of(System.getProperty("vfsgw.jar", "target/vfsgw.jar")).toAbsolutePath().toString();
        String env = "AWS_ACCESS_KEY_ID=" + S3ProxyFixture.ACCESS + " AWS_SECRET_ACCESS_KEY=" + S3ProxyFixture.SECRET + " ";
        String java = System.getProperty("java.home") + "/bin/java";
        String list = sh(java + " -jar " + jar + " s3 recover --cache-dir '" + tmp.resolve("cache") + "'");
        assertTrue(list.contains("m1-7-recovered%2Ffile  ->  s3://" + S3ProxyFixture.BUCKET
                + "/recovered/renamed  (2000000 bytes)"), list);
        assertTrue(absent("recovered/renamed"), "listing uploads nothing");
        String up = sh(env + java + " -jar " + jar + " s3 recover --upload --cache-dir '" + tmp.resolve("cache")
                + "' --endpoint " + server.endpoint() + " --path-style");
        assertTrue(up.contains("uploaded to s3://" + S3ProxyFixture.BUCKET + "/recovered/renamed"), up);
        assertEquals(sum, sha256("recovered/renamed"));
        try (var s = Files.list(staging)) {
            assertEquals(0, s.count(), "recovered files are removed");
        }
        assertTrue(sh(java + " -jar " + jar + " s3 recover --cache-dir '" + tmp.resolve("cache") + "'")
                .contains("no staging files"));
    }

    private static String sha256(String key) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = sdk.getObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(key),
                AsyncResponseTransformer.toBlockingInputStream()).join()) {
            byte[] buf = new byte[1 << 16];   // test-side checksum only, not the data path
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void copy(String from, String to) {
        sdk.copyObject(b -> b.sourceBucket(S3ProxyFixture.BUCKET).sourceKey(from)
                .destinationBucket(S3ProxyFixture.BUCKET).destinationKey(to)).join();
    }

    private static boolean absent(String key) {
        try {
            sdk.headObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(key)).join();
            return false;
        } catch (java.util.concurrent.CompletionException e) {
            return e.getCause() instanceof NoSuchKeyException
                    || e.getCause() instanceof software.amazon.awssdk.services.s3.model.S3Exception s && s.statusCode() == 404;
        }
    }
}
