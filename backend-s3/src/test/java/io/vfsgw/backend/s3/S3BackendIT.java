package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Attr;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import io.vfsgw.spi.StatFs;
import io.vfsgw.spi.StorageBackend;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/** Every SPI operation of {@link S3Backend} against a real S3 server (S3Proxy on 127.0.0.1). */
class S3BackendIT {
    private static final RequestContext CTX = new RequestContext(1000, 1000, 42);
    private static final long ROOT = StorageBackend.ROOT_ID;

    private static S3ProxyFixture server;
    private static RequestCounter counter;
    private static S3AsyncClient client;
    private static S3AsyncClient raw;

    @TempDir
    Path cache;
    private String prefix;
    private final List<S3Backend> backends = new ArrayList<>();

    @BeforeAll
    static void startServer() throws Exception {
        server = S3ProxyFixture.shared();
        counter = new RequestCounter();
        client = server.client(List.of(counter));
        raw = server.client(List.of());
    }

    @AfterAll
    static void stopServer() throws Exception {
        client.close();
        raw.close();
    }

    @BeforeEach
    void prefixPerTest(TestInfo info) {
        prefix = "t-" + info.getTestMethod().orElseThrow().getName() + "/";
        counter.reset();
    }

    @AfterEach
    void closeBackends() throws FsException {
        for (S3Backend b : backends) {
            b.close();
        }
    }

    private S3Backend backend() {
        return backend(b -> b);
    }

    /** A fresh backend (empty caches) on this test's prefix. */
    private S3Backend backend(UnaryOperator<S3Options.Builder> tweak) {
        S3Backend b = new S3Backend(tweak.apply(server.options(cache).prefix(prefix)).build(), client);
        backends.add(b);
        return b;
    }

    // ------------------------------------------------------------ helpers

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static String sha256(ByteBuffer b) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(b.duplicate());
        return java.util.HexFormat.of().formatHex(md.digest());
    }

    private static FileName n(String s) {
        return FileName.literal(s);
    }

    /** Creates a file, writes data in 128 KiB writes, closes it (flush + release). */
    private static Entry writeFile(S3Backend b, long dir, String name, byte[] data) throws FsException {
        CreateResult cr = b.create(CTX, dir, n(name), 0644, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 022);
        long node = cr.entry().nodeId();
        long fh = cr.open().fh();
        for (int off = 0; off < data.length; off += 128 << 10) {
            int len = Math.min(128 << 10, data.length - off);
            b.write(CTX, node, fh, off, new Buffers.Source(ByteBuffer.wrap(data, off, len)), false);
        }
        b.flush(CTX, node, fh, 0);
        b.release(CTX, node, fh, 0, 0);
        return cr.entry();
    }

    /** Reads the whole file sequentially with 128 KiB reads, like the kernel does. */
    private static ByteBuffer readAll(S3Backend b, long node) throws FsException {
        long size = b.getattr(CTX, node, -1).size();
        long fh = b.open(CTX, node, OpenFlags.O_RDONLY).fh();
        ByteBuffer all = ByteBuffer.allocate((int) size);
        for (long off = 0; off < size; ) {
            Buffers.Sink sink = new Buffers.Sink(128 << 10);
            b.read(CTX, node, fh, off, sink);
            ByteBuffer got = sink.filled();
            assertTrue(got.remaining() > 0, "short read at " + off + " of " + size);
            off += got.remaining();
            all.put(got);
        }
        b.release(CTX, node, fh, 0, 0);
        return all.flip();
    }

    private static byte[] rawGet(String key) {
        return raw.getObject(r -> r.bucket(S3ProxyFixture.BUCKET).key(key), AsyncResponseTransformer.toBytes())
                .join().asByteArray();
    }

    private static HeadObjectResponse rawHead(String key) {
        return raw.headObject(r -> r.bucket(S3ProxyFixture.BUCKET).key(key)).join();
    }

    private static void rawPut(String key, byte[] data, Map<String, String> meta) {
        raw.putObject(r -> r.bucket(S3ProxyFixture.BUCKET).key(key).metadata(meta), AsyncRequestBody.fromBytes(data))
                .join();
    }

    private static Errno errno(Executable op) {
        return assertThrows(FsException.class, op).errno();
    }

    /** Runs {@code a} and {@code b} on two threads released at the same moment; their outcomes. */
    private static List<String> atOnce(Executable a,
                                       Executable b) throws Exception {
        CyclicBarrier start = new CyclicBarrier(2);
        List<CompletableFuture<String>> runs = new ArrayList<>();
        for (Executable op : List.of(a, b)) {
            runs.add(CompletableFuture.supplyAsync(() -> outcome(() -> {
                start.await();
                op.execute();
            })));
        }
        return List.of(runs.get(0).get(60, TimeUnit.SECONDS), runs.get(1).get(60, TimeUnit.SECONDS));
    }

    /** "ok", or the errno the call failed with. */
    private static String outcome(Executable op) {
        try {
            op.execute();
            return "ok";
        } catch (FsException e) {
            return e.errno().name();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static List<String> names(List<DirEntry> entries) {
        return entries.stream().map(e -> e.name().toString()).toList();
    }

    private static List<DirEntry> listDir(S3Backend b, long dir) throws FsException {
        long fh = b.opendir(CTX, dir, 0).fh();
        List<DirEntry> out = new ArrayList<>();
        long cookie = 0;
        while (true) {
            List<DirEntry> batch = new ArrayList<>();
            // a small reply buffer: 50 entries per readdir, so cookies are exercised
            b.readdir(CTX, dir, fh, cookie, e -> batch.size() < 50 && batch.add(e));
            if (batch.isEmpty()) {
                break;
            }
            out.addAll(batch);
            cookie = batch.get(batch.size() - 1).nextCookie();
        }
        b.releasedir(CTX, dir, fh);
        return out;
    }

    // ------------------------------------------------------------ tests

    /**
     * A file created here and not yet uploaded, replaced by a rename of another such file, is no
     * longer a file of the tree: once the survivor is unlinked the directory is empty and goes.
     */
    @Test
    void aNotYetUploadedFileReplacedByARenameLeavesNothingBehind() throws Exception {
        S3Backend b = backend();
        long d = b.mkdir(CTX, ROOT, FileName.of("d"), 0755, 022).nodeId();
        CreateResult a = b.create(CTX, d, FileName.of("a"), 0644, OpenFlags.O_WRONLY, 022);
        CreateResult c = b.create(CTX, d, FileName.of("c"), 0644, OpenFlags.O_WRONLY, 022);
        b.rename(CTX, d, FileName.of("c"), d, FileName.of("a"), 0);
        b.release(CTX, a.entry().nodeId(), a.open().fh(), 0, 0);
        b.release(CTX, c.entry().nodeId(), c.open().fh(), 0, 0);
        b.unlink(CTX, d, FileName.of("a"));
        b.rmdir(CTX, ROOT, FileName.of("d"));
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> b.lookup(CTX, ROOT, FileName.of("d"))).errno());
    }

    @Test
    void everySpiOperation() throws Exception {
        S3Backend b = backend();
        Entry dir = b.mkdir(CTX, ROOT, n("dir"), 0750, 022);
        assertEquals(FileType.DIRECTORY.modeBits() | 0750, dir.attr().mode());
        assertEquals(Integer.toString(FileType.DIRECTORY.modeBits() | 0750), rawHead(prefix + "dir/").metadata().get("mode"));

        byte[] data = random(300_000, 1);
        Entry f = writeFile(b, dir.nodeId(), "f.bin", data);
        assertArrayEquals(data, rawGet(prefix + "dir/f.bin"));
        assertEquals(sha256(ByteBuffer.wrap(data)), sha256(readAll(b, f.nodeId())));
        assertEquals(300_000, b.getattr(CTX, f.nodeId(), -1).size());
        assertEquals(1000, b.getattr(CTX, f.nodeId(), -1).uid());

        // lookup through a fresh backend (nothing cached) sees the same
        S3Backend fresh = backend();
        Entry d2 = fresh.lookup(CTX, ROOT, n("dir"));
        assertEquals(FileType.DIRECTORY.modeBits() | 0750, d2.attr().mode());
        Entry f2 = fresh.lookup(CTX, d2.nodeId(), n("f.bin"));
        assertEquals(300_000, f2.attr().size());
        assertEquals(FileType.REGULAR.modeBits() | 0644, f2.attr().mode());
        assertEquals(Errno.ENOENT, errno(() -> fresh.lookup(CTX, d2.nodeId(), n("nope"))));
        assertEquals(Errno.ENOTDIR, errno(() -> fresh.lookup(CTX, f2.nodeId(), n("x"))));

        // random writes into the existing object go through staging; read-back and S3 agree
        long fh = b.open(CTX, f.nodeId(), OpenFlags.O_RDWR).fh();
        byte[] patch = "PATCHED".getBytes(StandardCharsets.US_ASCII);
        b.write(CTX, f.nodeId(), fh, 1000, new Buffers.Source(ByteBuffer.wrap(patch)), false);
        b.write(CTX, f.nodeId(), fh, 400_000, new Buffers.Source(ByteBuffer.wrap(patch)), false);   // past EOF: hole
        System.arraycopy(patch, 0, data, 1000, patch.length);
        byte[] grown = new byte[400_000 + patch.length];
        System.arraycopy(data, 0, grown, 0, data.length);
        System.arraycopy(patch, 0, grown, 400_000, patch.length);
        Buffers.Sink s = new Buffers.Sink(16);
        b.read(CTX, f.nodeId(), fh, 1000, s);
        assertEquals("PATCHED", StandardCharsets.US_ASCII.decode(s.filled()).toString().substring(0, 7));
        b.fsync(CTX, f.nodeId(), fh, false);
        b.release(CTX, f.nodeId(), fh, 0, 0);
        assertArrayEquals(grown, rawGet(prefix + "dir/f.bin"));

        // truncate (setattr size) without an open handle is visible in S3 at once
        Attr t = b.setattr(CTX, f.nodeId(), SetAttr.size(10));
        assertEquals(10, t.size());
        assertEquals(10, rawGet(prefix + "dir/f.bin").length);

        // O_TRUNC open + write
        long fh2 = b.open(CTX, f.nodeId(), OpenFlags.O_WRONLY | OpenFlags.O_TRUNC).fh();
        b.write(CTX, f.nodeId(), fh2, 0, new Buffers.Source(ByteBuffer.wrap(patch)), false);
        b.release(CTX, f.nodeId(), fh2, 0, 0);
        assertArrayEquals(patch, rawGet(prefix + "dir/f.bin"));

        // chmod / chown / utimens rewrite metadata (self copy), data untouched
        b.setattr(CTX, f.nodeId(), SetAttr.mode(0600));
        b.setattr(CTX, f.nodeId(), SetAttr.times(null, false, 1_600_000_000_500_000_000L, false));
        Attr owned = b.setattr(RequestContext.ROOT, f.nodeId(), SetAttr.owner(4242, 4343));
        assertEquals(4242, owned.uid());
        Map<String, String> meta = rawHead(prefix + "dir/f.bin").metadata();
        assertEquals(Integer.toString(FileType.REGULAR.modeBits() | 0600), meta.get("mode"));
        assertEquals("4242", meta.get("uid"));
        assertEquals("4343", meta.get("gid"));
        assertEquals("1600000000.500000000", meta.get("mtime"));
        assertArrayEquals(patch, rawGet(prefix + "dir/f.bin"));
        assertEquals(Errno.EPERM, errno(() -> b.setattr(CTX, f.nodeId(), SetAttr.owner(1, null))));
        assertEquals(Errno.EISDIR, errno(() -> b.setattr(CTX, dir.nodeId(), SetAttr.size(0))));

        // symlink / readlink
        Entry l = b.symlink(CTX, dir.nodeId(), n("link"), "f.bin".getBytes(StandardCharsets.UTF_8));
        assertEquals(FileType.SYMLINK, l.attr().type());
        S3Backend fresh1 = backend();
        long freshLink = fresh1.lookup(CTX, fresh1.lookup(CTX, ROOT, n("dir")).nodeId(), n("link")).nodeId();
        assertEquals("f.bin", new String(fresh1.readlink(CTX, freshLink), StandardCharsets.UTF_8));
        assertEquals(Errno.EINVAL, errno(() -> b.readlink(CTX, f.nodeId())));

        // mknod: FIFO as s3fs stores it; devices refused
        Entry fifo = b.mknod(CTX, dir.nodeId(), n("fifo"), FileType.FIFO.modeBits() | 0644, 0, 022);
        assertEquals(FileType.FIFO, fifo.attr().type());
        S3Backend fresh2 = backend();
        assertEquals(FileType.FIFO, fresh2.lookup(CTX, fresh2.lookup(CTX, ROOT, n("dir")).nodeId(), n("fifo"))
                .attr().type());
        assertEquals(Errno.EPERM, errno(() -> b.mknod(CTX, dir.nodeId(), n("dev"),
                FileType.CHARACTER_DEVICE.modeBits() | 0600, 0x0101, 022)));
        assertEquals(Errno.EPERM, errno(() -> b.link(CTX, f.nodeId(), dir.nodeId(), n("hard"))));
        assertEquals(Errno.ENODATA, errno(() -> b.getxattr(CTX, f.nodeId(), "user.x")));   // none set (xattrsLiveInTheObjectsMetadataLikeS3fs)

        // readdir: ".", "..", and the names
        Set<String> names = new HashSet<>();
        for (DirEntry e : listDir(b, dir.nodeId())) {
            names.add(e.name().toString());
        }
        assertEquals(Set.of(".", "..", "f.bin", "link", "fifo"), names);

        // rename a file (copy + delete), NOREPLACE, rename a directory
        b.rename(CTX, dir.nodeId(), n("f.bin"), dir.nodeId(), n("g.bin"), 0);
        assertArrayEquals(patch, rawGet(prefix + "dir/g.bin"));
        S3Backend fresh3 = backend();
        long freshDir = fresh3.lookup(CTX, ROOT, n("dir")).nodeId();
        assertEquals(Errno.ENOENT, errno(() -> fresh3.lookup(CTX, freshDir, n("f.bin"))));
        assertEquals(patch.length, b.getattr(CTX, f.nodeId(), -1).size(), "the node follows the rename");
        assertEquals(Errno.EEXIST, errno(() -> b.rename(CTX, dir.nodeId(), n("g.bin"), dir.nodeId(), n("link"),
                StorageBackend.RENAME_NOREPLACE)));
        assertEquals(Errno.EINVAL, errno(() -> b.rename(CTX, dir.nodeId(), n("g.bin"), dir.nodeId(), n("link"),
                StorageBackend.RENAME_EXCHANGE)));
        b.rename(CTX, ROOT, n("dir"), ROOT, n("dir2"), 0);
        assertArrayEquals(patch, rawGet(prefix + "dir2/g.bin"));
        Entry moved = backend().lookup(CTX, ROOT, n("dir2"));
        assertEquals(FileType.DIRECTORY.modeBits() | 0750, moved.attr().mode(), "the marker moved with its metadata");
        assertEquals(Errno.ENOENT, errno(() -> backend().lookup(CTX, ROOT, n("dir"))));

        // rmdir: ENOTEMPTY, then unlink everything, then it goes
        assertEquals(Errno.ENOTEMPTY, errno(() -> b.rmdir(CTX, ROOT, n("dir2"))));
        for (String name : List.of("g.bin", "link", "fifo")) {
            b.unlink(CTX, dir.nodeId(), n(name));
        }
        assertEquals(Errno.ENOENT, errno(() -> b.lookup(CTX, dir.nodeId(), n("g.bin"))));
        b.rmdir(CTX, ROOT, n("dir2"));
        assertEquals(Errno.ENOENT, errno(() -> backend().lookup(CTX, ROOT, n("dir2"))));

        StatFs st = b.statfs(CTX, ROOT);
        assertTrue(st.blocksAvailable() > (1L << 30), "statfs reports a huge filesystem");
        assertEquals(255, st.nameMax());
    }

    /**
     * S3 caps an object at 5 TiB and an upload at 10,000 parts. Past the first, writes and
     * truncates fail with EFBIG (they used to fill the staging file until the cache disk said
     * "File too large", and the application got EIO). Near the second (with 8 MiB parts, files
     * past 78 GiB), a streamed upload stops and the file goes up in fewer, larger parts. Here the
     * store allows 3 parts: 22 MiB in 5 MiB parts would take 5.
     */
    @Test
    void s3sSizeLimitsGiveEfbigAndLargeFilesUploadInLargerParts() throws Exception {
        S3Backend b = backend(o -> o.partSize(S3Options.MIN_PART_SIZE).maxParts(3));
        CreateResult huge = b.create(CTX, ROOT, n("huge"), 0644, OpenFlags.O_RDWR | OpenFlags.O_CREAT, 022);
        long hugeNode = huge.entry().nodeId();
        assertEquals(Errno.EFBIG, errno(() -> b.write(CTX, hugeNode, huge.open().fh(), Uploads.MAX_OBJECT_SIZE - 1,
                new Buffers.Source(ByteBuffer.wrap(new byte[2])), false)));
        assertEquals(Errno.EFBIG, errno(() -> b.setattr(CTX, hugeNode, SetAttr.size(Uploads.MAX_OBJECT_SIZE + 1))));
        assertEquals(0, b.getattr(CTX, hugeNode, huge.open().fh()).size());
        b.release(CTX, hugeNode, huge.open().fh(), 0, 0);

        counter.reset();
        byte[] data = random(22 << 20, 22);
        writeFile(b, ROOT, "big", data);
        assertEquals(1, counter.get("AbortMultipartUpload"), "the streamed upload stops: " + counter.snapshot());
        assertEquals(1, counter.get("CompleteMultipartUpload"), counter.snapshot().toString());
        assertEquals(2 + 3, counter.get("UploadPart"), "2 streamed, then 3 parts of 8 MiB: " + counter.snapshot());
        S3Backend reader = backend();
        Entry e = reader.lookup(CTX, ROOT, n("big"));
        assertEquals(data.length, e.attr().size());
        assertEquals(sha256(ByteBuffer.wrap(data)), sha256(readAll(reader, e.nodeId())));
        assertEquals(8 << 20, Uploads.partSizeFor(data.length, S3Options.builder("b").partSize(S3Options.MIN_PART_SIZE)
                .maxParts(3).build()));
        assertEquals(8 << 20, Uploads.partSizeFor(78L << 30, S3Options.builder("b").build()), "S3's limits at 8 MiB");
        assertEquals(9 << 20, Uploads.partSizeFor(79L << 30, S3Options.builder("b").build()));
    }

    /** S3 keys end at 1,024 bytes: deeper names fail at creation, not at the upload after writing. */
    @Test
    void namesMakingKeysOver1024BytesFailWithEnametoolong() throws Exception {
        S3Backend b = backend();
        long dir = ROOT;
        String component = "d".repeat(200);
        for (int i = 0; i < 4; i++) { // 4 x 201 bytes, plus the test's prefix
            dir = b.mkdir(CTX, dir, n(component), 0755, 022).nodeId();
        }
        long deep = dir;
        int room = 1024 - (prefix.length() + 4 * 201);
        String fits = "f".repeat(room);
        String tooLong = "f".repeat(room + 1);
        assertEquals(Errno.ENAMETOOLONG, errno(() -> b.create(CTX, deep, n(tooLong), 0644,
                OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 022)));
        assertEquals(Errno.ENAMETOOLONG, errno(() -> b.mkdir(CTX, deep, n(tooLong), 0755, 022)));
        assertEquals(Errno.ENAMETOOLONG, errno(() -> b.symlink(CTX, deep, n(tooLong), "t".getBytes())));
        writeFile(b, deep, fits, "exactly 1024".getBytes());
        assertEquals(Errno.ENAMETOOLONG, errno(() -> b.rename(CTX, deep, n(fits), deep, n(tooLong), 0)));
        assertEquals(12, b.lookup(CTX, deep, n(fits)).attr().size());
        assertEquals(12, rawGet(prefix + (component + "/").repeat(4) + fits).length, "the object is in the bucket");
    }

    /**
     * Linux names are bytes, S3 keys UTF-8: a name that is not UTF-8 is refused (EINVAL) where it
     * would become a key, and names nothing where it would be looked up (ENOENT). Before, its bad
     * bytes became U+FFFD: the file was stored, and listed, under another name, which two different
     * guest names could share.
     */
    @Test
    void namesThatAreNotUtf8AreRefusedNotStoredUnderAnotherName() throws Exception {
        S3Backend b = backend();
        FileName bad = FileName.of(new byte[] {(byte) 0xff, 'n'});
        FileName replaced = FileName.of("\ufffdn"); // what the bad name used to become
        writeFile(b, ROOT, "ok", "data".getBytes());
        assertEquals(Errno.EINVAL, errno(() -> b.create(CTX, ROOT, bad, 0644, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 022)));
        assertEquals(Errno.EINVAL, errno(() -> b.mkdir(CTX, ROOT, bad, 0755, 022)));
        assertEquals(Errno.EINVAL, errno(() -> b.symlink(CTX, ROOT, bad, "t".getBytes())));
        assertEquals(Errno.EINVAL, errno(() -> b.mknod(CTX, ROOT, bad, 0010644, 0, 022)));
        assertEquals(Errno.EINVAL, errno(() -> b.rename(CTX, ROOT, n("ok"), ROOT, bad, 0)));
        writeFile(b, ROOT, replaced.toString(), "a real name".getBytes());
        assertEquals(Errno.ENOENT, errno(() -> b.lookup(CTX, ROOT, bad)), "the bad name is not the replaced one");
        assertEquals(Errno.ENOENT, errno(() -> b.unlink(CTX, ROOT, bad)));
        assertEquals(Errno.ENOENT, errno(() -> b.rmdir(CTX, ROOT, bad)));
        assertEquals(Errno.ENOENT, errno(() -> b.rename(CTX, ROOT, bad, ROOT, n("elsewhere"), 0)));
        assertEquals(11, b.lookup(CTX, ROOT, replaced).attr().size(), "the file of the valid name is untouched");
        assertEquals(4, b.lookup(CTX, ROOT, n("ok")).attr().size());
        assertEquals(List.of(prefix + "ok", prefix + "\ufffdn"), keys());
    }

    /**
     * A create of a name that exists never replaces what is there: the kernel only sends one when
     * its negative entry is stale (another guest, or another S3 client, made the name meanwhile)
     * or when a hostile guest kernel wants to. Before, the new file took the name in the gateway
     * while the directory's keys stayed in the bucket (a fresh gateway showed the directory again),
     * and an existing file was replaced by an empty one.
     */
    @Test
    void aCreateOfAnExistingNameOpensItOrFailsButNeverReplacesIt() throws Exception {
        S3Backend b = backend();
        long a = b.mkdir(CTX, ROOT, n("a"), 0755, 022).nodeId();
        writeFile(b, a, "inside", "kept".getBytes());
        writeFile(b, ROOT, "f", "data".getBytes());
        int create = OpenFlags.O_RDWR | OpenFlags.O_CREAT;
        assertEquals(Errno.EISDIR, errno(() -> b.create(CTX, ROOT, n("a"), 0644, create, 022)));
        assertEquals(Errno.EEXIST, errno(() -> b.create(CTX, ROOT, n("a"), 0644, create | OpenFlags.O_EXCL, 022)));
        for (String name : List.of("a", "f")) {
            assertEquals(Errno.EEXIST, errno(() -> b.mkdir(CTX, ROOT, n(name), 0755, 022)), name);
            assertEquals(Errno.EEXIST, errno(() -> b.mknod(CTX, ROOT, n(name), 0010644, 0, 022)), name);
            assertEquals(Errno.EEXIST, errno(() -> b.symlink(CTX, ROOT, n(name), "t".getBytes())), name);
        }
        assertEquals(Errno.EEXIST, errno(() -> b.create(CTX, ROOT, n("f"), 0644, create | OpenFlags.O_EXCL, 022)));
        CreateResult opened = b.create(CTX, ROOT, n("f"), 0600, create, 022); // open(O_CREAT): opens the file
        Buffers.Sink sink = new Buffers.Sink(100);
        b.read(CTX, opened.entry().nodeId(), opened.open().fh(), 0, sink);
        assertEquals("data", StandardCharsets.UTF_8.decode(sink.filled()).toString());
        assertEquals(0100644, opened.entry().attr().mode(), "the file's own mode, not the create's");
        b.release(CTX, opened.entry().nodeId(), opened.open().fh(), 0, 0);
        CreateResult truncated = b.create(CTX, ROOT, n("f"), 0644, create | OpenFlags.O_TRUNC, 022);
        assertEquals(0, truncated.entry().attr().size(), "the reply's attributes are the truncated file's");
        b.release(CTX, truncated.entry().nodeId(), truncated.open().fh(), 0, 0);
        assertEquals(0, rawGet(prefix + "f").length, "O_CREAT|O_TRUNC of an existing file truncates it");
        assertEquals(List.of(prefix + "a/", prefix + "a/inside", prefix + "f"), keys());
        assertEquals("kept", new String(rawGet(prefix + "a/inside"), StandardCharsets.UTF_8));
    }

    /**
     * A listing cannot tell a symlink from a file: a create of the name of a symlink the gateway
     * knows only from a listing must read the object's type before it opens "the existing file".
     * Before, it opened the symlink as a regular file, and a write through it would have turned
     * the link into file data.
     */
    @Test
    void aCreateOfASymlinksNameKnownOnlyFromAListingDoesNotOpenIt() throws Exception {
        for (boolean trustListedAttrs : List.of(false, true)) {
            String dir = prefix + "trust-" + trustListedAttrs + "/";
            S3Backend b = backend(o -> o.prefix(dir).trustListedAttrs(trustListedAttrs));
            b.forget(b.symlink(CTX, ROOT, n("s"), "target".getBytes()).nodeId(), 1);   // the gateway lets go of it
            long fh = b.opendir(CTX, ROOT, 0).fh();
            List<String> names = new ArrayList<>();
            b.readdir(CTX, ROOT, fh, 0, e -> names.add(e.name().toString()));         // now known from this listing
            b.releasedir(CTX, ROOT, fh);
            assertEquals(List.of(".", "..", "s"), names);
            assertEquals(Errno.EEXIST, errno(() -> b.create(CTX, ROOT, n("s"), 0644, OpenFlags.O_RDWR | OpenFlags.O_CREAT, 022)),
                    "trust listed attributes: " + trustListedAttrs);
            assertEquals(FileType.SYMLINK, FileType.ofMode(b.lookup(CTX, ROOT, n("s")).attr().mode()));
            assertEquals("target", new String(rawGet(dir + "s"), StandardCharsets.UTF_8));
        }
    }

    /**
     * Attributes a listing gave stay provisional until a HEAD confirms them, however often the name
     * is looked up meanwhile. Before, a second lookup within the metadata timeout (another guest's,
     * while the first's confirming getattr was in flight) handed them out as confirmed: a symlink
     * showed to that guest as a 0644 regular file.
     */
    @Test
    void aNameKnownOnlyFromAListingStaysProvisionalOnEveryLookupUntilConfirmed() throws Exception {
        S3Backend b = backend();
        b.forget(b.symlink(CTX, ROOT, n("s"), "target".getBytes()).nodeId(), 1);
        long fh = b.opendir(CTX, ROOT, 0).fh();
        b.readdir(CTX, ROOT, fh, 0, e -> true);
        b.releasedir(CTX, ROOT, fh);
        Entry first = b.lookup(CTX, ROOT, n("s"));
        Entry second = b.lookup(CTX, ROOT, n("s"));
        assertEquals(first.nodeId(), second.nodeId());
        assertTrue(first.attrProvisional() && second.attrProvisional(), "both lookups are provisional");
        assertEquals(Errno.ESTALE, errno(() -> b.getattr(CTX, first.nodeId(), -1)), "a getattr finds the symlink");
        Entry confirmed = b.lookup(CTX, ROOT, n("s"));
        assertFalse(confirmed.attrProvisional());
        assertEquals(FileType.SYMLINK, FileType.ofMode(confirmed.attr().mode()));
    }

    /**
     * A lookup of '..' whose directory the gateway no longer held answered a stand-in: mode 0755,
     * the default owner, the current time, where the directory's marker says otherwise.
     */
    @Test
    void dotDotOfADirectoryNotHeldHasItsOwnAttributes() throws Exception {
        S3Backend b = backend();
        RequestContext user = new RequestContext(1000, 1000, 1);
        long a = b.mkdir(user, ROOT, n("a"), 0710, 022).nodeId();
        long sub = b.mkdir(user, a, n("sub"), 0755, 022).nodeId();
        Attr made = b.getattr(CTX, a, -1);
        b.forget(a, 1);   // only the child is held now
        Entry up = b.lookup(CTX, sub, n(".."));
        assertEquals(Integer.toOctalString(040710), Integer.toOctalString(up.attr().mode()));
        assertEquals(1000, up.attr().uid());
        assertEquals(made.mtimeNs(), up.attr().mtimeNs());
        assertEquals(up.nodeId(), b.lookup(CTX, ROOT, n("a")).nodeId(), "'..' is the directory's node");
    }

    /**
     * Two guests of one gateway creating the same name at once (mkdir against create, or against a
     * rename onto the name): one succeeds, the other gets EEXIST, and the bucket holds one object.
     * Before, both checked that the name was free before either had made it, and the bucket ended
     * with a file and a directory of the same name (the file then hidden behind the directory, its
     * data out of sight).
     */
    @Test
    void twoGuestsCreatingOneNameAtOnceMakeOneObject() throws Exception {
        S3Backend b = backend();
        int rounds = 30;
        for (int i = 0; i < rounds; i++) {
            FileName name = n("n" + i);
            FileName moved = n("moved" + i);
            boolean byRename = i % 2 == 1;
            if (byRename) {
                writeFile(b, ROOT, moved.toString(), "x".getBytes());
            }
            List<String> outcomes = atOnce(() -> b.mkdir(CTX, ROOT, name, 0755, 022), () -> {
                if (byRename) {
                    b.rename(CTX, ROOT, moved, ROOT, name, StorageBackend.RENAME_NOREPLACE);
                } else {
                    CreateResult c = b.create(CTX, ROOT, name, 0644, OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_EXCL, 022);
                    b.release(CTX, c.entry().nodeId(), c.open().fh(), 0, 0);   // uploads it
                }
            });
            assertEquals(Set.of("ok", "EEXIST"), Set.copyOf(outcomes), "round " + i + ": mkdir, "
                    + (byRename ? "rename onto the name " : "create ") + outcomes);
        }
        List<String> keys = keys().stream().filter(k -> !k.startsWith(prefix + "moved")).toList();
        assertEquals(rounds, keys.size(), "one object per name: " + keys);
    }

    /**
     * A lookup's LIST that another guest's create overtakes (answered before the create, used
     * after it) answers ENOENT, as it must, but is not cached: before, the miss stayed as a
     * negative entry and hid the new file for a metadata timeout, and a create of the name found
     * it free and made a second object.
     */
    @Test
    void aLookupsMissOvertakenByAnotherGuestsCreateIsNotCached() throws Exception {
        HeldRequests held = new HeldRequests(client).holdListAnswer(prefix + "n");
        S3Backend b = new S3Backend(server.options(cache).prefix(prefix).build(), held.client());
        backends.add(b);
        CompletableFuture<String> lookup = CompletableFuture.supplyAsync(() -> outcome(() -> b.lookup(CTX, ROOT, n("n"))));
        held.awaitListAnswered();
        CreateResult c = b.create(CTX, ROOT, n("n"), 0644, OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_EXCL, 022);
        b.release(CTX, c.entry().nodeId(), c.open().fh(), 0, 0);
        b.forget(c.entry().nodeId(), 1);   // the creating guest lets go: the next lookup asks anew
        held.releaseList();
        assertEquals("ENOENT", lookup.get(30, TimeUnit.SECONDS), "the LIST was answered before the create");
        assertEquals(1, b.lookup(CTX, ROOT, n("n")).attr().nlink(), "the overtaken miss was cached");
        assertEquals(Errno.EEXIST, errno(() -> b.mkdir(CTX, ROOT, n("n"), 0755, 022)));
    }

    /**
     * The same for a directory's listing: a LIST of the whole directory overtaken by a create in it
     * serves the readdir that asked, but is not kept as the directory's listing (which lookups
     * answer from): the new name is found and listed right after.
     */
    @Test
    void aListingOvertakenByAnotherGuestsCreateIsNotCached() throws Exception {
        S3Backend before = backend();
        writeFile(before, before.mkdir(CTX, ROOT, n("d"), 0755, 022).nodeId(), "old", "x".getBytes());
        HeldRequests held = new HeldRequests(client);
        S3Backend b = new S3Backend(server.options(cache).prefix(prefix).build(), held.client());
        backends.add(b);
        long d = b.lookup(CTX, ROOT, n("d")).nodeId();   // a gateway that has not listed d yet
        held.holdListAnswer(prefix + "d/");
        CompletableFuture<List<DirEntry>> listing = CompletableFuture.supplyAsync(() -> {
            try {
                return listDir(b, d);
            } catch (FsException e) {
                throw new AssertionError(e);
            }
        });
        held.awaitListAnswered();
        writeFile(b, d, "new", "y".getBytes());
        held.releaseList();
        assertFalse(names(listing.get(30, TimeUnit.SECONDS)).contains("new"), "the LIST was answered before the create");
        assertEquals(1, b.lookup(CTX, d, n("new")).attr().size(), "the overtaken listing was cached");
        assertTrue(names(listDir(b, d)).contains("new"), "the overtaken listing was cached");
    }

    /**
     * A directory renamed onto a path brings its names along: what the gateway had found absent
     * below that path before (a lookup of y/f while y was another, empty directory) is absent no
     * more. Before, the stale "absent" let a create of y/f make a file beside the directory y/f
     * that had just arrived, and the file hid behind it (found with guests of two processes).
     */
    @Test
    void namesFoundAbsentBelowAPathAreFoundOnceADirectoryIsRenamedThere() throws Exception {
        backend().mkdir(CTX, ROOT, n("y"), 0755, 022);
        S3Backend b = backend();   // one that has not listed y: its miss below is a negative entry
        long y = b.lookup(CTX, ROOT, n("y")).nodeId();
        assertEquals(Errno.ENOENT, errno(() -> b.lookup(CTX, y, n("f"))));
        b.forget(y, 1);
        b.rmdir(CTX, ROOT, n("y"));
        long x = b.mkdir(CTX, ROOT, n("x"), 0755, 022).nodeId();
        b.forget(b.mkdir(CTX, x, n("f"), 0755, 022).nodeId(), 1);
        b.forget(x, 1);
        b.rename(CTX, ROOT, n("x"), ROOT, n("y"), 0);
        long moved = b.lookup(CTX, ROOT, n("y")).nodeId();
        assertEquals(FileType.DIRECTORY, FileType.ofMode(b.lookup(CTX, moved, n("f")).attr().mode()));
        assertEquals(Errno.EISDIR, errno(() -> b.create(CTX, moved, n("f"), 0644, OpenFlags.O_RDWR | OpenFlags.O_CREAT, 022)));
        assertEquals(List.of(prefix + "y/", prefix + "y/f/"), keys());
    }

    /**
     * A chmod (or chown, utimens, xattr change) rewrites the object: for a directory, a PUT of its
     * marker. One racing another guest's rmdir of that directory, its PUT landing after the rmdir's
     * DELETE, brought the marker back: the directory was gone for this gateway and there for the
     * next, and a file created under its name then hid behind it. Now a metadata rewrite holds
     * the name's lock, so the rmdir comes after it (or before, and the chmod finds the node gone).
     */
    @Test
    void aChmodRacingAnRmdirNeverBringsTheDirectoryBack() throws Exception {
        HeldRequests held = new HeldRequests(client);
        S3Backend b = new S3Backend(server.options(cache).prefix(prefix).build(), held.client());
        backends.add(b);
        long d = b.mkdir(CTX, ROOT, n("d"), 0755, 022).nodeId();
        held.holdPutUntilDeleted(prefix + "d/");
        CompletableFuture<String> chmod = CompletableFuture.supplyAsync(() -> outcome(() -> b.setattr(CTX, d, SetAttr.mode(0700))));
        held.awaitPutHeld();
        assertEquals("ok", outcome(() -> b.rmdir(CTX, ROOT, n("d"))));
        assertEquals("ok", chmod.get(30, TimeUnit.SECONDS));
        assertEquals(List.of(), keys(), "the removed directory's marker came back");
    }

    /**
     * One guest removes an empty directory while another makes a directory in it: either the rmdir
     * fails (ENOTEMPTY) or the mkdir does (ENOENT), never both succeed and leave a key under a
     * directory that is gone (a fresh gateway would show the directory again).
     */
    @Test
    void aCreateInADirectoryBeingRemovedLeavesNothingBehind() throws Exception {
        S3Backend b = backend();
        int rounds = 30;
        for (int i = 0; i < rounds; i++) {
            FileName name = n("d" + i);
            long d = b.mkdir(CTX, ROOT, name, 0755, 022).nodeId();
            List<String> outcomes = atOnce(() -> b.mkdir(CTX, d, n("sub"), 0755, 022), () -> b.rmdir(CTX, ROOT, name));
            assertTrue(outcomes.equals(List.of("ok", "ENOTEMPTY")) || outcomes.equals(List.of("ENOENT", "ok")),
                    "round " + i + ": mkdir inside, rmdir " + outcomes);
            b.forget(d, 1);
        }
        for (String key : keys()) {
            String dir = key.substring(prefix.length()).split("/")[0];
            assertTrue(keys().contains(prefix + dir + "/"), key + " is under a removed directory");
        }
    }

    /**
     * S3 renames a directory key by key. A guest making a name deep inside it meanwhile waits for
     * the rename and makes it at the new path: before, its key landed under the old path after the
     * copy had listed it, and the old directory came back with it.
     */
    @Test
    void aCreateDeepInsideADirectoryBeingRenamedLandsAtTheNewPath() throws Exception {
        S3Backend b = backend();
        long big = b.mkdir(CTX, ROOT, n("big"), 0755, 022).nodeId();
        long sub = b.mkdir(CTX, big, n("sub"), 0755, 022).nodeId();
        for (int i = 0; i < 40; i++) {
            writeFile(b, big, "f" + i, "x".getBytes());
        }
        List<String> outcomes = atOnce(() -> b.rename(CTX, ROOT, n("big"), ROOT, n("moved"), 0), () -> {
            Thread.sleep(20);   // the rename has listed the directory and is copying
            b.mkdir(CTX, sub, n("new"), 0755, 022);
        });
        assertEquals(List.of("ok", "ok"), outcomes);
        assertEquals(List.of(), keys().stream().filter(k -> k.startsWith(prefix + "big/")).toList(), "keys left under the old path");
        assertTrue(keys().contains(prefix + "moved/sub/new/"), "the new directory is in the renamed one: " + keys());
    }

    /**
     * A file written and closed while a rename copies its directory: its upload waits for the
     * rename and goes to the new path. Before, it landed under the old path after the copy had
     * taken the old data, and was deleted with the originals: the renamed file kept the old data.
     */
    @Test
    void aFileClosedWhileItsDirectoryIsRenamedIsUploadedAtTheNewPath() throws Exception {
        S3Backend b = backend();
        long big = b.mkdir(CTX, ROOT, n("big"), 0755, 022).nodeId();
        for (int i = 0; i < 40; i++) {
            writeFile(b, big, "f" + i, "x".getBytes());
        }
        long w = writeFile(b, big, "a", "old".getBytes()).nodeId();   // copied first, long before the deletes
        long fh = b.open(CTX, w, OpenFlags.O_RDWR).fh();
        List<String> outcomes = atOnce(() -> b.rename(CTX, ROOT, n("big"), ROOT, n("moved"), 0), () -> {
            Thread.sleep(20);   // the rename is copying
            b.write(CTX, w, fh, 0, new Buffers.Source(ByteBuffer.wrap("new".getBytes())), false);
            b.release(CTX, w, fh, 0, 0);
        });
        assertEquals(List.of("ok", "ok"), outcomes);
        assertEquals(List.of(), keys().stream().filter(k -> k.startsWith(prefix + "big/")).toList(), "keys left under the old path");
        assertEquals("new", new String(rawGet(prefix + "moved/a"), StandardCharsets.UTF_8));
    }

    /** A directory removed while the guest holds it takes no new names (Linux: ENOENT) and lists empty. */
    @Test
    void aRemovedDirectoryTakesNoNewNamesAndListsEmpty() throws Exception {
        S3Backend b = backend();
        long d = b.mkdir(CTX, ROOT, n("d"), 0755, 022).nodeId();
        b.rmdir(CTX, ROOT, n("d"));
        assertEquals(Errno.ENOENT, errno(() -> b.create(CTX, d, n("x"), 0644, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 022)));
        assertEquals(Errno.ENOENT, errno(() -> b.mkdir(CTX, d, n("y"), 0755, 022)));
        assertEquals(Errno.ENOENT, errno(() -> b.symlink(CTX, d, n("s"), "t".getBytes())));
        assertEquals(Errno.ENOENT, errno(() -> b.mknod(CTX, d, n("p"), 0010644, 0, 022)));
        assertEquals(Errno.ENOENT, errno(() -> b.lookup(CTX, d, n("x"))));
        writeFile(b, ROOT, "f", "x".getBytes());
        assertEquals(Errno.ENOENT, errno(() -> b.rename(CTX, ROOT, n("f"), d, n("moved"), 0)));
        b.mkdir(CTX, ROOT, n("d"), 0755, 022);   // a new directory of the same name
        writeFile(b, b.lookup(CTX, ROOT, n("d")).nodeId(), "new", "y".getBytes());
        long fh = b.opendir(CTX, d, 0).fh();
        List<String> names = new ArrayList<>();
        b.readdir(CTX, d, fh, 0, e -> names.add(e.name().toString()));
        b.releasedir(CTX, d, fh);
        assertEquals(List.of(".", ".."), names, "the removed directory, not its successor");
        assertEquals(List.of(prefix + "d/", prefix + "d/new", prefix + "f"), keys());
    }

    /** The kernel never OPENs a symlink, FIFO or socket node; a hostile one must not turn its object into file data. */
    @Test
    void anOpenOfASymlinkFifoOrSocketIsRefused() throws Exception {
        S3Backend b = backend();
        long s = b.symlink(CTX, ROOT, n("s"), "..".getBytes()).nodeId();
        long p = b.mknod(CTX, ROOT, n("p"), 0010644, 0, 022).nodeId();
        long k = b.mknod(CTX, ROOT, n("k"), 0140644, 0, 022).nodeId();
        assertEquals(Errno.ELOOP, errno(() -> b.open(CTX, s, OpenFlags.O_RDWR | OpenFlags.O_TRUNC)));
        assertEquals(Errno.ENXIO, errno(() -> b.open(CTX, p, OpenFlags.O_RDWR)));
        assertEquals(Errno.ENXIO, errno(() -> b.open(CTX, k, OpenFlags.O_WRONLY)));
        assertEquals(Errno.EINVAL, errno(() -> b.setattr(CTX, s, SetAttr.size(100))));
        assertEquals("..", new String(rawGet(prefix + "s"), StandardCharsets.UTF_8));
        assertEquals(Integer.toString(0120777), rawHead(prefix + "s").metadata().get("mode"));
    }

    /**
     * A file the guest has open, replaced meanwhile by another client with an object of another type:
     * the gateway learns of it, and neither a write nor a chmod through the old node reaches the new
     * object (ESTALE, as a read gets); the old node no longer names the key.
     */
    @Test
    void anOpenFileReplacedByAnotherTypeNoLongerWritesToItsOldKey() throws Exception {
        S3Backend b = backend(o -> o.metadataTtl(Duration.ZERO));
        S3Backend other = backend(o -> o.metadataTtl(Duration.ZERO));
        long f = writeFile(b, ROOT, "f", "abc".getBytes()).nodeId();
        long fh = b.open(CTX, f, OpenFlags.O_RDWR).fh();
        other.lookup(CTX, ROOT, n("f"));
        other.unlink(CTX, ROOT, n("f"));
        other.symlink(CTX, ROOT, n("f"), "target".getBytes());
        assertEquals(FileType.SYMLINK.modeBits() | 0777, b.lookup(CTX, ROOT, n("f")).attr().mode());
        // the first write fetches the old object under its ETag: gone, so ESTALE, nothing staged
        assertEquals(Errno.ESTALE, errno(() -> b.write(CTX, f, fh, 0,
                new Buffers.Source(ByteBuffer.wrap("overwritten".getBytes())), false)));
        assertEquals(Errno.ESTALE, errno(() -> b.setattr(CTX, f, SetAttr.mode(0600)))); // an fchmod
        b.release(CTX, f, fh, 0, 0);
        assertEquals("target", new String(rawGet(prefix + "f"), StandardCharsets.UTF_8));
        assertEquals(Integer.toString(0120777), rawHead(prefix + "f").metadata().get("mode"));
    }

    /** truncate(2) of a closed file uploads at once and leaves no staging file (`s3 recover` would offer it). */
    @Test
    void aTruncateOfAClosedFileLeavesNoStagingFileBehind() throws Exception {
        S3Backend b = backend();
        long f = writeFile(b, ROOT, "f", "0123456789".getBytes()).nodeId();
        b.setattr(CTX, f, SetAttr.size(4));
        assertEquals("0123", new String(rawGet(prefix + "f"), StandardCharsets.UTF_8));
        b.forget(f, 1);
        try (Stream<Path> staged = Files.walk(cache.resolve("staging"))) {
            assertEquals(List.of(), staged.filter(Files::isRegularFile).toList());
        }
    }

    /**
     * A hostile guest ends a file's handle with RELEASEDIR and a directory's with RELEASE: neither
     * ends the other kind. Before, RELEASEDIR dropped the file's handle without counting its open
     * down, so the node stayed pinned for good and its staging file outlived the gateway.
     */
    @Test
    void releasedirOfAFileHandleAndReleaseOfADirectoryHandleEndNothing() throws Exception {
        S3Backend b = backend();
        CreateResult f = b.create(CTX, ROOT, n("f"), 0644, OpenFlags.O_RDWR | OpenFlags.O_CREAT, 022);
        long file = f.entry().nodeId();
        long dir = b.mkdir(CTX, ROOT, n("d"), 0755, 022).nodeId();
        long dirFh = b.opendir(CTX, dir, 0).fh();
        b.releasedir(CTX, file, f.open().fh());
        b.release(CTX, dir, dirFh, 0, 0);
        assertEquals(Errno.EISDIR, errno(() -> b.read(CTX, dir, dirFh, 0, new Buffers.Sink(10))));
        assertEquals(4, b.write(CTX, file, f.open().fh(), 0, new Buffers.Source(ByteBuffer.wrap("data".getBytes())), false));
        List<String> names = new ArrayList<>();
        b.readdir(CTX, dir, dirFh, 0, e -> names.add(e.name().toString()));
        assertEquals(List.of(".", ".."), names, "the directory's handle still lists");
        b.releasedir(CTX, dir, dirFh);
        b.release(CTX, file, f.open().fh(), 0, 0);
        assertEquals("data", new String(rawGet(prefix + "f"), StandardCharsets.UTF_8));
        b.forget(file, 1);
        try (Stream<Path> staged = Files.walk(cache.resolve("staging"))) {
            assertEquals(List.of(), staged.filter(Files::isRegularFile).toList(), "no staging file outlives the node");
        }
    }

    /** rmdir of a file the gateway holds no node for is ENOTDIR; before, it "removed" the name and the file stayed. */
    @Test
    void rmdirOfAFileIsEnotdirEvenWhenTheGatewayHoldsNoNodeForIt() throws Exception {
        S3Backend b = backend();
        rawPut(prefix + "f", "data".getBytes(), Map.of());
        assertEquals(Errno.ENOTDIR, errno(() -> b.rmdir(CTX, ROOT, n("f"))));
        assertEquals(4, b.lookup(CTX, ROOT, n("f")).attr().size(), "the file is still there");
        assertEquals(List.of(prefix + "f"), keys());
    }

    /** Every key under this test's prefix, sorted. */
    private List<String> keys() {
        List<String> keys = new ArrayList<>();
        raw.listObjectsV2Paginator(r -> r.bucket(S3ProxyFixture.BUCKET).prefix(prefix)).contents()
                .subscribe(o -> keys.add(o.key())).join();
        return keys.stream().sorted().toList();
    }

    /** Writing more than the cache directory's disk holds: "No space left on device", not an I/O error. */
    @Test
    void aFullCacheDirectoryGivesEnospc() throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            System.out.println("SKIPPED aFullCacheDirectoryGivesEnospc: mounting a small tmpfs needs root");
            return;
        }
        Path small = Files.createTempDirectory("vfsgw-small-cache");
        assertEquals(0, new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", small.toString())
                .inheritIO().start().waitFor());
        try {
            S3Backend b = new S3Backend(server.options(small).prefix(prefix).cacheSize(0).build(), client);
            try {
                CreateResult cr = b.create(CTX, ROOT, n("f"), 0644, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 022);
                long written = 0;
                Errno failure = null;
                byte[] mib = random(1 << 20, 1);
                while (failure == null && written < (32 << 20)) {
                    try {
                        b.write(CTX, cr.entry().nodeId(), cr.open().fh(), written,
                                new Buffers.Source(ByteBuffer.wrap(mib)), false);
                        written += mib.length;
                    } catch (FsException e) {
                        failure = e.errno();
                    }
                }
                assertEquals(Errno.ENOSPC, failure, "after " + written + " bytes");
                assertTrue(written >= 4 << 20, "only " + written + " bytes fit");
                b.release(CTX, cr.entry().nodeId(), cr.open().fh(), 0, 0);
            } finally {
                b.close();
            }
        } finally {
            new ProcessBuilder("umount", small.toString()).inheritIO().start().waitFor();
            Files.deleteIfExists(small);
        }
    }

    @Test
    void sequentialWriteStreamsAsMultipartAndReadsBack() throws Exception {
        S3Backend b = backend();
        byte[] data = random(64 << 20, 64);
        CreateResult cr = b.create(CTX, ROOT, n("big"), 0644, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 022);
        long node = cr.entry().nodeId();
        long fh = cr.open().fh();
        for (int off = 0; off < data.length; off += 128 << 10) {
            b.write(CTX, node, fh, off, new Buffers.Source(ByteBuffer.wrap(data, off, 128 << 10)), false);
        }
        int partsWhileWriting = counter.get("UploadPart");
        assertTrue(partsWhileWriting >= 6, "parts upload while the file is written: " + counter.snapshot());
        assertEquals(1, counter.get("CreateMultipartUpload"));
        b.flush(CTX, node, fh, 0);
        b.release(CTX, node, fh, 0, 0);
        assertEquals(8, counter.get("UploadPart"), counter.snapshot().toString());
        assertEquals(1, counter.get("CompleteMultipartUpload"));
        assertEquals(0, counter.get("PutObject"));
        assertEquals(null, b.stagingFileOf(node), "staging file released after a clean upload");

        counter.reset();
        S3Backend reader = backend();
        Entry e = reader.lookup(CTX, ROOT, n("big"));
        assertEquals(64 << 20, e.attr().size());
        assertEquals(sha256(ByteBuffer.wrap(data)), sha256(readAll(reader, e.nodeId())));
        int gets = counter.get("GetObject");
        // 512 kernel-sized reads served by read-ahead parts growing to 8 MiB: a handful of GETs
        assertTrue(gets <= 20, "read-ahead should need few GETs, got " + gets);
    }

    /**
     * Without the chunk cache every random read is one exact GET. (With it, a chunk's second miss
     * fetches the whole chunk: ChunkCacheIT.)
     */
    @Test
    void randomReadsFetchOnlyWhatIsAsked() throws Exception {
        byte[] data = random(16 << 20, 16);
        rawPut(prefix + "r.bin", data, Map.of());
        S3Backend b = backend(o -> o.cacheSize(0));
        Entry e = b.lookup(CTX, ROOT, n("r.bin"));
        long fh = b.open(CTX, e.nodeId(), OpenFlags.O_RDONLY).fh();
        Random rnd = new Random(7);
        counter.reset();
        for (int i = 0; i < 50; i++) {
            int off = 1 + rnd.nextInt(data.length - 10_000);   // never 0: a read at 0 starts streaming
            int len = 1 + rnd.nextInt(8192);
            Buffers.Sink s = new Buffers.Sink(len);
            b.read(CTX, e.nodeId(), fh, off, s);
            assertEquals(ByteBuffer.wrap(data, off, len), s.filled(), "read at " + off + " len " + len);
        }
        assertEquals(50, counter.get("GetObject"), "one exact ranged GET per random read");
        // a read past EOF and one crossing EOF
        Buffers.Sink tail = new Buffers.Sink(4096);
        b.read(CTX, e.nodeId(), fh, data.length - 100, tail);
        assertEquals(100, tail.filled().remaining());
        Buffers.Sink past = new Buffers.Sink(4096);
        b.read(CTX, e.nodeId(), fh, data.length + 5, past);
        assertEquals(0, past.filled().remaining());
        b.release(CTX, e.nodeId(), fh, 0, 0);
    }

    @Test
    void largeDirectoryListsAcrossPagesAndLookupsNeedNoHead() throws Exception {
        // Seeded straight into S3Proxy's filesystem store (one file per key): 2,000 PUTs through
        // S3Proxy would take half a minute and test nothing of ours.
        rawPut(prefix + "many/f00000", new byte[] {'x'}, Map.of());
        Path dirOnDisk = server.root.resolve(S3ProxyFixture.BUCKET).resolve(prefix).resolve("many");
        assertTrue(Files.isRegularFile(dirOnDisk.resolve("f00000")), "S3Proxy keeps keys as files: " + dirOnDisk);
        for (int i = 1; i < 2000; i++) {
            Files.write(dirOnDisk.resolve(String.format("f%05d", i)), new byte[] {'x'});
        }
        S3Backend b = backend(o -> o.listPageSize(250));
        Entry dir = b.lookup(CTX, ROOT, n("many"));
        counter.reset();
        // what READDIRPLUS does: opendir, readdir in batches, a lookup per entry, releasedir
        long fh = b.opendir(CTX, dir.nodeId(), 0).fh();
        List<DirEntry> entries = new ArrayList<>();
        long cookie = 0;
        while (true) {
            List<DirEntry> batch = new ArrayList<>();
            b.readdir(CTX, dir.nodeId(), fh, cookie, e -> batch.size() < 50 && batch.add(e));
            if (batch.isEmpty()) {
                break;
            }
            entries.addAll(batch);
            cookie = batch.get(batch.size() - 1).nextCookie();
        }
        assertEquals(2002, entries.size());
        assertEquals(8, counter.get("ListObjectsV2"), "2000 keys in pages of 250: " + counter.snapshot());
        Set<Long> inos = new HashSet<>();
        for (DirEntry d : entries) {
            inos.add(d.ino());
        }
        assertEquals(2002, inos.size(), "distinct inode numbers: the dir, its parent (root), 2000 files");
        counter.reset();
        for (DirEntry d : entries.subList(2, entries.size())) {
            Entry en = b.lookup(CTX, dir.nodeId(), d.name());
            assertEquals(d.ino(), en.nodeId(), "readdir and lookup agree on the inode number");
            assertEquals(1, en.attr().size());
        }
        b.releasedir(CTX, dir.nodeId(), fh);
        assertEquals(0, counter.total(), "lookups of listed entries cost no requests: " + counter.snapshot());
    }

    @Test
    void s3fsMetadataInterop() throws Exception {
        rawPut(prefix + "s3fs-file", "hello".getBytes(StandardCharsets.UTF_8), Map.of(
                "mode", "33152", "uid", "1234", "gid", "5678", "mtime", "1600000000"));   // 0100600
        rawPut(prefix + "s3fs-link", "s3fs-file".getBytes(StandardCharsets.UTF_8), Map.of("mode", "41471"));   // 0120777
        rawPut(prefix + "s3fs-dir/", new byte[0], Map.of("mode", "16832", "uid", "7"));   // 040700
        rawPut(prefix + "plain", "p".getBytes(StandardCharsets.UTF_8), Map.of());
        rawPut(prefix + "implicit/child", "c".getBytes(StandardCharsets.UTF_8), Map.of());
        S3Backend b = backend(o -> o.defaultOwner(99, 98));
        Attr a = b.lookup(CTX, ROOT, n("s3fs-file")).attr();
        assertEquals(0100600, a.mode());
        assertEquals(1234, a.uid());
        assertEquals(5678, a.gid());
        assertEquals(1_600_000_000_000_000_000L, a.mtimeNs());
        Entry link = b.lookup(CTX, ROOT, n("s3fs-link"));
        assertEquals(FileType.SYMLINK, link.attr().type());
        assertEquals("s3fs-file", new String(b.readlink(CTX, link.nodeId()), StandardCharsets.UTF_8));
        Attr d = b.lookup(CTX, ROOT, n("s3fs-dir")).attr();
        assertEquals(040700, d.mode());
        assertEquals(7, d.uid());
        Attr p = b.lookup(CTX, ROOT, n("plain")).attr();
        assertEquals(0100644, p.mode());
        assertEquals(99, p.uid());
        assertEquals(98, p.gid());
        Attr imp = b.lookup(CTX, ROOT, n("implicit")).attr();
        assertEquals(040755, imp.mode());

        // and the reverse: what we write, s3fs reads
        Entry f = writeFile(b, ROOT, "ours", "data".getBytes(StandardCharsets.UTF_8));
        b.setattr(CTX, f.nodeId(), SetAttr.mode(0640));
        Map<String, String> meta = rawHead(prefix + "ours").metadata();
        assertEquals("33184", meta.get("mode"));   // 0100640
        assertEquals("1000", meta.get("uid"));
        assertEquals("1000", meta.get("gid"));
        assertNotNull(S3Metadata.parseTime(meta.get("mtime")));
        b.symlink(CTX, ROOT, n("ourlink"), "ours".getBytes(StandardCharsets.UTF_8));
        assertEquals("41471", rawHead(prefix + "ourlink").metadata().get("mode"));
        assertArrayEquals("ours".getBytes(StandardCharsets.UTF_8), rawGet(prefix + "ourlink"));
    }

    @Test
    void symlinkFirstSeenInAListingIsCorrectedByItsMetadata() throws Exception {
        rawPut(prefix + "ls/link", "target".getBytes(StandardCharsets.UTF_8), Map.of("mode", "41471"));
        S3Backend b = backend(o -> o.metadataTtl(java.time.Duration.ZERO));   // attrs expire at once
        Entry dir = b.lookup(CTX, ROOT, n("ls"));
        long fh = b.opendir(CTX, dir.nodeId(), 0).fh();
        Entry provisional = b.lookup(CTX, dir.nodeId(), n("link"));
        assertEquals(FileType.REGULAR, provisional.attr().type(), "a listing cannot tell a symlink apart");
        assertEquals(Errno.ESTALE, errno(() -> b.getattr(CTX, provisional.nodeId(), -1)),
                "the HEAD behind getattr finds the symlink mode: the kernel must look the name up again");
        Entry again = b.lookup(CTX, dir.nodeId(), n("link"));
        assertEquals(FileType.SYMLINK, again.attr().type());
        assertEquals("target", new String(b.readlink(CTX, again.nodeId()), StandardCharsets.UTF_8));
        b.releasedir(CTX, dir.nodeId(), fh);
        // with listingLookups off, the first lookup already HEADs
        S3Backend strict = backend(o -> o.listingLookups(false));
        Entry d2 = strict.lookup(CTX, ROOT, n("ls"));
        long fh2 = strict.opendir(CTX, d2.nodeId(), 0).fh();
        assertEquals(FileType.SYMLINK, strict.lookup(CTX, d2.nodeId(), n("link")).attr().type());
        strict.releasedir(CTX, d2.nodeId(), fh2);
    }

    @Test
    void reopeningAnUnchangedObjectKeepsTheGuestCache() throws Exception {
        rawPut(prefix + "k", "v1".getBytes(StandardCharsets.UTF_8), Map.of());
        S3Backend b = backend(o -> o.metadataTtl(java.time.Duration.ZERO));
        Entry e = b.lookup(CTX, ROOT, n("k"));
        var first = b.open(CTX, e.nodeId(), OpenFlags.O_RDONLY);
        b.release(CTX, e.nodeId(), first.fh(), 0, 0);
        var second = b.open(CTX, e.nodeId(), OpenFlags.O_RDONLY);
        b.release(CTX, e.nodeId(), second.fh(), 0, 0);
        assertTrue(second.keepCache(), "same ETag at reopen");
        rawPut(prefix + "k", "v2!".getBytes(StandardCharsets.UTF_8), Map.of());
        var third = b.open(CTX, e.nodeId(), OpenFlags.O_RDONLY);
        assertTrue(!third.keepCache(), "changed object: the guest must drop its pages");
        Buffers.Sink s = new Buffers.Sink(10);
        b.read(CTX, e.nodeId(), third.fh(), 0, s);
        assertEquals("v2!", StandardCharsets.UTF_8.decode(s.filled()).toString());
        b.release(CTX, e.nodeId(), third.fh(), 0, 0);
    }

    @Test
    void smallFileCreateCostsAtMostTwoRequests() throws Exception {
        S3Backend b = backend();
        counter.reset();
        // what the kernel does for `echo hi > new`: LOOKUP (ENOENT), CREATE, WRITE, FLUSH, RELEASE
        assertEquals(Errno.ENOENT, errno(() -> b.lookup(CTX, ROOT, n("new"))));
        int lookupCost = counter.total();
        CreateResult cr = b.create(CTX, ROOT, n("new"), 0644, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 022);
        b.write(CTX, cr.entry().nodeId(), cr.open().fh(), 0, new Buffers.Source(ByteBuffer.wrap(new byte[] {'h', 'i'})),
                false);
        b.flush(CTX, cr.entry().nodeId(), cr.open().fh(), 0);
        b.release(CTX, cr.entry().nodeId(), cr.open().fh(), 0, 0);
        int createCost = counter.total() - lookupCost;
        System.out.println("small-file create: lookup miss " + lookupCost + " request(s), create..release "
                + createCost + " " + counter.snapshot());
        assertEquals(1, lookupCost, "one LIST with prefix=key, delimiter=/ answers a miss");
        assertEquals(1, createCost, "one PutObject");
        assertEquals(Map.of("ListObjectsV2", 1, "PutObject", 1), counter.snapshot());

        // a lookup that finds a file: the LIST, then a HEAD for its metadata; a directory: LIST + HEAD marker
        S3Backend fresh = backend();
        counter.reset();
        assertEquals(2, fresh.lookup(CTX, ROOT, n("new")).attr().size());
        assertEquals(Map.of("ListObjectsV2", 1, "HeadObject", 1), counter.snapshot());
        assertArrayEquals(new byte[] {'h', 'i'}, rawGet(prefix + "new"));

        // in a directory we just created (or listed) the lookup is free: the whole create is one PUT
        Entry d = b.mkdir(CTX, ROOT, n("d"), 0755, 022);
        counter.reset();
        assertEquals(Errno.ENOENT, errno(() -> b.lookup(CTX, d.nodeId(), n("x"))));
        CreateResult c2 = b.create(CTX, d.nodeId(), n("x"), 0644, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 022);
        b.write(CTX, c2.entry().nodeId(), c2.open().fh(), 0, new Buffers.Source(ByteBuffer.wrap(new byte[] {1})),
                false);
        b.flush(CTX, c2.entry().nodeId(), c2.open().fh(), 0);
        b.release(CTX, c2.entry().nodeId(), c2.open().fh(), 0, 0);
        assertEquals(Map.of("PutObject", 1), counter.snapshot());
    }

    @Test
    void creatingManyFilesCostsOneListPerDirectoryPerTimeoutNotOnePerFile() throws Exception {
        AtomicLong now = new AtomicLong();
        S3Backend b = new S3Backend(server.options(cache).prefix(prefix).build(), client, false, now::get);
        backends.add(b);
        Entry d = b.mkdir(CTX, ROOT, n("untar"), 0755, 022);
        counter.reset();
        for (int i = 0; i < 40; i++) {
            if (i == 20) {
                now.addAndGet(TimeUnit.SECONDS.toNanos(2));   // the directory's listing has expired
            }
            // what tar does for each member: LOOKUP (ENOENT), CREATE, WRITE, RELEASE
            FileName name = n("member-" + i);
            assertEquals(Errno.ENOENT, errno(() -> b.lookup(CTX, d.nodeId(), name)));
            CreateResult c = b.create(CTX, d.nodeId(), name, 0644, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 022);
            b.write(CTX, c.entry().nodeId(), c.open().fh(), 0, new Buffers.Source(ByteBuffer.wrap(new byte[] {(byte) i})),
                    false);
            b.release(CTX, c.entry().nodeId(), c.open().fh(), 0, 0);
        }
        // The first 20 lookups are answered by the listing mkdir left (known empty); after it expired,
        // one LIST of the whole (small) directory answers the next 20, not one LIST per name.
        assertEquals(Map.of("ListObjectsV2", 1, "PutObject", 40), counter.snapshot());
        counter.reset();
        assertEquals(1, b.lookup(CTX, d.nodeId(), n("member-7")).attr().size(), "the listing saw our own files");
        assertEquals(0, counter.get("ListObjectsV2"), counter.snapshot().toString());
    }

    @Test
    void aKnownFileIsRevalidatedWithOneHead() throws Exception {
        // within the metadata timeout a lookup of a file we know costs nothing (another guest's stat)
        S3Backend cached = backend();
        CreateResult cr = cached.create(CTX, ROOT, n("k"), 0640, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 022);
        cached.write(CTX, cr.entry().nodeId(), cr.open().fh(), 0,
                new Buffers.Source(ByteBuffer.wrap(new byte[] {'a', 'b', 'c'})), false);
        cached.flush(CTX, cr.entry().nodeId(), cr.open().fh(), 0);
        cached.release(CTX, cr.entry().nodeId(), cr.open().fh(), 0, 0);
        counter.reset();
        assertEquals(3, cached.lookup(CTX, ROOT, n("k")).attr().size());
        assertEquals(0, counter.total(), "a fresh node answers from memory: " + counter.snapshot());

        // past the timeout (zero here) one HEAD revalidates it, where a name never seen costs LIST + HEAD
        S3Backend b = backend(o -> o.metadataTtl(java.time.Duration.ZERO));
        Entry first = b.lookup(CTX, ROOT, n("k"));
        rawPut(prefix + "k", new byte[] {'x', 'y', 'z', 'w'}, Map.of());   // another writer replaces it
        counter.reset();
        Entry again = b.lookup(CTX, ROOT, n("k"));
        assertEquals(Map.of("HeadObject", 1), counter.snapshot());
        assertEquals(first.nodeId(), again.nodeId());
        assertEquals(4, again.attr().size(), "the HEAD's answer, not the remembered size");

        // the file gone and a directory of that name in its place: the full lookup finds the directory
        raw.deleteObject(r -> r.bucket(S3ProxyFixture.BUCKET).key(prefix + "k")).join();
        rawPut(prefix + "k/inside", new byte[] {1}, Map.of());
        counter.reset();
        Entry dir = b.lookup(CTX, ROOT, n("k"));
        assertEquals(FileType.DIRECTORY, dir.attr().type());
        // the HEAD that missed, the LIST that finds k/, the HEAD of its (absent) marker
        assertEquals(Map.of("HeadObject", 2, "ListObjectsV2", 1), counter.snapshot());
    }

    @Test
    void serverOutageMidUploadReturnsEioAndLosesNothing() throws Exception {
        S3Backend b = backend(o -> o.maxRetries(1));
        byte[] data = random(24 << 20, 24);
        CreateResult cr = b.create(CTX, ROOT, n("outage"), 0644, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 022);
        long node = cr.entry().nodeId();
        long fh = cr.open().fh();
        int half = 12 << 20;
        for (int off = 0; off < half; off += 128 << 10) {
            b.write(CTX, node, fh, off, new Buffers.Source(ByteBuffer.wrap(data, off, 128 << 10)), false);
        }
        server.stopServer();
        try {
            for (int off = half; off < data.length; off += 128 << 10) {
                b.write(CTX, node, fh, off, new Buffers.Source(ByteBuffer.wrap(data, off, 128 << 10)), false);
            }
            assertEquals(Errno.EIO, errno(() -> b.fsync(CTX, node, fh, false)));
            assertEquals(Errno.EIO, errno(() -> b.flush(CTX, node, fh, 0)));
            Path staging = b.stagingFileOf(node);
            assertNotNull(staging, "the staging file is kept after a failed upload");
            assertEquals(data.length, Files.size(staging));
            assertEquals(data.length, b.getattr(CTX, node, -1).size());
        } finally {
            server.startServer();
        }
        b.fsync(CTX, node, fh, false);
        b.release(CTX, node, fh, 0, 0);
        assertEquals(sha256(ByteBuffer.wrap(data)), sha256(ByteBuffer.wrap(rawGet(prefix + "outage"))));
    }

    @Test
    void readonlyRefusesMutations() throws Exception {
        rawPut(prefix + "ro", "r".getBytes(StandardCharsets.UTF_8), Map.of());
        S3Backend b = backend(o -> o.readonly(true));
        Entry e = b.lookup(CTX, ROOT, n("ro"));
        assertEquals(Errno.EROFS, errno(() -> b.mkdir(CTX, ROOT, n("d"), 0755, 0)));
        assertEquals(Errno.EROFS, errno(() -> b.create(CTX, ROOT, n("c"), 0644, OpenFlags.O_WRONLY, 0)));
        assertEquals(Errno.EROFS, errno(() -> b.open(CTX, e.nodeId(), OpenFlags.O_RDWR)));
        assertEquals(Errno.EROFS, errno(() -> b.unlink(CTX, ROOT, n("ro"))));
        assertEquals(Errno.EROFS, errno(() -> b.setattr(CTX, e.nodeId(), SetAttr.mode(0600))));
        assertEquals(1, readAll(b, e.nodeId()).remaining());
    }

    @Test
    void directoryRenameAboveTheKeyLimitIsRefusedWithEmlink() throws Exception {
        for (int i = 0; i < 5; i++) {
            rawPut(prefix + "five/k" + i, new byte[] {1}, Map.of());
        }
        S3Backend b = backend(o -> o.maxRenameKeys(4));
        b.lookup(CTX, ROOT, n("five"));
        assertEquals(Errno.EMLINK, errno(() -> b.rename(CTX, ROOT, n("five"), ROOT, n("six"), 0)));
        assertArrayEquals(new byte[] {1}, rawGet(prefix + "five/k4"), "nothing moved");
    }

    @Test
    void largeObjectsCopyInParts() throws Exception {
        byte[] data = random(12 << 20, 12);
        rawPut(prefix + "src", data, Map.of("mode", "33152"));
        S3Options o = server.options(cache).build();
        counter.reset();
        Uploads.copy(client, o, prefix + "src", prefix + "dst", data.length, null, null, 5 << 20, 5 << 20);
        assertEquals(3, counter.get("UploadPartCopy"), counter.snapshot().toString());
        assertArrayEquals(data, rawGet(prefix + "dst"));
        assertEquals("33152", rawHead(prefix + "dst").metadata().get("mode"), "metadata carried over");
    }

    @Test
    void guiceModuleProvidesOneBackendAndFailsClearlyWithoutBucket() throws Exception {
        S3Options o = server.options(cache).prefix(prefix).build();
        com.google.inject.Injector inj = com.google.inject.Guice.createInjector(new S3Module(o));
        StorageBackend b = inj.getInstance(StorageBackend.class);
        try {
            assertEquals("s3", b.name());
            assertTrue(b == inj.getInstance(StorageBackend.class), "singleton");
            b.mkdir(CTX, ROOT, n("viaGuice"), 0755, 0);
            assertEquals(0, rawGet(prefix + "viaGuice/").length);
        } finally {
            b.close();
        }
        S3Options missing = server.options(cache).build().toBuilder().build();
        S3Options noBucket = S3Options.builder("absent-bucket").endpoint(missing.endpoint()).pathStyle(true)
                .credentials(S3ProxyFixture.ACCESS, S3ProxyFixture.SECRET).cacheDir(cache).build();
        com.google.inject.Injector bad = com.google.inject.Guice.createInjector(new S3Module(noBucket));
        com.google.inject.ProvisionException e = assertThrows(com.google.inject.ProvisionException.class,
                () -> bad.getInstance(StorageBackend.class));
        assertTrue(e.getCause().getMessage().startsWith("S3 bucket 'absent-bucket' at "), e.getCause().getMessage());
    }

    /**
     * A seeded random sequence of file operations applied to the backend and to a trivial model
     * (name -> bytes); after every step the touched file must read back as the model says, and
     * at the end a fresh backend (nothing cached) must see exactly the model.
     */
    @Test
    void randomOperationsMatchAReferenceModel() throws Exception {
        S3Backend b = backend();
        Map<String, byte[]> model = new java.util.TreeMap<>();
        Random rnd = new Random(2026);
        String[] names = {"a", "b", "c", "d"};
        for (int step = 0; step < 80; step++) {
            String name = names[rnd.nextInt(names.length)];
            int op = rnd.nextInt(6);
            String what = step + ": op " + op + " on " + name;
            if (!model.containsKey(name) || op == 0) {
                byte[] data = random(rnd.nextInt(3000), step);
                if (model.containsKey(name)) {
                    Entry e = b.lookup(CTX, ROOT, n(name));
                    long fh = b.open(CTX, e.nodeId(), OpenFlags.O_WRONLY | OpenFlags.O_TRUNC).fh();
                    b.write(CTX, e.nodeId(), fh, 0, new Buffers.Source(ByteBuffer.wrap(data)), false);
                    b.release(CTX, e.nodeId(), fh, 0, 0);
                } else {
                    String absent = name;
                    assertEquals(Errno.ENOENT, errno(() -> b.lookup(CTX, ROOT, n(absent))), what);
                    writeFile(b, ROOT, name, data);
                }
                model.put(name, data);
            } else if (op == 1) {   // write somewhere inside or past the end
                byte[] cur = model.get(name);
                int off = rnd.nextInt(cur.length + 100);
                byte[] patch = random(1 + rnd.nextInt(500), -step);
                Entry e = b.lookup(CTX, ROOT, n(name));
                long fh = b.open(CTX, e.nodeId(), OpenFlags.O_RDWR).fh();
                b.write(CTX, e.nodeId(), fh, off, new Buffers.Source(ByteBuffer.wrap(patch)), false);
                b.release(CTX, e.nodeId(), fh, 0, 0);
                byte[] next = java.util.Arrays.copyOf(cur, Math.max(cur.length, off + patch.length));
                System.arraycopy(patch, 0, next, off, patch.length);
                model.put(name, next);
            } else if (op == 2) {
                int size = rnd.nextInt(4000);
                Entry e = b.lookup(CTX, ROOT, n(name));
                b.setattr(CTX, e.nodeId(), SetAttr.size(size));
                model.put(name, java.util.Arrays.copyOf(model.get(name), size));
            } else if (op == 3) {
                String to = names[rnd.nextInt(names.length)];
                b.rename(CTX, ROOT, n(name), ROOT, n(to), 0);
                model.put(to, model.remove(name));
                name = to;
            } else if (op == 4) {
                b.unlink(CTX, ROOT, n(name));
                model.remove(name);
                String gone = name;
                assertEquals(Errno.ENOENT, errno(() -> b.lookup(CTX, ROOT, n(gone))), what);
                continue;
            }
            Entry e = b.lookup(CTX, ROOT, n(name));
            assertEquals(model.get(name).length, e.attr().size(), what);
            assertEquals(ByteBuffer.wrap(model.get(name)), readAll(b, e.nodeId()), what);
        }
        S3Backend fresh = backend();
        Set<String> listed = new java.util.TreeSet<>();
        for (DirEntry d : listDir(fresh, ROOT)) {
            listed.add(d.name().toString());
        }
        listed.removeAll(Set.of(".", ".."));
        assertEquals(model.keySet(), listed);
        for (Map.Entry<String, byte[]> m : model.entrySet()) {
            assertArrayEquals(m.getValue(), rawGet(prefix + m.getKey()), m.getKey());
        }
    }

    /**
     * A directory first seen in its parent's listing must still show its marker's mode, owner and
     * times: the kernel checks permissions against them, so a 0700 directory shown as 0755 would
     * let every guest user in (it did, and never corrected itself).
     */
    @Test
    void aListedDirectoryShowsItsMarkersModeAndOwner() throws Exception {
        S3Backend a = backend();
        long priv = a.mkdir(CTX, ROOT, n("private"), 0700, 0).nodeId();
        a.setattr(RequestContext.ROOT, priv, SetAttr.owner(1234, 5678));
        a.setattr(RequestContext.ROOT, priv, SetAttr.times(null, false, 1_600_000_000_000_000_000L, false));
        S3Backend fresh = backend();
        listDir(fresh, ROOT);   // the listing now answers the lookup below
        Attr d = fresh.lookup(CTX, ROOT, n("private")).attr();
        assertEquals(FileType.DIRECTORY.modeBits() | 0700, d.mode());
        assertEquals(1234, d.uid());
        assertEquals(5678, d.gid());
        assertEquals(1_600_000_000_000_000_000L, d.mtimeNs());
    }

    @Test
    void aListedFilesDefaultsGoOutProvisionalUnlessListingsAreTrusted() throws Exception {
        rawPut(prefix + "mine", "x".getBytes(StandardCharsets.UTF_8),
                Map.of("mode", String.valueOf(0100600), "uid", "1234", "gid", "5678"));
        S3Backend b = backend();
        listDir(b, ROOT);
        Entry listed = b.lookup(CTX, ROOT, n("mine"));
        assertTrue(listed.attrProvisional(), "defaults from a listing must not be kept");
        Attr real = b.getattr(CTX, listed.nodeId(), -1);
        assertEquals(0100600, real.mode());
        assertEquals(1234, real.uid());
        Entry again = b.lookup(CTX, ROOT, n("mine"));
        assertTrue(!again.attrProvisional());
        assertEquals(0100600, again.attr().mode());

        S3Backend trusting = backend(o -> o.trustListedAttrs(true));
        listDir(trusting, ROOT);
        Entry t = trusting.lookup(CTX, ROOT, n("mine"));
        assertTrue(!t.attrProvisional());
        assertEquals(0100644, t.attr().mode(), "--s3-trust-listings: the defaults, for the TTL");
    }

    @Test
    void missingBucketFailsWithOneClearLine() {
        S3Options o = server.options(cache).build().toBuilder().build();
        S3Options missing = S3Options.builder("no-such-bucket").endpoint(o.endpoint()).pathStyle(true)
                .credentials(S3ProxyFixture.ACCESS, S3ProxyFixture.SECRET).cacheDir(cache).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> S3Backend.open(missing));
        assertTrue(e.getMessage().contains("does not exist: create it first"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line");
    }

    @Test
    void anEndpointThatIsNotS3IsNotReportedAsAMissingBucket() throws Exception {
        // A web server (or a proxy) that answers 404 to everything: HEAD bucket alone cannot tell
        // this from a missing bucket, and "create it first" would send the user the wrong way.
        com.sun.net.httpserver.HttpServer web = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        web.createContext("/", x -> {
            x.sendResponseHeaders(404, -1);
            x.close();
        });
        web.start();
        try {
            S3Options notS3 = S3Options.builder("data")
                    .endpoint(java.net.URI.create("http://127.0.0.1:" + web.getAddress().getPort()))
                    .pathStyle(true).credentials(S3ProxyFixture.ACCESS, S3ProxyFixture.SECRET).cacheDir(cache).build();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> S3Backend.open(notS3));
            assertTrue(e.getMessage().contains("is --s3-endpoint an S3 server?"), e.getMessage());
            assertTrue(!e.getMessage().contains("create it first"), e.getMessage());
        } finally {
            web.stop(0);
        }
    }

    @Test
    void objectChangedUnderAnOpenHandleIsEstale() throws Exception {
        rawPut(prefix + "v", "one".getBytes(StandardCharsets.UTF_8), Map.of());
        S3Backend b = backend();
        Entry e = b.lookup(CTX, ROOT, n("v"));
        long fh = b.open(CTX, e.nodeId(), OpenFlags.O_RDONLY).fh();
        rawPut(prefix + "v", "two!".getBytes(StandardCharsets.UTF_8), Map.of());
        Errno got = errno(() -> b.read(CTX, e.nodeId(), fh, 0, new Buffers.Sink(10)));
        assertEquals(Errno.ESTALE, got);
        // The kernel retries a failed page read at once: the failed GET must not linger as an
        // exhausted stream that answers the retry with EOF (an empty file, silently).
        assertEquals(Errno.ESTALE, errno(() -> b.read(CTX, e.nodeId(), fh, 0, new Buffers.Sink(10))));
        b.release(CTX, e.nodeId(), fh, 0, 0);
    }

    /**
     * Metadata another tool put on an object (s3fs's xattrs, an application's own keys) survives
     * what vfsgw rewrites: chmod, utimens and an upload of changed data, also when the node was
     * first seen in a listing (which carries no metadata).
     */
    @Test
    void otherToolsMetadataSurvivesChmodAndRewrites() throws Exception {
        Map<String, String> foreign = Map.of("xattr", "%7B%22user.tag%22%3A%22Ymx1ZQ%3D%3D%22%7D", "owner-app", "backup-7");
        Map<String, String> put = new java.util.HashMap<>(foreign);
        put.put("mode", Integer.toString(FileType.REGULAR.modeBits() | 0644));
        rawPut(prefix + "tagged", "data".getBytes(StandardCharsets.UTF_8), put);
        S3Backend b = backend();
        listDir(b, ROOT);   // the name is first seen in a listing: no metadata known yet
        Entry e = b.lookup(CTX, ROOT, n("tagged"));
        b.setattr(RequestContext.ROOT, e.nodeId(), SetAttr.mode(0600));   // the object names no owner: root's
        Map<String, String> meta = rawHead(prefix + "tagged").metadata();
        assertEquals(Integer.toString(FileType.REGULAR.modeBits() | 0600), meta.get("mode"));
        assertEquals(foreign.get("xattr"), meta.get("xattr"), "chmod kept the foreign metadata: " + meta);
        assertEquals("backup-7", meta.get("owner-app"));

        long fh = b.open(CTX, e.nodeId(), OpenFlags.O_WRONLY).fh();
        b.write(CTX, e.nodeId(), fh, 4, new Buffers.Source(ByteBuffer.wrap("+more".getBytes(StandardCharsets.UTF_8))), false);
        b.release(CTX, e.nodeId(), fh, 0, 0);
        assertArrayEquals("data+more".getBytes(StandardCharsets.UTF_8), rawGet(prefix + "tagged"));
        meta = rawHead(prefix + "tagged").metadata();
        assertEquals(foreign.get("xattr"), meta.get("xattr"), "an upload kept the foreign metadata: " + meta);
        assertEquals("backup-7", meta.get("owner-app"));
    }

    /**
     * Extended attributes in s3fs's x-amz-meta-xattr: set, replace, list, remove with the flags'
     * errnos, kept through a data upload, on a directory's marker, and refused past S3's 2 KB.
     */
    @Test
    void xattrsLiveInTheObjectsMetadataLikeS3fs() throws Exception {
        S3Backend b = backend();
        RequestContext me = RequestContext.ROOT;
        CreateResult c = b.create(me, ROOT, n("x"), 0644, OpenFlags.O_WRONLY, 0);
        long f = c.entry().nodeId();
        b.write(me, f, c.open().fh(), 0, new Buffers.Source(ByteBuffer.wrap("abc".getBytes(StandardCharsets.UTF_8))), false);
        b.setxattr(me, f, "user.a", "1".getBytes(StandardCharsets.UTF_8), 0);   // staged: goes up with the data
        b.release(me, f, c.open().fh(), 0, 0);
        assertEquals(Errno.EEXIST, errno(() -> b.setxattr(me, f, "user.a", new byte[1], StorageBackend.XATTR_CREATE)));
        assertEquals(Errno.ENODATA, errno(() -> b.setxattr(me, f, "user.b", new byte[1], StorageBackend.XATTR_REPLACE)));
        b.setxattr(me, f, "user.a", "2".getBytes(StandardCharsets.UTF_8), StorageBackend.XATTR_REPLACE);
        b.setxattr(me, f, "trusted.t", new byte[] {0, 1}, StorageBackend.XATTR_CREATE);
        assertEquals(List.of("trusted.t", "user.a"), b.listxattr(me, f));
        assertEquals(List.of("user.a"), b.listxattr(CTX, f), "trusted.* is root's");
        String header = rawHead(prefix + "x").metadata().get("xattr");
        assertEquals(2, S3Xattrs.decode(header).size(), header);
        assertArrayEquals("2".getBytes(StandardCharsets.UTF_8), S3Xattrs.decode(header).get("user.a"));

        S3Backend fresh = backend();   // a new process: everything comes from S3
        long f2 = fresh.lookup(me, ROOT, n("x")).nodeId();
        assertArrayEquals(new byte[] {0, 1}, fresh.getxattr(me, f2, "trusted.t"));
        long fh = fresh.open(me, f2, OpenFlags.O_WRONLY).fh();
        fresh.write(me, f2, fh, 3, new Buffers.Source(ByteBuffer.wrap("d".getBytes(StandardCharsets.UTF_8))), false);
        fresh.release(me, f2, fh, 0, 0);
        assertEquals(2, S3Xattrs.decode(rawHead(prefix + "x").metadata().get("xattr")).size(), "an upload keeps them");
        fresh.removexattr(me, f2, "trusted.t");
        assertEquals(Errno.ENODATA, errno(() -> fresh.removexattr(me, f2, "trusted.t")));
        assertEquals(Errno.ENOSPC, errno(() -> fresh.setxattr(me, f2, "user.big", new byte[3000], 0)));
        assertEquals(List.of("user.a"), fresh.listxattr(me, f2), "a refused set changes nothing");

        Entry d = fresh.mkdir(me, ROOT, n("xd"), 0755, 0);
        fresh.setxattr(me, d.nodeId(), "user.d", "dir".getBytes(StandardCharsets.UTF_8), 0);
        assertEquals("%7B%22user.d%22%3A%22ZGly%22%7D", rawHead(prefix + "xd/").metadata().get("xattr"));
    }

    /** rename(2) over a file open for reading: the old handle gets ESTALE, and fstat shows no links. */
    @Test
    void fileReplacedByARenameWhileOpen() throws Exception {
        rawPut(prefix + "old", "old bytes".getBytes(StandardCharsets.UTF_8), Map.of());
        rawPut(prefix + "new", "new".getBytes(StandardCharsets.UTF_8), Map.of());
        S3Backend b = backend();
        Entry victim = b.lookup(CTX, ROOT, n("old"));
        b.lookup(CTX, ROOT, n("new"));
        long fh = b.open(CTX, victim.nodeId(), OpenFlags.O_RDONLY).fh();
        b.rename(CTX, ROOT, n("new"), ROOT, n("old"), 0);
        assertEquals(0, b.getattr(CTX, victim.nodeId(), fh).nlink(), "replaced: no name left");
        for (int i = 0; i < 2; i++) {
            assertEquals(Errno.ESTALE, errno(() -> b.read(CTX, victim.nodeId(), fh, 0, new Buffers.Sink(16))));
        }
        b.release(CTX, victim.nodeId(), fh, 0, 0);
        assertArrayEquals("new".getBytes(StandardCharsets.UTF_8), rawGet(prefix + "old"));
    }
}
