package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Attr;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/** 500s injected on the wire (FaultProxy): retried when transient, EIO and no data lost when not. */
class S3FaultIT {
    private static final RequestContext CTX = new RequestContext(1000, 1000, 1);
    private static final long ROOT = StorageBackend.ROOT_ID;

    @TempDir
    Path cache;
    private S3ProxyFixture server;
    private FaultProxy proxy;
    private S3AsyncClient client;
    private S3AsyncClient raw;
    private RequestCounter counter;

    @BeforeEach
    void setUp() throws Exception {
        server = S3ProxyFixture.shared();
        proxy = new FaultProxy(server.endpoint().getPort());
        counter = new RequestCounter();
        S3Options o = server.options(cache).endpoint(proxy.endpoint()).maxRetries(2).build();
        client = S3Clients.build(o, List.of(counter));
        raw = server.client(List.of());
    }

    @AfterEach
    void tearDown() throws Exception {
        client.close();
        raw.close();
        proxy.close();
    }

    private S3Backend backend(String prefix) {
        return new S3Backend(server.options(cache).endpoint(proxy.endpoint()).maxRetries(2).prefix(prefix).build(),
                client);
    }

    /**
     * {@code ls -l} of a listed directory needs each file's metadata (a listing has none), which
     * is a HEAD per file; in listing order, HeadAhead keeps the next files' HEADs in flight, so a
     * store 50 ms away costs far less than 50 ms per file, with still one HEAD per file, and each
     * file gets its own object's metadata.
     */
    private static final int LATENCY_MS = 50;

    @Test
    void aWalkInListingOrderHeadsAheadOfItself() throws Exception {
        int files = 150;
        List<CompletableFuture<?>> puts = new ArrayList<>();
        for (int i = 0; i < files; i++) {
            String key = String.format("ahead/d/f%03d", i);
            Map<String, String> meta = i % 10 == 0 ? Map.of("mode", String.valueOf(0100600)) : Map.of();
            puts.add(raw.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(key).metadata(meta),
                    AsyncRequestBody.fromBytes(new byte[i])));
        }
        CompletableFuture.allOf(puts.toArray(new CompletableFuture[0])).join();
        S3Backend b = backend("ahead/");
        long dir = b.lookup(CTX, ROOT, FileName.of("d")).nodeId();
        long fh = b.opendir(CTX, dir, 0).fh();
        List<DirEntry> entries = new ArrayList<>();
        b.readdir(CTX, dir, fh, 0, entries::add);
        proxy.latencyMs = LATENCY_MS;
        counter.reset();
        long t0 = System.nanoTime();
        for (DirEntry e : entries) {
            if (e.name().isDotOrDotDot()) {
                continue;
            }
            long node = b.lookup(CTX, dir, e.name()).nodeId();
            FsException none = assertThrows(FsException.class, () -> b.getxattr(CTX, node, "security.selinux"));
            assertEquals(Errno.ENODATA, none.errno());
            int i = Integer.parseInt(e.name().toString().substring(1));
            Attr a = b.getattr(CTX, node, 0);
            assertEquals(i % 10 == 0 ? 0600 : 0644, a.mode() & 07777, e.name().toString());
            assertEquals(i, a.size(), e.name().toString());
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        b.releasedir(CTX, dir, fh);
        int heads = counter.get("HeadObject");
        System.out.printf("S3FaultIT: %d files' metadata %d ms away: %d ms, %d HEADs%n", files, LATENCY_MS, ms, heads);
        assertEquals(files, heads, "one HEAD per file");
        assertEquals(0, counter.get("GetObject"), "a walk that opens nothing fetches no data");
        assertTrue(ms < files * LATENCY_MS / 3, "walk took " + ms + " ms; one HEAD after another would take "
                + files * LATENCY_MS + " ms");
    }

    /**
     * diff -r or cp over files whose metadata we already read: past the metadata timeout each open
     * revalidates its file, and in listing order HeadAhead reads the next ones ahead. Those HEADs
     * started after we last learned the files, so the opens must take them: one request per file,
     * not one ahead and one more at its open.
     */
    @Test
    void reopeningKnownFilesInListingOrderTakesTheHeadsReadAhead() throws Exception {
        int files = 40;
        Walk w = walkOver("reopen/", files, java.time.Duration.ofMillis(300));
        S3Backend b = w.backend();
        long dir = w.dir();
        List<FileName> names = w.names();
        for (FileName n : names) {
            b.getattr(CTX, b.lookup(CTX, dir, n).nodeId(), 0);   // every file's metadata read once
        }
        Thread.sleep(400);   // past the metadata timeout: every open revalidates
        assertEquals(files, CoreOps.names(b, dir).size());
        counter.reset();
        for (FileName n : names) {
            long node = b.lookup(CTX, dir, n).nodeId();
            long fh = b.open(CTX, node, OpenFlags.O_RDONLY).fh();
            b.release(CTX, node, fh, 0, 0);
        }
        // a walk that opens is taken for one that reads: small files ahead come by GET, with their metadata
        assertEquals(files, counter.get("HeadObject") + counter.get("GetObject"),
                "one request per file: " + counter.snapshot());
        b.close();
    }

    /**
     * diff -r, cp -r or a job reading a dataset of small files: lookup, stat, open and read of every
     * file in listing order. Once two files in a row were opened, the small files ahead are fetched
     * whole by GET instead of HEAD, and their opens read those bytes: one request per file where
     * it was a HEAD and a GET, and in parallel instead of one after another. A large file still
     * streams on its own GETs. Every byte read must be the file's.
     */
    @Test
    void aWalkThatReadsSmallFilesFetchesEachWithOneRequest() throws Exception {
        int files = 100;
        int large = 60;   // one file over the size fetched whole
        List<byte[]> data = new ArrayList<>();
        List<CompletableFuture<?>> puts = new ArrayList<>();
        for (int i = 0; i < files; i++) {
            byte[] bytes = random(i == large ? HeadAhead.SMALL_OBJECT + 5000 : i * 37, 100 + i);
            data.add(bytes);
            String key = String.format("reading/d/f%03d", i);
            puts.add(raw.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(key), AsyncRequestBody.fromBytes(bytes)));
        }
        CompletableFuture.allOf(puts.toArray(new CompletableFuture[0])).join();
        S3Backend b = backend("reading/");
        long dir = b.lookup(CTX, ROOT, FileName.of("d")).nodeId();
        assertEquals(files, CoreOps.names(b, dir).size());
        proxy.latencyMs = 20;
        counter.reset();
        long t0 = System.nanoTime();
        for (int i = 0; i < files; i++) {
            long node = b.lookup(CTX, dir, FileName.of(String.format("f%03d", i))).nodeId();
            assertEquals(data.get(i).length, b.getattr(CTX, node, 0).size());
            assertArrayEquals(data.get(i), CoreOps.read(b, node, 0, data.get(i).length), "f" + i);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("S3FaultIT: %d small files read in listing order 20 ms away: %d ms, %s%n", files, ms,
                counter.snapshot());
        assertEquals(files, counter.get("GetObject"), "one GET per file: " + counter.snapshot());
        assertEquals(3, counter.get("HeadObject"), "the first two files, and the large one: " + counter.snapshot());
        assertTrue(ms < files * 20, "walk took " + ms + " ms; a request per file one after another takes "
                + files * 20 + " ms");
        b.close();
    }

    /** With a metadata timeout of 0 every answer read ahead would be stale on arrival: none is sent. */
    @Test
    void withNoMetadataTimeoutNothingIsReadAhead() throws Exception {
        int files = 20;
        Walk w = walkOver("fresh/", files, java.time.Duration.ZERO);
        S3Backend b = w.backend();
        counter.reset();
        for (FileName n : w.names()) {
            b.getattr(CTX, b.lookup(CTX, w.dir(), n).nodeId(), 0);
        }
        Map<String, Integer> asked = counter.snapshot();
        System.out.println("S3FaultIT: " + files + " lookups and stats with no metadata timeout: " + asked);
        assertEquals(0, counter.get("GetObject"), asked.toString());
        assertEquals(files, counter.get("HeadObject"), "each stat's own HEAD only (191 with read-ahead): " + asked);
        b.close();
    }

    /**
     * A walk slower than the metadata timeout allows for (a program that works on each file):
     * answers read ahead are good for that timeout, so the window only reaches as far as the walk
     * gets within it. A full window would expire mostly unused and every file be HEADed twice.
     */
    @Test
    void aSlowWalkReadsAheadOnlyAsFarAsItGetsWithinTheTimeout() throws Exception {
        int files = 30;
        Walk w = walkOver("slow/", files, java.time.Duration.ofMillis(300));
        S3Backend b = w.backend();
        counter.reset();
        for (FileName n : w.names()) {
            long node = b.lookup(CTX, w.dir(), n).nodeId();
            b.getattr(CTX, node, 0);
            Thread.sleep(60);   // the program's work on this file
        }
        Map<String, Integer> asked = counter.snapshot();
        System.out.println("S3FaultIT: a walk of " + files + " files at 60 ms each, 300 ms timeout: " + asked);
        assertTrue(counter.get("HeadObject") <= files + 6, "about one HEAD per file: " + asked);
        b.close();
    }

    /**
     * READDIRPLUS of a directory of directories looks each one up in listing order, and a listed
     * directory's attributes are in its marker: the markers ahead are HEADed in parallel, each
     * once, and each directory still shows its own marker's mode.
     */
    @Test
    void aDirectoryOfDirectoriesHeadsItsMarkersAhead() throws Exception {
        int dirs = 40;
        List<CompletableFuture<?>> puts = new ArrayList<>();
        for (int i = 0; i < dirs; i++) {
            String key = String.format("markers/d/s%03d/", i);
            Map<String, String> meta = Map.of("mode", String.valueOf(i % 4 == 0 ? 040700 : 040755));
            puts.add(raw.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(key).metadata(meta),
                    AsyncRequestBody.fromBytes(new byte[0])));
        }
        CompletableFuture.allOf(puts.toArray(new CompletableFuture[0])).join();
        S3Backend b = backend("markers/");
        long dir = b.lookup(CTX, ROOT, FileName.of("d")).nodeId();
        List<String> names = new ArrayList<>(CoreOps.names(b, dir));
        assertEquals(dirs, names.size());
        proxy.latencyMs = LATENCY_MS;
        counter.reset();
        long t0 = System.nanoTime();
        for (String n : names) {
            Attr a = b.lookup(CTX, dir, FileName.of(n)).attr();
            int i = Integer.parseInt(n.substring(1));
            assertEquals(i % 4 == 0 ? 0700 : 0755, a.mode() & 07777, n);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("S3FaultIT: %d directories' markers %d ms away: %d ms, %s%n", dirs, LATENCY_MS, ms,
                counter.snapshot());
        assertEquals(dirs, counter.get("HeadObject"), "one HEAD per marker: " + counter.snapshot());
        assertTrue(ms < dirs * LATENCY_MS / 3, "took " + ms + " ms; one HEAD after another takes "
                + dirs * LATENCY_MS + " ms");
        b.close();
    }

    /** A directory d of {@code files} small objects under {@code prefix}, seen by a fresh backend. */
    private record Walk(S3Backend backend, long dir, List<FileName> names) {
    }

    private Walk walkOver(String prefix, int files, java.time.Duration metadataTimeout) throws Exception {
        for (int i = 0; i < files; i++) {
            String key = String.format("%sd/f%03d", prefix, i);
            raw.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(key), AsyncRequestBody.fromString(key)).join();
        }
        S3Backend b = new S3Backend(server.options(cache).endpoint(proxy.endpoint()).maxRetries(2).prefix(prefix)
                .metadataTtl(metadataTimeout).build(), client);
        long dir = b.lookup(CTX, ROOT, FileName.of("d")).nodeId();
        List<FileName> names = new ArrayList<>();
        for (String n : CoreOps.names(b, dir)) {
            names.add(FileName.of(n));
        }
        assertEquals(files, names.size());
        return new Walk(b, dir, names);
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static void writeAll(S3Backend b, long node, long fh, byte[] data) throws FsException {
        for (int off = 0; off < data.length; off += 128 << 10) {
            int len = Math.min(128 << 10, data.length - off);
            b.write(CTX, node, fh, off, new Buffers.Source(ByteBuffer.wrap(data, off, len)), false);
        }
    }

    private byte[] rawGet(String key) {
        return raw.getObject(r -> r.bucket(S3ProxyFixture.BUCKET).key(key), AsyncResponseTransformer.toBytes())
                .join().asByteArray();
    }

    @Test
    void aTransient500IsRetriedAndInvisible() throws Exception {
        S3Backend b = backend("fault-transient/");
        byte[] data = random(20 << 20, 1);
        proxy.failNext(1, r -> r.method().equals("PUT") && r.target().contains("partNumber=2"));
        CreateResult cr = b.create(CTX, ROOT, FileName.literal("f"), 0644, OpenFlags.O_WRONLY, 0);
        writeAll(b, cr.entry().nodeId(), cr.open().fh(), data);
        b.release(CTX, cr.entry().nodeId(), cr.open().fh(), 0, 0);
        assertEquals(1, proxy.injected.get());
        assertEquals(4, counter.get("UploadPart"), "3 parts + 1 retry: " + counter.snapshot());
        assertArrayEquals(data, rawGet("fault-transient/f"));

        proxy.failNext(1, r -> r.method().equals("GET") && r.target().contains("/f"));
        Entry e = b.lookup(CTX, ROOT, FileName.literal("f"));
        long fh = b.open(CTX, e.nodeId(), OpenFlags.O_RDONLY).fh();
        Buffers.Sink s = new Buffers.Sink(4096);
        b.read(CTX, e.nodeId(), fh, 12345, s);
        assertEquals(ByteBuffer.wrap(data, 12345, 4096), s.filled());
        b.release(CTX, e.nodeId(), fh, 0, 0);
        assertEquals(2, proxy.injected.get());
        b.close();
    }

    @Test
    void persistent500sGiveEioAndTheDataSurvivesForTheRetry() throws Exception {
        S3Backend b = backend("fault-persistent/");
        byte[] small = random(100_000, 2);
        CreateResult cr = b.create(CTX, ROOT, FileName.literal("small"), 0644, OpenFlags.O_WRONLY, 0);
        long node = cr.entry().nodeId();
        writeAll(b, node, cr.open().fh(), small);
        proxy.failNext(Integer.MAX_VALUE, r -> r.method().equals("PUT"));
        FsException e = assertThrows(FsException.class, () -> b.flush(CTX, node, cr.open().fh(), 0));
        assertEquals(Errno.EIO, e.errno());
        assertEquals(3, counter.get("PutObject"), "1 attempt + 2 retries: " + counter.snapshot());
        Path staging = b.stagingFileOf(node);
        assertNotNull(staging);
        assertEquals(small.length, Files.size(staging));
        assertEquals(Errno.EIO, assertThrows(FsException.class,
                () -> b.release(CTX, node, cr.open().fh(), 0, 0)).errno(), "close reports it too");
        assertTrue(Files.exists(staging), "staging kept after a failed release");
        proxy.heal();
        b.syncfs(CTX);   // the retry: the node stayed pinned with its dirty data
        assertArrayEquals(small, rawGet("fault-persistent/small"));

        // GETs that keep failing: EIO to the reader, nothing hangs
        Entry en = b.lookup(CTX, ROOT, FileName.literal("small"));
        proxy.failNext(Integer.MAX_VALUE, r -> r.method().equals("GET") && r.target().endsWith("/small"));
        long fh = b.open(CTX, en.nodeId(), OpenFlags.O_RDONLY).fh();
        assertEquals(Errno.EIO, assertThrows(FsException.class,
                () -> b.read(CTX, en.nodeId(), fh, 5000, new Buffers.Sink(100))).errno());
        b.release(CTX, en.nodeId(), fh, 0, 0);
        assertTrue(proxy.injected.get() >= 6, "3 PUT + 3 GET attempts refused: " + proxy.injected.get());
        proxy.heal();
        b.close();
    }

    /**
     * A directory rename is a copy of every key and then a delete of the originals. When a copy
     * keeps failing, the rename fails with EIO and leaves what was there: the source whole, and
     * no half tree at the target that would appear there once the negative lookup expired.
     */
    @Test
    void aDirectoryRenameWhoseCopyFailsRemovesTheCopiesItMade() throws Exception {
        String prefix = "fault-rename/";
        List<String> names = List.of("src/", "src/f1", "src/f2", "src/f3", "src/f4", "src/sub/", "src/sub/f5");
        for (String n : names) {
            raw.putObject(r -> r.bucket(S3ProxyFixture.BUCKET).key(prefix + n),
                    AsyncRequestBody.fromString(n.endsWith("/") ? "" : n)).join();
        }
        S3Backend b = backend(prefix);
        assertEquals(FileType.DIRECTORY, b.lookup(CTX, ROOT, FileName.literal("src")).attr().type());
        proxy.failNext(Integer.MAX_VALUE, r -> r.method().equals("PUT") && r.target().endsWith("/dst/f3"));
        FsException e = assertThrows(FsException.class,
                () -> b.rename(CTX, ROOT, FileName.literal("src"), ROOT, FileName.literal("dst"), 0));
        assertEquals(Errno.EIO, e.errno());
        assertTrue(proxy.injected.get() >= 3, "the copy of f3 and its retries refused: " + proxy.injected.get());
        assertEquals(List.of(), rawKeys(prefix + "dst/"), "no copies left at the target");
        assertEquals(names.stream().map(n -> prefix + n).sorted().toList(), rawKeys(prefix + "src/"));

        proxy.heal();
        b.rename(CTX, ROOT, FileName.literal("src"), ROOT, FileName.literal("dst"), 0);
        assertEquals(List.of(), rawKeys(prefix + "src/"));
        assertEquals(names.stream().map(n -> prefix + n.replaceFirst("^src/", "dst/")).sorted().toList(),
                rawKeys(prefix + "dst/"));
        assertArrayEquals("src/sub/f5".getBytes(), rawGet(prefix + "dst/sub/f5"));
        b.close();
    }

    private List<String> rawKeys(String prefix) {
        return raw.listObjectsV2(r -> r.bucket(S3ProxyFixture.BUCKET).prefix(prefix)).join().contents().stream()
                .map(software.amazon.awssdk.services.s3.model.S3Object::key).sorted().toList();
    }
}
