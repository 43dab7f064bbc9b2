package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * Keys that cannot be file names, stored in Adobe S3Mock (S3Proxy cannot hold them): what the
 * backend shows for each, with exactly one WARN per key and the valid entries still listed.
 *
 * <p>The rule (docs/s3.md, Namespace): a name that is both an object and a prefix is the
 * directory, the object is shadowed; a key with an empty, "." or ".." segment, or a segment over
 * 255 bytes, is skipped; a directory whose only keys are skipped ones is an empty directory
 * that rmdir refuses with ENOTEMPTY (the keys are still there).
 */
class OddKeysS3MockIT {
    private static final RequestContext CTX = new RequestContext(1000, 1000, 42);
    private static final long ROOT = StorageBackend.ROOT_ID;
    private static final String LONG = "L".repeat(256);

    private static S3MockFixture server;
    private static S3AsyncClient client;

    @TempDir
    Path cache;

    @BeforeAll
    static void start() throws Exception {
        long t0 = System.nanoTime();
        server = S3MockFixture.start();
        System.out.printf("S3Mock up in %.1f s at %s%n", (System.nanoTime() - t0) / 1e9, server.endpoint());
        client = server.client();
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private void put(String key, String body) {
        client.putObject(b -> b.bucket(S3MockFixture.BUCKET).key(key), AsyncRequestBody.fromString(body)).join();
    }

    /** The keys S3Mock really stored (it must hold every odd one, or this test proves nothing). */
    private List<String> storedKeys(String prefix) {
        List<String> keys = new ArrayList<>();
        client.listObjectsV2Paginator(b -> b.bucket(S3MockFixture.BUCKET).prefix(prefix))
                .contents().subscribe(o -> keys.add(o.key())).join();
        return keys;
    }

    private S3Backend backend(String prefix, UnaryOperator<S3Options.Builder> tweak) {
        return new S3Backend(tweak.apply(server.options(cache).prefix(prefix)).build(), client);
    }

    private static Map<String, FileType> listDir(S3Backend b, long dir) throws FsException {
        long fh = b.opendir(CTX, dir, 0).fh();
        Map<String, FileType> out = new TreeMap<>();
        long cookie = 0;
        while (true) {
            List<DirEntry> batch = new ArrayList<>();
            b.readdir(CTX, dir, fh, cookie, e -> batch.size() < 3 && batch.add(e));
            if (batch.isEmpty()) {
                break;
            }
            for (DirEntry e : batch) {
                out.put(e.name().toString(), e.type());
            }
            cookie = batch.get(batch.size() - 1).nextCookie();
        }
        b.releasedir(CTX, dir, fh);
        out.remove(".");
        out.remove("..");
        return out;
    }

    private static String readAll(S3Backend b, long node) throws FsException {
        long fh = b.open(CTX, node, OpenFlags.O_RDONLY).fh();
        Buffers.Sink sink = new Buffers.Sink(4096);
        b.read(CTX, node, fh, 0, sink);
        b.release(CTX, node, fh, 0, 0);
        return StandardCharsets.UTF_8.decode(sink.filled()).toString();
    }

    @Test
    void oddKeysAreSkippedWithOneWarningEachAndValidEntriesStayVisible(TestInfo info) throws Exception {
        String p = "odd/";
        put(p + "ok1", "one");
        put(p + "a", "file a");                // object a ...
        put(p + "a/x", "x in dir a");          // ... and directory a: the directory wins
        put(p + "b//c", "empty segment");      // b is a directory; b//c cannot be a path
        put(p + "./d", "dot segment");
        put(p + "e/../f", "dot-dot segment");
        put(p + "g/.", "object named .");
        put(p + "g/ok2", "two");
        put(p + LONG, "256-byte name");
        put(p + "h/" + LONG + "/y", "256-byte directory name");
        put(p + "h/ok3", "three");
        List<String> stored = storedKeys(p);
        assertEquals(11, stored.size(), "S3Mock holds every odd key as sent (else the test is void): " + stored);

        Map<String, String> skipped = Map.of(
                p + "a", "shadowed by a directory",
                p + "b//", "empty",
                p + "./", "'.'",
                p + "e/../", "'..'",
                p + "g/.", "'.'",
                p + LONG, "too long",
                p + "h/" + LONG + "/", "too long");

        try (WarnCapture warns = WarnCapture.start()) {
            // page size 1: object "a" and prefix "a/" arrive on different pages; ttl 0 lists every time
            S3Backend b = backend(p, o -> o.listPageSize(1).metadataTtl(Duration.ZERO));
            try {
                for (int pass = 0; pass < 2; pass++) {
                    assertEquals(Map.of("ok1", FileType.REGULAR, "a", FileType.DIRECTORY, "b", FileType.DIRECTORY,
                                    "e", FileType.DIRECTORY, "g", FileType.DIRECTORY, "h", FileType.DIRECTORY),
                            listDir(b, ROOT), "root, pass " + pass);
                    Entry a = b.lookup(CTX, ROOT, FileName.of("a"));
                    assertEquals(FileType.DIRECTORY, FileType.ofMode(a.attr().mode()));
                    assertEquals(Map.of("x", FileType.REGULAR), listDir(b, a.nodeId()));
                    assertEquals("x in dir a", readAll(b, b.lookup(CTX, a.nodeId(), FileName.of("x")).nodeId()));
                    Entry bDir = b.lookup(CTX, ROOT, FileName.of("b"));
                    assertEquals(Map.of(), listDir(b, bDir.nodeId()), "b holds only b//c: empty");
                    Entry e = b.lookup(CTX, ROOT, FileName.of("e"));
                    assertEquals(Map.of(), listDir(b, e.nodeId()), "e holds only e/../f: empty");
                    Entry g = b.lookup(CTX, ROOT, FileName.of("g"));
                    assertEquals(Map.of("ok2", FileType.REGULAR), listDir(b, g.nodeId()));
                    assertEquals("two", readAll(b, b.lookup(CTX, g.nodeId(), FileName.of("ok2")).nodeId()));
                    Entry h = b.lookup(CTX, ROOT, FileName.of("h"));
                    assertEquals(Map.of("ok3", FileType.REGULAR), listDir(b, h.nodeId()));
                    assertEquals("one", readAll(b, b.lookup(CTX, ROOT, FileName.of("ok1")).nodeId()));
                    assertThrows(FsException.class, () -> b.lookup(CTX, ROOT, FileName.of("d")));
                }
                // b looks empty but still holds b//c: rmdir must not pretend it removed anything
                FsException notEmpty = assertThrows(FsException.class, () -> b.rmdir(CTX, ROOT, FileName.of("b")));
                assertEquals(Errno.ENOTEMPTY, notEmpty.errno());
                assertEquals(11, storedKeys(p).size(), "nothing was deleted");
            } finally {
                b.close();
            }
            // a cold backend (no listing yet): lookup("a") HEADs a and LISTs a/ at once; the directory wins there too
            S3Backend cold = backend(p, o -> o);
            try {
                assertEquals(FileType.DIRECTORY, FileType.ofMode(cold.lookup(CTX, ROOT, FileName.of("a")).attr().mode()));
                FsException miss = assertThrows(FsException.class, () -> cold.lookup(CTX, ROOT, FileName.of("f")));
                assertEquals(Errno.ENOENT, miss.errno());
            } finally {
                cold.close();
            }

            String log = warns.text();
            System.out.println(info.getDisplayName() + ": warnings seen:\n" + log.lines()
                    .filter(l -> l.contains("skipped")).map(l -> "  " + l).reduce("", (x, y) -> x + y + "\n"));
            for (var s : skipped.entrySet()) {
                // per backend instance: the first backend saw every key, the cold one only listed nothing
                assertEquals(1, count(log, "S3 key '" + s.getKey() + "' skipped"),
                        "exactly one warning for " + s.getKey() + " (" + s.getValue() + ")");
            }
            assertEquals(skipped.size(), count(log, "' skipped: "), "no other key was skipped:\n" + log);
        }
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    /**
     * Tees System.err (where slf4j-simple writes, looking the stream up on every line) into a
     * buffer, so the test can count WARN lines; restores it on close.
     */
    static final class WarnCapture implements AutoCloseable {
        private final PrintStream saved = System.err;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        static WarnCapture start() {
            WarnCapture w = new WarnCapture();
            OutputStream tee = new OutputStream() {
                @Override
                public void write(int b) {
                    synchronized (w.buf) {
                        w.buf.write(b);
                    }
                    w.saved.write(b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    synchronized (w.buf) {
                        w.buf.write(b, off, len);
                    }
                    w.saved.write(b, off, len);
                }
            };
            System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
            return w;
        }

        String text() {
            synchronized (buf) {
                return buf.toString(StandardCharsets.UTF_8);
            }
        }

        @Override
        public void close() {
            System.setErr(saved);
        }
    }
}
