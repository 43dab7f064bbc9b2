package io.vfsgw.backend.mem;

import io.vfsgw.spi.BufferReadSink;
import io.vfsgw.spi.BufferWriteSource;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import io.vfsgw.spi.StorageBackend;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;

import static io.vfsgw.backend.mem.MemBackend.INODE_COST;
import static io.vfsgw.backend.mem.MemBackend.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * File data lives in the off-heap {@link PagePool}: every way a file loses data gives the blocks back
 * at once (and the kernel its memory), reused blocks never show old bytes, and the budget still rules.
 * Each test also checks that the pool holds exactly the bytes the budget charges for file data.
 */
class MemBackendOffHeapTest {
    private static final RequestContext ROOT = RequestContext.ROOT;
    private static final long R = StorageBackend.ROOT_ID;
    private static final int PUNCH = StorageBackend.FALLOC_FL_PUNCH_HOLE | StorageBackend.FALLOC_FL_KEEP_SIZE;

    /** A file created in the root and left open read-write. */
    record OpenFile(long node, long fh) {
    }

    static OpenFile createOpen(MemBackend fs, String fileName) throws FsException {
        CreateResult c = fs.create(ROOT, R, name(fileName), 0644, OpenFlags.O_RDWR, 0);
        return new OpenFile(c.entry().nodeId(), c.open().fh());
    }

    @Test
    void writingAndDeleting64MibReturnsEveryBlockAndItsMemory() throws Exception {
        try (MemBackend fs = new MemBackend(MemOptions.ofCapacity(256L << 20))) {
            PagePool pool = fs.pagePool();
            ByteBuffer chunk = directPattern(1 << 20, 1);
            for (int round = 0; round < 2; round++) {
                CreateResult c = fs.create(ROOT, R, name("big"), 0644, OpenFlags.O_RDWR, 0);
                long f = c.entry().nodeId();
                for (long off = 0; off < (64L << 20); off += chunk.capacity()) {
                    fs.write(ROOT, f, c.open().fh(), off, new BufferWriteSource(chunk), false);
                }
                assertEquals(64L << 20, pool.bytesInUse());
                assertEquals(64L << 20, pool.residentBytes(), "the kernel holds exactly the file's pages");
                assertPoolMatchesBudget(fs);
                fs.release(ROOT, f, c.open().fh(), 0, 0);
                fs.unlink(ROOT, R, name("big"));
                fs.forget(f, 1);
                assertEquals(0, pool.blocksInUse(), "round " + round);
                assertEquals(0, pool.residentBytes(), "round " + round + ": memory back to the kernel");
                assertEquals(PagePool.ARENA_SIZE, pool.mappedBytes(), "round " + round + ": blocks reused");
            }
            assertEquals(INODE_COST, fs.usedBytes());
        }
    }

    @Test
    void scatteredDirectBuffersGoInAndOutOverAFragmentedPool() throws Exception {
        try (MemBackend fs = new MemBackend(MemOptions.ofCapacity(64L << 20))) {
            // Fragment the pool: two files interleaved page by page, then one deleted, so the next
            // file gets freed blocks between blocks still in use (runs break) and fresh ones.
            CreateResult a = fs.create(ROOT, R, name("a"), 0644, OpenFlags.O_RDWR, 0);
            CreateResult b = fs.create(ROOT, R, name("b"), 0644, OpenFlags.O_RDWR, 0);
            for (int i = 0; i < 16; i++) {
                for (CreateResult c : List.of(a, b)) {
                    fs.write(ROOT, c.entry().nodeId(), c.open().fh(), (long) i * PAGE_SIZE,
                            new BufferWriteSource(directPattern(PAGE_SIZE, 7)), false);
                }
            }
            fs.release(ROOT, a.entry().nodeId(), a.open().fh(), 0, 0);
            fs.unlink(ROOT, R, name("a"));
            fs.forget(a.entry().nodeId(), 1);

            CreateResult c = fs.create(ROOT, R, name("c"), 0644, OpenFlags.O_RDWR, 0);
            long f = c.entry().nodeId();
            long fh = c.open().fh();
            byte[] model = new byte[40 * PAGE_SIZE];
            Random rnd = new Random(42);
            // Writes as a guest sends them: 4 KiB pages, some split, at offsets not page aligned.
            for (int w = 0; w < 40; w++) {
                int off = rnd.nextInt(model.length - 300_000);
                byte[] data = new byte[1 + rnd.nextInt(300_000)];
                rnd.nextBytes(data);
                System.arraycopy(data, 0, model, off, data.length);
                assertEquals(data.length, fs.write(ROOT, f, fh, off, new Scattered(data, 4096 - (w % 3) * 1000), false));
            }
            long size = fs.getattr(ROOT, f, fh).size();
            // Reads into scattered direct buffers, from everywhere, crossing holes-free pages and runs.
            for (int r = 0; r < 40; r++) {
                int off = rnd.nextInt((int) size);
                int len = 1 + rnd.nextInt(200_000);
                Scattered sink = new Scattered(new byte[len], 4096);
                fs.read(ROOT, f, fh, off, sink);
                int got = (int) Math.min(len, size - off);
                assertEquals(got, sink.filled(), "read " + len + " at " + off);
                assertArrayEquals(Arrays.copyOfRange(model, off, off + got), sink.bytes(got), "read at " + off);
            }
            assertPoolMatchesBudget(fs);
        }
    }

    @Test
    void aSourceThatFaultsPartWayIsAShortWriteAndLeavesNothingPastTheSize() throws Exception {
        // A view whose memory is gone (as a guest's would be if its memory table changed under a
        // request): pwritev fails with EFAULT on it, after the bytes before it went in.
        int fd = io.vfsgw.nativeio.MemoryMaps.memfdCreate("gone", PAGE_SIZE);
        io.vfsgw.nativeio.MemoryMaps.Mapping m = io.vfsgw.nativeio.MemoryMaps.map(fd, 0, PAGE_SIZE, true);
        ByteBuffer gone = m.view(0, PAGE_SIZE);
        m.close();
        io.vfsgw.nativeio.PosixFiles.closeQuietly(fd);
        try (MemBackend fs = new MemBackend(MemOptions.ofCapacity(64L << 20))) {
            CreateResult c = fs.create(ROOT, R, name("f"), 0644, OpenFlags.O_RDWR, 0);
            long f = c.entry().nodeId();
            long fh = c.open().fh();
            ByteBuffer good = directPattern(PAGE_SIZE, 3);
            io.vfsgw.spi.WriteSource src = new io.vfsgw.spi.WriteSource() {
                private final ByteBuffer[] parts = {good.duplicate(), gone};
                private int index;

                @Override
                public int remaining() {
                    return parts[0].remaining() + parts[1].remaining();
                }

                @Override
                public int copyTo(ByteBuffer dst) {
                    throw new AssertionError("not through a copy");
                }

                @Override
                public ByteBuffer[] views() {
                    return Arrays.copyOfRange(parts, index, parts.length);
                }

                @Override
                public void advance(int n) {
                    parts[index].position(parts[index].position() + n);
                    if (!parts[index].hasRemaining()) {
                        index++;
                    }
                }
            };
            assertEquals(PAGE_SIZE, fs.write(ROOT, f, fh, 0, src, false), "the bytes before the bad view");
            assertEquals(PAGE_SIZE, fs.getattr(ROOT, f, fh).size());
            // Growing the file shows zeros past the old size, not anything of the failed part.
            fs.setattr(ROOT, f, SetAttr.size(2L * PAGE_SIZE));
            BufferReadSink all = new BufferReadSink(2 * PAGE_SIZE);
            fs.read(ROOT, f, fh, 0, all);
            byte[] got = all.bytes();
            byte[] want = new byte[2 * PAGE_SIZE];
            good.duplicate().get(want, 0, PAGE_SIZE);
            assertArrayEquals(want, got);

            // Nothing went in at all: the errno, and no size change.
            io.vfsgw.spi.WriteSource onlyGone = new BufferlessSource(gone);
            assertEquals(Errno.EFAULT, assertThrows(FsException.class,
                    () -> fs.write(ROOT, f, fh, 3L * PAGE_SIZE, onlyGone, false)).errno());
            assertEquals(2L * PAGE_SIZE, fs.getattr(ROOT, f, fh).size());
            assertPoolMatchesBudget(fs);
        }
    }

    /** A source of one direct view that is never copied through the JVM. */
    private record BufferlessSource(ByteBuffer view) implements io.vfsgw.spi.WriteSource {
        @Override
        public int remaining() {
            return view.remaining();
        }

        @Override
        public int copyTo(ByteBuffer dst) {
            throw new AssertionError("not through a copy");
        }

        @Override
        public ByteBuffer[] views() {
            return new ByteBuffer[] {view.duplicate()};
        }

        @Override
        public void advance(int n) {
            view.position(view.position() + n);
        }
    }

    /** A request's data as a guest hands it over: direct buffers of {@code piece} bytes, in order. */
    private static final class Scattered implements io.vfsgw.spi.WriteSource, io.vfsgw.spi.ReadSink {
        private final ByteBuffer[] parts;
        private int index;

        Scattered(byte[] data, int piece) {
            List<ByteBuffer> out = new ArrayList<>();
            for (int off = 0; off < data.length; off += piece) {
                int n = Math.min(piece, data.length - off);
                out.add(ByteBuffer.allocateDirect(n).put(data, off, n).flip());
            }
            parts = out.toArray(new ByteBuffer[0]);
        }

        @Override
        public int remaining() {
            int n = 0;
            for (int i = index; i < parts.length; i++) {
                n += parts[i].remaining();
            }
            return n;
        }

        @Override
        public int copyTo(ByteBuffer dst) {
            throw new AssertionError("the backend copies through pwritev, with views()");
        }

        @Override
        public ByteBuffer[] views() {
            return Arrays.stream(parts, index, parts.length).map(ByteBuffer::slice).toArray(ByteBuffer[]::new);
        }

        @Override
        public ByteBuffer[] views(int max) {
            List<ByteBuffer> out = new ArrayList<>();
            for (int i = index; i < parts.length && max > 0; i++) {
                ByteBuffer v = parts[i].slice();
                v.limit(Math.min(v.limit(), max));
                max -= v.remaining();
                out.add(v);
            }
            return out.toArray(new ByteBuffer[0]);
        }

        @Override
        public void advance(int n) {
            while (n > 0) {
                ByteBuffer p = parts[index];
                int k = Math.min(n, p.remaining());
                p.position(p.position() + k);
                n -= k;
                if (!p.hasRemaining()) {
                    index++;
                }
            }
        }

        @Override
        public void put(ByteBuffer src) {
            while (src.hasRemaining()) {
                ByteBuffer p = parts[index];
                int k = Math.min(src.remaining(), p.remaining());
                p.put(src.duplicate().limit(src.position() + k));
                src.position(src.position() + k);
                if (!p.hasRemaining()) {
                    index++;
                }
            }
        }

        @Override
        public void putZeros(int count) {
            put(ByteBuffer.allocate(count));
        }

        int filled() {
            int n = 0;
            for (ByteBuffer p : parts) {
                n += p.position();
            }
            return n;
        }

        byte[] bytes(int len) {
            byte[] out = new byte[len];
            int at = 0;
            for (ByteBuffer p : parts) {
                ByteBuffer d = p.duplicate().flip();
                int k = Math.min(d.remaining(), len - at);
                d.get(out, at, k);
                at += k;
            }
            return out;
        }
    }

    @Test
    void reusedBlocksNeverShowAnotherFilesBytes() throws Exception {
        try (MemBackend fs = new MemBackend(MemOptions.ofCapacity(64L << 20))) {
            PagePool pool = fs.pagePool();
            // Dirty blocks of every size, then free them all.
            CreateResult old = fs.create(ROOT, R, name("old"), 0644, OpenFlags.O_RDWR, 0);
            long o = old.entry().nodeId();
            byte[] ff = new byte[PAGE_SIZE];
            Arrays.fill(ff, (byte) 0xFF);
            for (int i = 0; i < 64; i++) {
                int len = Math.max(1, PAGE_SIZE >> (i % 5)); // 64 KiB down to 4 KiB buffers
                fs.write(ROOT, o, old.open().fh(), (long) i * PAGE_SIZE, BufferWriteSource.of(Arrays.copyOf(ff, len)), false);
            }
            fs.release(ROOT, o, old.open().fh(), 0, 0);
            fs.unlink(ROOT, R, name("old"));
            fs.forget(o, 1);
            long freeBlocks = pool.bytesFree();
            assertTrue(freeBlocks >= 64L * PagePool.MIN_BLOCK);

            CreateResult c = fs.create(ROOT, R, name("new"), 0644, OpenFlags.O_RDWR, 0);
            long f = c.entry().nodeId();
            long fh = c.open().fh();
            // A 1-byte write gets a (reused) 4 KiB buffer; extending the file shows its tail.
            fs.write(ROOT, f, fh, 0, BufferWriteSource.of("x"), false);
            fs.setattr(ROOT, f, SetAttr.size(PAGE_SIZE));
            byte[] expect = new byte[PAGE_SIZE];
            expect[0] = 'x';
            assertArrayEquals(expect, read(fs, f, fh, 0, PAGE_SIZE), "tail of a reused small buffer");
            // fallocate takes full reused buffers without writing them: they must read as zeros.
            fs.fallocate(ROOT, f, fh, 0, PAGE_SIZE, 32L * PAGE_SIZE);
            assertTrue(pool.bytesFree() < freeBlocks, "fallocate reused freed blocks");
            assertArrayEquals(new byte[32 * PAGE_SIZE], read(fs, f, fh, PAGE_SIZE, 32 * PAGE_SIZE));
            // Truncate down into a written page, then extend: the cut bytes are gone.
            fs.write(ROOT, f, fh, 0, BufferWriteSource.of(ff), false);
            fs.setattr(ROOT, f, SetAttr.size(100));
            fs.setattr(ROOT, f, SetAttr.size(3L * PAGE_SIZE));
            byte[] cut = new byte[3 * PAGE_SIZE];
            Arrays.fill(cut, 0, 100, (byte) 0xFF);
            assertArrayEquals(cut, read(fs, f, fh, 0, cut.length), "bytes past a truncation stay zero");
            // A hole reads zeros even where blocks were just freed.
            fs.setattr(ROOT, f, SetAttr.size(0));
            fs.write(ROOT, f, fh, 10L * PAGE_SIZE, BufferWriteSource.of("end"), false);
            assertArrayEquals(new byte[10 * PAGE_SIZE], read(fs, f, fh, 0, 10 * PAGE_SIZE));
            assertPoolMatchesBudget(fs);
        }
    }

    @Test
    void fallocateCommitsTheMemoryAsTmpfsDoes() throws Exception {
        try (MemBackend fs = new MemBackend(MemOptions.ofCapacity(64L << 20))) {
            OpenFile o = createOpen(fs, "f");
            long size = 16L * PAGE_SIZE;
            fs.fallocate(ROOT, o.node(), o.fh(), 0, 0, size);
            assertEquals(size, fs.pagePool().residentBytes(), "the space is taken now, not at the first write");
            assertArrayEquals(new byte[(int) size], read(fs, o.node(), o.fh(), 0, (int) size));
            byte[] data = pattern((int) size, 5);
            fs.write(ROOT, o.node(), o.fh(), 0, BufferWriteSource.of(data), false);
            assertEquals(size, fs.pagePool().residentBytes(), "writing into committed space takes no more");
            assertArrayEquals(data, read(fs, o.node(), o.fh(), 0, data.length));
            // Past the budget: refused before anything is taken.
            assertEquals(Errno.ENOSPC, assertThrows(FsException.class,
                    () -> fs.fallocate(ROOT, o.node(), o.fh(), 0, 0, 128L << 20)).errno());
            assertEquals(size, fs.pagePool().residentBytes());
            assertPoolMatchesBudget(fs);
        }
    }

    @Test
    void punchHoleFreesWholePagesAtOnce() throws Exception {
        try (MemBackend fs = new MemBackend(MemOptions.ofCapacity(64L << 20))) {
            PagePool pool = fs.pagePool();
            CreateResult c = fs.create(ROOT, R, name("f"), 0644, OpenFlags.O_RDWR, 0);
            long f = c.entry().nodeId();
            long fh = c.open().fh();
            byte[] data = pattern(16 * PAGE_SIZE, 3);
            fs.write(ROOT, f, fh, 0, BufferWriteSource.of(data), false);
            assertEquals(16L * PAGE_SIZE, pool.residentBytes());
            // Pages 1..14 whole, plus parts of pages 0 and 15 (zeroed, kept).
            fs.fallocate(ROOT, f, fh, PUNCH, 100, 16L * PAGE_SIZE - 200);
            assertEquals(2, pool.blocksInUse());
            assertEquals(2L * PAGE_SIZE, pool.residentBytes(), "punched pages' memory is back to the kernel");
            byte[] expect = data.clone();
            Arrays.fill(expect, 100, 16 * PAGE_SIZE - 100, (byte) 0);
            assertArrayEquals(expect, read(fs, f, fh, 0, expect.length));
            assertPoolMatchesBudget(fs);
        }
    }

    @Test
    void anUnlinkedOpenFileKeepsItsDataUntilTheLastRelease() throws Exception {
        try (MemBackend fs = new MemBackend(MemOptions.ofCapacity(64L << 20))) {
            PagePool pool = fs.pagePool();
            CreateResult c = fs.create(ROOT, R, name("f"), 0644, OpenFlags.O_RDWR, 0);
            long f = c.entry().nodeId();
            byte[] data = pattern(4 << 20, 7);
            fs.write(ROOT, f, c.open().fh(), 0, BufferWriteSource.of(data), false);
            long second = fs.open(ROOT, f, OpenFlags.O_RDONLY).fh();
            fs.unlink(ROOT, R, name("f"));
            fs.forget(f, 1);
            assertEquals(4L << 20, pool.bytesInUse(), "two handles still open");
            fs.release(ROOT, f, c.open().fh(), 0, 0);
            assertEquals(4L << 20, pool.bytesInUse(), "one handle still open");
            assertArrayEquals(data, read(fs, f, second, 0, data.length), "data intact through the last handle");
            fs.release(ROOT, f, second, 0, 0);
            assertEquals(0, pool.blocksInUse(), "last release frees the blocks");
            assertEquals(0, pool.residentBytes());
            assertPoolMatchesBudget(fs);
        }
    }

    @Test
    void renameOverAFileFreesTheReplacedFile() throws Exception {
        try (MemBackend fs = new MemBackend(MemOptions.ofCapacity(64L << 20))) {
            PagePool pool = fs.pagePool();
            long a = writeFile(fs, "a", pattern(3 * PAGE_SIZE, 1));
            long b = writeFile(fs, "b", pattern(5 * PAGE_SIZE, 2));
            fs.forget(b, 1); // the kernel forgot b; only its name holds it
            assertEquals(8L * PAGE_SIZE, pool.bytesInUse());
            fs.rename(ROOT, R, name("a"), R, name("b"), 0);
            assertEquals(3L * PAGE_SIZE, pool.bytesInUse(), "the replaced file's blocks are free");
            assertEquals(3L * PAGE_SIZE, pool.residentBytes());
            long fh = fs.open(ROOT, a, OpenFlags.O_RDONLY).fh();
            assertArrayEquals(pattern(3 * PAGE_SIZE, 1), read(fs, a, fh, 0, 3 * PAGE_SIZE));
            assertPoolMatchesBudget(fs);
        }
    }

    @Test
    void fourThreadsWriteTheirOwnFilesAndReadBackTheirChecksums() throws Exception {
        try (MemBackend fs = new MemBackend(MemOptions.ofCapacity(128L << 20))) {
            ExecutorService ex = Executors.newFixedThreadPool(4);
            CountDownLatch start = new CountDownLatch(1);
            long[] nodes = new long[4];
            try {
                List<Future<long[]>> results = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int seed = t;
                    results.add(ex.submit(() -> {
                        start.await();
                        return writeRandomly(fs, "t" + seed, seed);
                    }));
                }
                start.countDown();
                for (int t = 0; t < 4; t++) {
                    long[] r = results.get(t).get(); // node, size, expected crc
                    nodes[t] = r[0];
                    long fh = fs.open(ROOT, r[0], OpenFlags.O_RDONLY).fh();
                    CRC32 crc = new CRC32();
                    crc.update(read(fs, r[0], fh, 0, (int) r[1]));
                    fs.release(ROOT, r[0], fh, 0, 0);
                    assertEquals(r[2], crc.getValue(), "file t" + t);
                }
            } finally {
                ex.shutdownNow();
            }
            assertPoolMatchesBudget(fs);
            for (int t = 0; t < 4; t++) {
                fs.unlink(ROOT, R, name("t" + t));
                fs.forget(nodes[t], 1);
            }
            assertEquals(0, fs.pagePool().blocksInUse());
        }
    }

    @Test
    void enospcAtTheBudgetLeavesNoBlockBehind() throws Exception {
        try (MemBackend fs = new MemBackend(new MemOptions(16L * PAGE_SIZE, 100))) {
            PagePool pool = fs.pagePool();
            CreateResult c = fs.create(ROOT, R, name("f"), 0644, OpenFlags.O_RDWR, 0);
            long f = c.entry().nodeId();
            long fh = c.open().fh();
            fs.write(ROOT, f, fh, 0, BufferWriteSource.of(pattern(15 * PAGE_SIZE, 1)), false);
            FsException e = assertThrows(FsException.class,
                    () -> fs.write(ROOT, f, fh, 14L * PAGE_SIZE, BufferWriteSource.of(new byte[2 * PAGE_SIZE]), false));
            assertEquals(Errno.ENOSPC, e.errno());
            e = assertThrows(FsException.class, () -> fs.fallocate(ROOT, f, fh, 0, 0, 20L * PAGE_SIZE));
            assertEquals(Errno.ENOSPC, e.errno());
            assertEquals(15L * PAGE_SIZE, pool.bytesInUse(), "a failed call allocates nothing");
            assertPoolMatchesBudget(fs);
            // Space freed by a truncate is usable again.
            fs.setattr(ROOT, f, SetAttr.size(0));
            assertEquals(0, pool.blocksInUse());
            fs.write(ROOT, f, fh, 0, BufferWriteSource.of(pattern(15 * PAGE_SIZE, 2)), false);
            assertArrayEquals(pattern(15 * PAGE_SIZE, 2), read(fs, f, fh, 0, 15 * PAGE_SIZE));
        }
    }

    @Test
    void copyFileRangeAndGrowingSmallBuffersKeepTheBooksStraight() throws Exception {
        try (MemBackend fs = new MemBackend(MemOptions.ofCapacity(64L << 20))) {
            long a = writeFile(fs, "a", pattern(3 * PAGE_SIZE + 100, 4));
            long b = writeFile(fs, "b", pattern(100, 5));
            long fhA = fs.open(ROOT, a, OpenFlags.O_RDONLY).fh();
            long fhB = fs.open(ROOT, b, OpenFlags.O_RDWR).fh();
            // Grow b's 4 KiB buffer step by step to a full page (each growth frees the smaller block).
            for (int off = 100; off < PAGE_SIZE; off += 3000) {
                fs.write(ROOT, b, fhB, off, BufferWriteSource.of(pattern(3000, off)), false);
            }
            assertPoolMatchesBudget(fs);
            assertEquals(fs.copyFileRange(ROOT, a, fhA, 0, b, fhB, 2L * PAGE_SIZE + 7, 3L * PAGE_SIZE + 100, 0),
                    3L * PAGE_SIZE + 100);
            assertArrayEquals(pattern(3 * PAGE_SIZE + 100, 4), read(fs, b, fhB, 2L * PAGE_SIZE + 7, 3 * PAGE_SIZE + 100));
            assertPoolMatchesBudget(fs);
        }
    }

    @Test
    void closeFreesAndUnmapsEverythingAndLaterWritesFailCleanly() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.ofCapacity(64L << 20));
        long f = writeFile(fs, "f", pattern(4 * PAGE_SIZE, 1));
        long fh = fs.open(ROOT, f, OpenFlags.O_RDWR).fh();
        PagePool pool = fs.pagePool();
        fs.close();
        assertEquals(0, pool.blocksInUse());
        assertEquals(0, pool.mappedBytes());
        assertEquals(0, pool.residentBytes());
        FsException e = assertThrows(FsException.class,
                () -> fs.write(ROOT, f, fh, 0, BufferWriteSource.of("late"), false));
        assertEquals(Errno.EIO, e.errno());
        assertArrayEquals(new byte[10], read(fs, f, fh, 0, 10), "a closed backend's files read as zeros");
        fs.close(); // idempotent
    }

    // ------------------------------------------------------------ helpers

    /** The pool holds exactly the file-data bytes the budget charges (no xattrs or symlinks here). */
    private static void assertPoolMatchesBudget(MemBackend fs) {
        assertEquals(fs.usedBytes() - fs.usedInodes() * INODE_COST, fs.pagePool().bytesInUse(),
                "pool bytes in use vs budget");
    }

    /** Random overlapping writes of random sizes into a fresh 8 MiB file; returns node, size, CRC32. */
    private static long[] writeRandomly(MemBackend fs, String name, int seed) throws FsException {
        Random rnd = new Random(seed);
        byte[] model = new byte[8 << 20];
        CreateResult c = fs.create(ROOT, R, name(name), 0644, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        long fh = c.open().fh();
        int size = 0;
        for (int i = 0; i < 400; i++) {
            int len = 1 + rnd.nextInt(rnd.nextBoolean() ? 200 : 3 * PAGE_SIZE);
            int off = rnd.nextInt(model.length - len);
            ByteBuffer data = ByteBuffer.allocateDirect(len);
            for (int k = 0; k < len; k++) {
                byte v = (byte) rnd.nextInt();
                data.put(k, v);
                model[off + k] = v;
            }
            fs.write(ROOT, f, fh, off, new BufferWriteSource(data), false);
            size = Math.max(size, off + len);
            if (i % 50 == 49) { // now and then cut the file, freeing blocks while others allocate
                int cut = rnd.nextInt(size + 1);
                fs.setattr(ROOT, f, SetAttr.size(cut));
                Arrays.fill(model, cut, model.length, (byte) 0);
                size = cut;
            }
        }
        fs.release(ROOT, f, fh, 0, 0);
        CRC32 crc = new CRC32();
        crc.update(model, 0, size);
        return new long[] {f, size, crc.getValue()};
    }

    private static long writeFile(MemBackend fs, String name, byte[] data) throws FsException {
        CreateResult c = fs.create(ROOT, R, name(name), 0644, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        fs.write(ROOT, f, c.open().fh(), 0, BufferWriteSource.of(data), false);
        fs.release(ROOT, f, c.open().fh(), 0, 0);
        return f;
    }

    private static FileName name(String s) throws FsException {
        return FileName.of(s.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed + (i >>> 9));
        }
        return b;
    }

    private static ByteBuffer directPattern(int length, int seed) {
        ByteBuffer b = ByteBuffer.allocateDirect(length);
        b.put(pattern(length, seed)).flip();
        return b;
    }

    private static byte[] read(MemBackend fs, long node, long fh, long offset, int length) throws FsException {
        BufferReadSink sink = new BufferReadSink(length);
        fs.read(ROOT, node, fh, offset, sink);
        return sink.bytes();
    }
}
