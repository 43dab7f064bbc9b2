package io.vfsgw.backend.mem;

import io.vfsgw.locks.LockTable;
import com.google.inject.Guice;
import com.google.inject.Injector;
import io.vfsgw.spi.Attr;
import io.vfsgw.spi.BufferReadSink;
import io.vfsgw.spi.BufferWriteSource;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.Lock;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import io.vfsgw.spi.StatFs;
import io.vfsgw.spi.StorageBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static io.vfsgw.backend.mem.MemBackend.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What is specific to the in-memory backend: budget, sparse pages, locks, lifetime, concurrency. */
class MemBackendTest {
    private static final RequestContext ROOT = RequestContext.ROOT;
    private static final long R = StorageBackend.ROOT_ID;

    /** A clock the test moves by hand. */
    static final class ManualClock extends Clock {
        final AtomicLong nanos = new AtomicLong(1_700_000_000L * 1_000_000_000L);

        void advance(long ns) {
            nanos.addAndGet(ns);
        }

        long now() {
            return nanos.get();
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            long n = nanos.get();
            return Instant.ofEpochSecond(n / 1_000_000_000L, n % 1_000_000_000L);
        }
    }

    // ------------------------------------------------------------ capacity

    @Test
    void writeBeyondCapacityIsEnospcAndChangesNothing() throws Exception {
        MemBackend fs = new MemBackend(new MemOptions(16L * PAGE_SIZE, 100));
        CreateResult c = fs.create(ROOT, R, name("f"), 0644, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        long fh = c.open().fh();
        // Root and file cost 2 * INODE_COST: 15 of the 16 pages fit.
        byte[] data = pattern(15 * PAGE_SIZE, 1);
        assertEquals(data.length, fs.write(ROOT, f, fh, 0, BufferWriteSource.of(data), false));
        long used = fs.usedBytes();
        Attr before = fs.getattr(ROOT, f, fh);
        assertErrno(Errno.ENOSPC, () -> fs.write(ROOT, f, fh, 16L * PAGE_SIZE - 1, BufferWriteSource.of(new byte[1]), false));
        // A write that overwrites existing pages but also needs a new one fails as a whole.
        byte[] spanning = new byte[2 * PAGE_SIZE];
        Arrays.fill(spanning, (byte) 'X');
        assertErrno(Errno.ENOSPC, () -> fs.write(ROOT, f, fh, 14L * PAGE_SIZE, BufferWriteSource.of(spanning), false));
        assertEquals(used, fs.usedBytes());
        assertEquals(before, fs.getattr(ROOT, f, fh));
        assertArrayEquals(data, read(fs, f, fh, 0, data.length));
        // Overwriting allocated pages needs no new space.
        assertEquals(PAGE_SIZE, fs.write(ROOT, f, fh, 0, BufferWriteSource.of(new byte[PAGE_SIZE]), false));
        StatFs s = fs.statfs(ROOT, R);
        assertEquals(16L * PAGE_SIZE / MemBackend.STATFS_BLOCK, s.blocks());
        assertTrue(s.blocksFree() < PAGE_SIZE / MemBackend.STATFS_BLOCK);
    }

    @Test
    void smallFilesCostSmallBuffersThatGrowKeepingTheirBytes() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.ofCapacity(16L << 20));
        CreateResult c = fs.create(ROOT, R, name("small"), 0644, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        long fh = c.open().fh();
        long base = fs.usedBytes();
        byte[] first = pattern(100, 1);
        fs.write(ROOT, f, fh, 0, BufferWriteSource.of(first), false);
        assertEquals(FileNode.MIN_BUFFER, fs.usedBytes() - base, "100 bytes cost one 4 KiB buffer");
        assertEquals(FileNode.MIN_BUFFER / 512, fs.getattr(ROOT, f, fh).blocks());
        byte[] more = pattern(5000, 2);
        fs.write(ROOT, f, fh, 100, BufferWriteSource.of(more), false);
        assertEquals(8192, fs.usedBytes() - base, "grown to 8 KiB");
        byte[] whole = new byte[5100];
        System.arraycopy(first, 0, whole, 0, 100);
        System.arraycopy(more, 0, whole, 100, 5000);
        assertArrayEquals(whole, read(fs, f, fh, 0, 6000));
        // Bytes past a small buffer but inside the file (after truncate up) read as zeros.
        fs.setattr(ROOT, f, SetAttr.size(3L * PAGE_SIZE));
        assertArrayEquals(new byte[PAGE_SIZE], read(fs, f, fh, 2L * PAGE_SIZE, PAGE_SIZE));
        assertArrayEquals(new byte[1000], read(fs, f, fh, 9000, 1000));
        fs.setattr(ROOT, f, SetAttr.size(0));
        assertEquals(0, fs.usedBytes() - base);
    }

    @Test
    void inodeLimitIsEnospc() throws Exception {
        MemBackend fs = new MemBackend(new MemOptions(1 << 20, 3));
        fs.mkdir(ROOT, R, name("a"), 0755, 0);
        fs.mknod(ROOT, R, name("b"), FileType.FIFO.modeBits() | 0644, 0, 0);
        assertErrno(Errno.ENOSPC, () -> fs.mknod(ROOT, R, name("c"), FileType.REGULAR.modeBits() | 0644, 0, 0));
        assertErrno(Errno.ENOENT, () -> fs.lookup(ROOT, R, name("c")));
        StatFs s = fs.statfs(ROOT, R);
        assertEquals(3, s.files());
        assertEquals(0, s.filesFree());
    }

    @Test
    void fourGibSparseFileCostsOnePage() throws Exception {
        MemBackend fs = new MemBackend(new MemOptions(1L << 20, 100));
        CreateResult c = fs.create(ROOT, R, name("big"), 0644, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        long fh = c.open().fh();
        long size = 4L << 30;
        fs.write(ROOT, f, fh, size - 1, BufferWriteSource.of(new byte[] {42}), false);
        Attr a = fs.getattr(ROOT, f, fh);
        assertEquals(size, a.size());
        assertEquals(PAGE_SIZE / 512, a.blocks());
        assertEquals(2 * MemBackend.INODE_COST + PAGE_SIZE, fs.usedBytes());
        assertArrayEquals(new byte[4096], read(fs, f, fh, 2L << 30, 4096));
        assertArrayEquals(new byte[] {0, 42}, read(fs, f, fh, size - 2, 100));
        // Truncating far beyond the budget is fine too: it allocates nothing.
        assertEquals(1L << 40, fs.setattr(ROOT, f, SetAttr.size(1L << 40)).size());
        assertEquals(PAGE_SIZE / 512, fs.getattr(ROOT, f, fh).blocks());
    }

    @Test
    void maxFileSizeIsEfbig() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.ofCapacity(1 << 20));
        CreateResult c = fs.create(ROOT, R, name("f"), 0644, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        long fh = c.open().fh();
        long max = MemBackend.MAX_FILE_SIZE;
        assertErrno(Errno.EFBIG, () -> fs.write(ROOT, f, fh, max, BufferWriteSource.of("x"), false));
        assertErrno(Errno.EFBIG, () -> fs.setattr(ROOT, f, SetAttr.size(max + 1)));
        assertEquals(2, fs.write(ROOT, f, fh, max - 2, BufferWriteSource.of("abcd"), false), "cut at the limit");
        assertEquals(max, fs.getattr(ROOT, f, fh).size());
        assertErrno(Errno.EFBIG, () -> fs.fallocate(ROOT, f, fh, 0, max - 10, 100));
    }

    // ------------------------------------------------------------ holes, fallocate, seek, copy

    @Test
    void punchHoleAndSeekDataHole() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.ofCapacity(64L << 20));
        CreateResult c = fs.create(ROOT, R, name("f"), 0644, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        long fh = c.open().fh();
        byte[] data = pattern(4 * PAGE_SIZE, 3);
        fs.write(ROOT, f, fh, 0, BufferWriteSource.of(data), false);
        long used = fs.usedBytes();
        // Punch pages 1 and 2 whole (released), then 20 bytes inside page 3 (zeroed, still allocated).
        fs.fallocate(ROOT, f, fh, StorageBackend.FALLOC_FL_PUNCH_HOLE | StorageBackend.FALLOC_FL_KEEP_SIZE,
                PAGE_SIZE, 2L * PAGE_SIZE);
        assertEquals(used - 2L * PAGE_SIZE, fs.usedBytes(), "pages 1 and 2 fully punched");
        fs.fallocate(ROOT, f, fh, StorageBackend.FALLOC_FL_PUNCH_HOLE | StorageBackend.FALLOC_FL_KEEP_SIZE,
                3L * PAGE_SIZE + 10, 20);
        assertEquals(4L * PAGE_SIZE, fs.getattr(ROOT, f, fh).size());
        assertEquals(2L * PAGE_SIZE / 512, fs.getattr(ROOT, f, fh).blocks());
        byte[] expect = data.clone();
        Arrays.fill(expect, PAGE_SIZE, 3 * PAGE_SIZE, (byte) 0);
        Arrays.fill(expect, 3 * PAGE_SIZE + 10, 3 * PAGE_SIZE + 30, (byte) 0);
        assertArrayEquals(expect, read(fs, f, fh, 0, expect.length));

        assertEquals(0, fs.lseek(ROOT, f, fh, 0, StorageBackend.SEEK_DATA));
        assertEquals(PAGE_SIZE, fs.lseek(ROOT, f, fh, 0, StorageBackend.SEEK_HOLE));
        assertEquals(PAGE_SIZE + 5, fs.lseek(ROOT, f, fh, PAGE_SIZE + 5, StorageBackend.SEEK_HOLE));
        assertEquals(3L * PAGE_SIZE, fs.lseek(ROOT, f, fh, PAGE_SIZE, StorageBackend.SEEK_DATA));
        assertEquals(4L * PAGE_SIZE, fs.lseek(ROOT, f, fh, 3L * PAGE_SIZE, StorageBackend.SEEK_HOLE), "EOF is a hole");
        assertErrno(Errno.ENXIO, () -> fs.lseek(ROOT, f, fh, 4L * PAGE_SIZE, StorageBackend.SEEK_DATA));
        assertErrno(Errno.ENXIO, () -> fs.lseek(ROOT, f, fh, 4L * PAGE_SIZE, StorageBackend.SEEK_HOLE));
        // Data only before a trailing hole: SEEK_DATA past it is ENXIO.
        fs.setattr(ROOT, f, SetAttr.size(10L * PAGE_SIZE));
        assertErrno(Errno.ENXIO, () -> fs.lseek(ROOT, f, fh, 5L * PAGE_SIZE, StorageBackend.SEEK_DATA));
        assertErrno(Errno.EOPNOTSUPP, () -> fs.fallocate(ROOT, f, fh, StorageBackend.FALLOC_FL_PUNCH_HOLE, 0, 10));
        assertErrno(Errno.EOPNOTSUPP, () -> fs.fallocate(ROOT, f, fh, 0x08, 0, 10));
        assertErrno(Errno.EINVAL, () -> fs.fallocate(ROOT, f, fh, 0, 0, 0));
    }

    @Test
    void fallocateAllocatesAndZeroRangeClears() throws Exception {
        MemBackend fs = new MemBackend(new MemOptions(8L * PAGE_SIZE, 10));
        CreateResult c = fs.create(ROOT, R, name("f"), 0644, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        long fh = c.open().fh();
        fs.fallocate(ROOT, f, fh, StorageBackend.FALLOC_FL_KEEP_SIZE, 0, 2L * PAGE_SIZE);
        assertEquals(0, fs.getattr(ROOT, f, fh).size());
        assertEquals(2L * PAGE_SIZE / 512, fs.getattr(ROOT, f, fh).blocks());
        fs.fallocate(ROOT, f, fh, 0, PAGE_SIZE, 2L * PAGE_SIZE);
        assertEquals(3L * PAGE_SIZE, fs.getattr(ROOT, f, fh).size());
        assertEquals(3L * PAGE_SIZE / 512, fs.getattr(ROOT, f, fh).blocks());
        long used = fs.usedBytes();
        assertErrno(Errno.ENOSPC, () -> fs.fallocate(ROOT, f, fh, 0, 0, 100L * PAGE_SIZE));
        assertEquals(used, fs.usedBytes());
        assertEquals(3L * PAGE_SIZE, fs.getattr(ROOT, f, fh).size());

        fs.write(ROOT, f, fh, 0, BufferWriteSource.of(pattern(3 * PAGE_SIZE, 9)), false);
        fs.fallocate(ROOT, f, fh, StorageBackend.FALLOC_FL_ZERO_RANGE, 100, 4L * PAGE_SIZE);
        assertEquals(100 + 4L * PAGE_SIZE, fs.getattr(ROOT, f, fh).size(), "ZERO_RANGE without KEEP_SIZE extends");
        byte[] expect = new byte[3 * PAGE_SIZE];
        System.arraycopy(pattern(3 * PAGE_SIZE, 9), 0, expect, 0, 100);
        assertArrayEquals(expect, read(fs, f, fh, 0, expect.length));
    }

    @Test
    void copyFileRangeCopiesDataAndKeepsHoles() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.ofCapacity(64L << 20));
        CreateResult a = fs.create(ROOT, R, name("a"), 0644, OpenFlags.O_RDWR, 0);
        CreateResult b = fs.create(ROOT, R, name("b"), 0644, OpenFlags.O_RDWR, 0);
        long fa = a.entry().nodeId();
        long fb = b.entry().nodeId();
        byte[] head = pattern(PAGE_SIZE + 100, 5);
        fs.write(ROOT, fa, a.open().fh(), 0, BufferWriteSource.of(head), false);
        fs.write(ROOT, fa, a.open().fh(), 5L * PAGE_SIZE, BufferWriteSource.of("tail"), false);
        long size = 5L * PAGE_SIZE + 4;
        long n = fs.copyFileRange(ROOT, fa, a.open().fh(), 0, fb, b.open().fh(), 0, 1L << 30, 0);
        assertEquals(size, n, "copy stops at the source's EOF");
        assertEquals(size, fs.getattr(ROOT, fb, -1).size());
        assertArrayEquals(read(fs, fa, a.open().fh(), 0, (int) size), read(fs, fb, b.open().fh(), 0, (int) size));
        assertEquals(fs.getattr(ROOT, fa, -1).blocks(), fs.getattr(ROOT, fb, -1).blocks(), "holes stay holes");
        assertEquals(0, fs.copyFileRange(ROOT, fa, a.open().fh(), size, fb, b.open().fh(), 0, 10, 0));
        // Unaligned copy within one file, non-overlapping.
        assertEquals(50, fs.copyFileRange(ROOT, fa, a.open().fh(), 10, fa, a.open().fh(), 3L * PAGE_SIZE + 7, 50, 0));
        assertArrayEquals(Arrays.copyOfRange(head, 10, 60), read(fs, fa, a.open().fh(), 3L * PAGE_SIZE + 7, 50));
        assertErrno(Errno.EINVAL, () -> fs.copyFileRange(ROOT, fa, a.open().fh(), 0, fa, a.open().fh(), 10, 100, 0));
        long ro = fs.open(ROOT, fb, OpenFlags.O_RDONLY).fh();
        assertErrno(Errno.EBADF, () -> fs.copyFileRange(ROOT, fa, a.open().fh(), 0, fb, ro, 0, 10, 0));
    }

    // ------------------------------------------------------------ open modes and suid

    @Test
    void appendHandleWritesAtEndOfFile() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.defaults());
        CreateResult c = fs.create(ROOT, R, name("log"), 0644, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        fs.write(ROOT, f, c.open().fh(), 0, BufferWriteSource.of("one "), false);
        long ap = fs.open(ROOT, f, OpenFlags.O_WRONLY | OpenFlags.O_APPEND).fh();
        fs.write(ROOT, f, ap, 0, BufferWriteSource.of("two"), false);
        assertEquals("one two", new String(read(fs, f, c.open().fh(), 0, 100), StandardCharsets.UTF_8));
    }

    @Test
    void suidAndSgidAreClearedOnRequestAndOnChown() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.defaults());
        CreateResult c = fs.create(ROOT, R, name("f"), 06755, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        fs.write(ROOT, f, c.open().fh(), 0, BufferWriteSource.of("x"), false);
        assertEquals(06755, fs.getattr(ROOT, f, -1).mode() & 07777, "a plain write keeps the bits");
        fs.write(ROOT, f, c.open().fh(), 0, BufferWriteSource.of("x"), true);
        assertEquals(0755, fs.getattr(ROOT, f, -1).mode() & 07777);
        fs.setattr(ROOT, f, SetAttr.mode(06755));
        assertEquals(0755, fs.setattr(ROOT, f, SetAttr.owner(1000, null)).mode() & 07777);
        fs.setattr(ROOT, f, SetAttr.mode(02645)); // sgid without group exec: a lock mark, kept
        assertEquals(02645, fs.setattr(ROOT, f, new SetAttr(null, null, null, 0L, null, false, null, false,
                null, null, true)).mode() & 07777);
        long d = fs.mkdir(ROOT, R, name("d"), 02755, 0).nodeId();
        fs.setattr(ROOT, d, SetAttr.mode(02755));
        assertEquals(02755, fs.setattr(ROOT, d, SetAttr.owner(5, 5)).mode() & 07777, "directories keep setgid");
    }

    /** chown(f, -1, -1) arrives as a SETATTR with nothing in it; Linux then moves ctime and clears setuid. */
    @Test
    void anEmptySetattrMovesCtimeAndClearsSetuidForTheOwnerAndWriters() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.defaults());
        SetAttr nothing = new SetAttr(null, null, null, null, null, false, null, false, null, null, false);
        assertTrue(nothing.changesNothing());
        long f = fs.create(ROOT, R, name("f"), 06755, OpenFlags.O_RDWR, 0).entry().nodeId();
        long before = fs.getattr(ROOT, f, -1).ctimeNs();
        Thread.sleep(2);
        Attr a = fs.setattr(ROOT, f, nothing);
        assertEquals(0755, a.mode() & 07777, "root's chown(f, -1, -1)");
        assertTrue(a.ctimeNs() > before, "ctime moves");

        RequestContext stranger = new RequestContext(1000, 1000, 7);
        fs.setattr(ROOT, f, SetAttr.mode(06755));
        assertEquals(06755, fs.setattr(stranger, f, nothing).mode() & 07777, "not the owner, may not write: kept");
        fs.setattr(ROOT, f, SetAttr.mode(06757));
        assertEquals(0757, fs.setattr(stranger, f, nothing).mode() & 07777, "may write: cleared, as its write would");
        long d = fs.mkdir(ROOT, R, name("d"), 0755, 0).nodeId();
        fs.setattr(ROOT, d, SetAttr.mode(02755));
        assertEquals(02755, fs.setattr(ROOT, d, nothing).mode() & 07777, "directories keep setgid");
    }

    @Test
    void deviceNodesKeepTheirNumberAndSocketsTheirType() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.defaults());
        int rdev = (8 << 8) | 1; // sda1, old-style encoding: stored as given
        Entry blk = fs.mknod(ROOT, R, name("blk"), FileType.BLOCK_DEVICE.modeBits() | 0660, rdev, 0);
        assertEquals(FileType.BLOCK_DEVICE, blk.attr().type());
        assertEquals(rdev, fs.getattr(ROOT, blk.nodeId(), -1).rdev());
        Entry chr = fs.mknod(ROOT, R, name("null"), FileType.CHARACTER_DEVICE.modeBits() | 0666, (1 << 8) | 3, 0);
        assertEquals((1 << 8) | 3, chr.attr().rdev());
        Entry sock = fs.mknod(ROOT, R, name("sock"), FileType.SOCKET.modeBits() | 0755, 99, 0);
        assertEquals(FileType.SOCKET, sock.attr().type());
        assertEquals(0, sock.attr().rdev(), "only device nodes carry a device number");
        assertErrno(Errno.EPERM, () -> fs.mknod(ROOT, R, name("d"), FileType.DIRECTORY.modeBits() | 0755, 0, 0));
        assertErrno(Errno.EINVAL, () -> fs.mknod(ROOT, R, name("l"), FileType.SYMLINK.modeBits() | 0777, 0, 0));
        List<DirEntry> listed = new ArrayList<>();
        fs.readdir(ROOT, R, 0, 2, listed::add);
        assertEquals(Set.of(FileType.BLOCK_DEVICE, FileType.CHARACTER_DEVICE, FileType.SOCKET),
                new HashSet<>(listed.stream().map(DirEntry::type).toList()));
    }

    @Test
    void everyChangeGetsADistinctIncreasingCtimeEvenWithAStoppedClock() throws Exception {
        ManualClock clock = new ManualClock(); // never advanced
        MemBackend fs = new MemBackend(MemOptions.defaults(), clock);
        long f = fs.mknod(ROOT, R, name("f"), FileType.REGULAR.modeBits() | 0644, 0, 0).nodeId();
        long c1 = fs.getattr(ROOT, f, -1).ctimeNs();
        long c2 = fs.setattr(ROOT, f, SetAttr.mode(0600)).ctimeNs();
        long c3 = fs.setattr(ROOT, f, SetAttr.mode(0644)).ctimeNs();
        assertTrue(c1 < c2 && c2 < c3, c1 + " " + c2 + " " + c3);
        assertTrue(c1 >= clock.now());
    }

    // ------------------------------------------------------------ xattr limits

    @Test
    void xattrNamespacesAndLimits() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.defaults());
        long f = fs.mknod(ROOT, R, name("f"), FileType.REGULAR.modeBits() | 0644, 0, 0).nodeId();
        RequestContext user = new RequestContext(1000, 1000, 7);
        assertErrno(Errno.ERANGE, () -> fs.setxattr(ROOT, f, "user." + "n".repeat(251), new byte[1], 0));
        fs.setxattr(ROOT, f, "user." + "n".repeat(250), new byte[1], 0);
        assertErrno(Errno.E2BIG, () -> fs.setxattr(ROOT, f, "user.big", new byte[65537], 0));
        fs.setxattr(ROOT, f, "user.max", new byte[65536], 0);
        assertErrno(Errno.EPERM, () -> fs.setxattr(user, f, "trusted.t", new byte[1], 0));
        fs.setxattr(ROOT, f, "trusted.t", bytes("t"), 0);
        assertErrno(Errno.ENODATA, () -> fs.getxattr(user, f, "trusted.t"));
        assertFalse(fs.listxattr(user, f).contains("trusted.t"));
        assertTrue(fs.listxattr(ROOT, f).contains("trusted.t"));
        fs.setxattr(user, f, "security.s", bytes("s"), 0);
        assertErrno(Errno.EOPNOTSUPP, () -> fs.setxattr(ROOT, f, "system.posix_acl_access", new byte[4], 0));
        assertErrno(Errno.EOPNOTSUPP, () -> fs.getxattr(ROOT, f, "system.posix_acl_default"));
        assertErrno(Errno.EOPNOTSUPP, () -> fs.setxattr(ROOT, f, "weird.x", new byte[1], 0));
        long p = fs.mknod(ROOT, R, name("p"), FileType.FIFO.modeBits() | 0644, 0, 0).nodeId();
        assertErrno(Errno.EPERM, () -> fs.setxattr(ROOT, p, "user.x", new byte[1], 0));
        long used = fs.usedBytes();
        fs.removexattr(ROOT, f, "user.max");
        assertEquals(used - "user.max".length() - 65536, fs.usedBytes(), "xattr bytes count in the budget");
    }

    // ------------------------------------------------------------ lifetime

    @Test
    void forgetAndReleaseFreeAnUnlinkedFile() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.ofCapacity(16L << 20));
        long free0 = fs.statfs(ROOT, R).blocksFree();
        CreateResult c = fs.create(ROOT, R, name("f"), 0644, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        fs.write(ROOT, f, c.open().fh(), 0, BufferWriteSource.of(new byte[10 * PAGE_SIZE]), false);
        Entry again = fs.lookup(ROOT, R, name("f")); // a second lookup reference
        fs.unlink(ROOT, R, name("f"));
        assertTrue(fs.statfs(ROOT, R).blocksFree() < free0 - 100, "still held: handle and 2 references");
        fs.release(ROOT, f, c.open().fh(), OpenFlags.O_RDWR, 0);
        fs.forget(f, 1);
        assertEquals(0, fs.getattr(ROOT, again.nodeId(), -1).nlink(), "one reference left: still usable");
        fs.forget(f, 1);
        assertEquals(free0, fs.statfs(ROOT, R).blocksFree(), "space comes back");
        assertEquals(1, fs.usedInodes());
        assertErrno(Errno.ESTALE, () -> fs.getattr(ROOT, f, -1));
        fs.forget(f, 1); // unknown ids are ignored
    }

    @Test
    void removedDirectoryIsFreedAfterForgetAndListsEnoent() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.defaults());
        long d = fs.mkdir(ROOT, R, name("d"), 0755, 0).nodeId();
        long fh = fs.opendir(ROOT, d, 0).fh();
        fs.rmdir(ROOT, R, name("d"));
        assertErrno(Errno.ENOENT, () -> fs.readdir(ROOT, d, fh, 0, e -> true));
        assertEquals(0, fs.getattr(ROOT, d, -1).nlink());
        fs.releasedir(ROOT, d, fh);
        fs.forget(d, 1);
        assertEquals(1, fs.usedInodes());
    }

    @Test
    void tmpfileWithoutLinkIsFreedOnRelease() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.defaults());
        CreateResult t = fs.tmpfile(ROOT, R, 0600, OpenFlags.O_RDWR, 0);
        fs.write(ROOT, t.entry().nodeId(), t.open().fh(), 0, BufferWriteSource.of(new byte[PAGE_SIZE]), false);
        fs.release(ROOT, t.entry().nodeId(), t.open().fh(), OpenFlags.O_RDWR, 0);
        fs.forget(t.entry().nodeId(), 1);
        assertEquals(1, fs.usedInodes());
        assertEquals(MemBackend.INODE_COST, fs.usedBytes());
        CreateResult excl = fs.tmpfile(ROOT, R, 0600, OpenFlags.O_RDWR | OpenFlags.O_EXCL, 0);
        assertErrno(Errno.ENOENT, () -> fs.link(ROOT, excl.entry().nodeId(), R, name("x")));
    }

    // ------------------------------------------------------------ timestamps (manual clock)

    @Test
    void timestampsFollowLocalFilesystemRules() throws Exception {
        ManualClock clock = new ManualClock();
        MemBackend fs = new MemBackend(MemOptions.defaults(), clock);
        long a = fs.mkdir(ROOT, R, name("a"), 0755, 0).nodeId();
        long b = fs.mkdir(ROOT, R, name("b"), 0755, 0).nodeId();
        clock.advance(1000);
        long t1 = clock.now();
        Entry f = fs.mknod(ROOT, a, name("f"), FileType.REGULAR.modeBits() | 0644, 0, 0);
        assertEquals(t1, f.attr().atimeNs());
        assertEquals(t1, f.attr().mtimeNs());
        assertEquals(t1, f.attr().ctimeNs());
        assertEquals(t1, fs.getattr(ROOT, a, -1).mtimeNs());
        clock.advance(1000);
        long t2 = clock.now();
        fs.rename(ROOT, a, name("f"), b, name("g"), 0);
        Attr fa = fs.getattr(ROOT, f.nodeId(), -1);
        assertEquals(t2, fa.ctimeNs(), "rename changes the moved node's ctime");
        assertEquals(t1, fa.mtimeNs(), "but not its mtime");
        assertEquals(t2, fs.getattr(ROOT, a, -1).mtimeNs());
        assertEquals(t2, fs.getattr(ROOT, b, -1).ctimeNs());
        clock.advance(1000);
        long t3 = clock.now();
        fs.link(ROOT, f.nodeId(), a, name("h"));
        assertEquals(t3, fs.getattr(ROOT, f.nodeId(), -1).ctimeNs(), "link changes ctime");
        clock.advance(1000);
        fs.setattr(ROOT, f.nodeId(), SetAttr.times(5L, false, 6L, false));
        Attr set = fs.getattr(ROOT, f.nodeId(), -1);
        assertEquals(5L, set.atimeNs());
        assertEquals(6L, set.mtimeNs());
        assertEquals(clock.now(), set.ctimeNs(), "utimens sets ctime to now");
        // relatime: a read bumps an atime older than mtime, but not a fresh one.
        long fh = fs.open(ROOT, f.nodeId(), OpenFlags.O_RDONLY).fh();
        clock.advance(1000);
        fs.read(ROOT, f.nodeId(), fh, 0, new BufferReadSink(10));
        long bumped = fs.getattr(ROOT, f.nodeId(), -1).atimeNs();
        assertEquals(clock.now(), bumped);
        clock.advance(1000);
        fs.read(ROOT, f.nodeId(), fh, 0, new BufferReadSink(10));
        assertEquals(bumped, fs.getattr(ROOT, f.nodeId(), -1).atimeNs());
    }

    // ------------------------------------------------------------ locks

    @Test
    void posixLocksConflictSplitAndMerge() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.defaults());
        CreateResult c = fs.create(ROOT, R, name("f"), 0644, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        long fh = c.open().fh();
        long a = 100;
        long b = 200;
        fs.setlk(ROOT, f, fh, new Lock(Lock.F_WRLCK, 0, 99, a, 1), false, false);
        assertErrno(Errno.EAGAIN, () -> fs.setlk(ROOT, f, fh, new Lock(Lock.F_RDLCK, 50, 60, b, 2), false, false));
        Lock conflict = fs.getlk(ROOT, f, fh, new Lock(Lock.F_RDLCK, 50, 60, b, 2));
        assertEquals(new Lock(Lock.F_WRLCK, 0, 99, a, 1), conflict);
        assertEquals(Lock.F_UNLCK, fs.getlk(ROOT, f, fh, new Lock(Lock.F_WRLCK, 100, 200, b, 2)).type());
        assertEquals(Lock.F_UNLCK, fs.getlk(ROOT, f, fh, new Lock(Lock.F_WRLCK, 0, 10, a, 1)).type(), "own locks never conflict");
        // Unlock the middle: a keeps two pieces, b can take the gap.
        fs.setlk(ROOT, f, fh, new Lock(Lock.F_UNLCK, 40, 59, a, 1), false, false);
        LockTable t = fs.lockTable(f);
        assertEquals(List.of(new Lock(Lock.F_WRLCK, 0, 39, a, 1), new Lock(Lock.F_WRLCK, 60, 99, a, 1)), t.heldBy(a));
        fs.setlk(ROOT, f, fh, new Lock(Lock.F_RDLCK, 40, 59, b, 2), false, false);
        // Downgrade part of a's range, then re-lock: adjacent same-type ranges merge.
        fs.setlk(ROOT, f, fh, new Lock(Lock.F_RDLCK, 0, 19, a, 1), false, false);
        fs.setlk(ROOT, f, fh, new Lock(Lock.F_WRLCK, 0, 19, a, 1), false, false);
        assertEquals(List.of(new Lock(Lock.F_WRLCK, 0, 39, a, 1), new Lock(Lock.F_WRLCK, 60, 99, a, 1)), t.heldBy(a));
        // Shared locks of two owners coexist; to-EOF ranges.
        fs.setlk(ROOT, f, fh, new Lock(Lock.F_RDLCK, 1000, Long.MAX_VALUE, a, 1), false, false);
        fs.setlk(ROOT, f, fh, new Lock(Lock.F_RDLCK, 2000, Long.MAX_VALUE, b, 2), false, false);
        // flush with a's owner drops all of a's locks (close).
        fs.flush(ROOT, f, fh, a);
        assertEquals(List.of(), t.heldBy(a));
        fs.setlk(ROOT, f, fh, new Lock(Lock.F_WRLCK, 0, 39, b, 2), false, false);
        assertErrno(Errno.EINVAL, () -> fs.setlk(ROOT, f, fh, new Lock(Lock.F_WRLCK, 10, 5, b, 2), false, false));
    }

    @Test
    void setlkwWaitsUntilTheHolderUnlocks() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.defaults());
        CreateResult c = fs.create(ROOT, R, name("f"), 0644, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        long fh = c.open().fh();
        fs.setlk(ROOT, f, fh, new Lock(Lock.F_WRLCK, 0, 0, 1, 1), false, false);
        CountDownLatch acquired = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread waiter = new Thread(() -> {
            try {
                fs.setlk(ROOT, f, fh, new Lock(Lock.F_WRLCK, 0, 0, 2, 2), true, false);
                acquired.countDown();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        waiter.start();
        LockTable t = fs.lockTable(f);
        awaitCondition(() -> t.waiters() == 1, "the waiter parks");
        assertEquals(1, acquired.getCount(), "still waiting while the lock is held");
        fs.setlk(ROOT, f, fh, new Lock(Lock.F_UNLCK, 0, 0, 1, 1), false, false);
        assertTrue(acquired.await(10, TimeUnit.SECONDS), "the waiter gets the lock after unlock");
        waiter.join(10_000);
        assertEquals(null, failure.get());
        assertEquals(List.of(new Lock(Lock.F_WRLCK, 0, 0, 2, 2)), t.heldBy(2));
    }

    @Test
    void setlkwThatWouldDeadlockAcrossFilesIsEdeadlk() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.defaults());
        CreateResult cf = fs.create(ROOT, R, name("f"), 0644, OpenFlags.O_RDWR, 0);
        CreateResult cg = fs.create(ROOT, R, name("g"), 0644, OpenFlags.O_RDWR, 0);
        long f = cf.entry().nodeId();
        long g = cg.entry().nodeId();
        long fhF = cf.open().fh();
        long fhG = cg.open().fh();
        fs.setlk(ROOT, f, fhF, new Lock(Lock.F_WRLCK, 0, 0, 1, 1), false, false);
        fs.setlk(ROOT, g, fhG, new Lock(Lock.F_WRLCK, 0, 0, 2, 2), false, false);
        CountDownLatch acquired = new CountDownLatch(1);
        Thread one = new Thread(() -> {
            try {
                fs.setlk(ROOT, g, fhG, new Lock(Lock.F_WRLCK, 0, 0, 1, 1), true, false); // 1 waits for 2
                acquired.countDown();
            } catch (FsException e) {
                throw new AssertionError(e);
            }
        });
        one.start();
        LockTable tg = fs.lockTable(g);
        awaitCondition(() -> tg.waiters() == 1, "owner 1 waits for owner 2");
        assertErrno(Errno.EDEADLK, () -> fs.setlk(ROOT, f, fhF, new Lock(Lock.F_WRLCK, 0, 0, 2, 2), true, false));
        fs.setlk(ROOT, g, fhG, new Lock(Lock.F_UNLCK, 0, 0, 2, 2), false, false);
        assertTrue(acquired.await(10, TimeUnit.SECONDS));
        one.join(10_000);
        // With no cycle left, owner 2 may now wait for owner 1 and gets f once 1 lets go.
        fs.flush(ROOT, f, fhF, 1);
        fs.setlk(ROOT, f, fhF, new Lock(Lock.F_WRLCK, 0, 0, 2, 2), true, false);
    }

    @Test
    void setlkwIsInterruptible() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.defaults());
        CreateResult c = fs.create(ROOT, R, name("f"), 0644, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        long fh = c.open().fh();
        fs.setlk(ROOT, f, fh, new Lock(Lock.F_WRLCK, 0, 0, 1, 1), false, false);
        AtomicReference<Errno> got = new AtomicReference<>();
        Thread waiter = new Thread(() -> {
            try {
                fs.setlk(ROOT, f, fh, new Lock(Lock.F_RDLCK, 0, 10, 2, 2), true, false);
            } catch (FsException e) {
                got.set(e.errno());
            }
        });
        waiter.start();
        LockTable t = fs.lockTable(f);
        awaitCondition(() -> t.waiters() == 1, "the waiter parks");
        waiter.interrupt();
        waiter.join(10_000);
        assertFalse(waiter.isAlive());
        assertEquals(Errno.EINTR, got.get());
        assertEquals(List.of(), t.heldBy(2));
    }

    @Test
    void flockIsPerHandleAndReleasedWithIt() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.defaults());
        long f = fs.mknod(ROOT, R, name("f"), FileType.REGULAR.modeBits() | 0644, 0, 0).nodeId();
        long h1 = fs.open(ROOT, f, OpenFlags.O_RDONLY).fh();
        long h2 = fs.open(ROOT, f, OpenFlags.O_RDONLY).fh();
        Lock ex = new Lock(Lock.F_WRLCK, 0, Long.MAX_VALUE, 0, 0);
        Lock sh = new Lock(Lock.F_RDLCK, 0, Long.MAX_VALUE, 0, 0);
        fs.setlk(ROOT, f, h1, ex, false, true);
        assertErrno(Errno.EAGAIN, () -> fs.setlk(ROOT, f, h2, sh, false, true));
        fs.setlk(ROOT, f, h1, ex, false, true); // relocking through the same handle is fine
        // POSIX locks are a separate world.
        fs.setlk(ROOT, f, h2, new Lock(Lock.F_WRLCK, 0, 10, 77, 1), false, false);
        fs.release(ROOT, f, h1, OpenFlags.O_RDONLY, 0);
        fs.setlk(ROOT, f, h2, sh, false, true);
        long h3 = fs.open(ROOT, f, OpenFlags.O_RDONLY).fh();
        fs.setlk(ROOT, f, h3, sh, false, true);
        assertErrno(Errno.EAGAIN, () -> fs.setlk(ROOT, f, h3, ex, false, true));
    }

    // ------------------------------------------------------------ concurrency

    @Test
    void eightThreadsCreateRenameAndDeleteInOneDirectory() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.ofCapacity(256L << 20));
        long d = fs.mkdir(ROOT, R, name("shared"), 0755, 0).nodeId();
        fs.forget(d, 1);
        int threads = 8;
        int ops = 400;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int seed = t;
            done.add(pool.submit(() -> {
                Random rnd = new Random(seed);
                for (int i = 0; i < ops; i++) {
                    String n = "n" + rnd.nextInt(24);
                    String m = "n" + rnd.nextInt(24);
                    try {
                        switch (rnd.nextInt(6)) {
                            case 0 -> {
                                CreateResult c = fs.create(ROOT, d, name(n), 0644, OpenFlags.O_RDWR, 0);
                                fs.write(ROOT, c.entry().nodeId(), c.open().fh(), 0, BufferWriteSource.of(n), false);
                                fs.release(ROOT, c.entry().nodeId(), c.open().fh(), 0, 0);
                                fs.forget(c.entry().nodeId(), 1);
                            }
                            case 1 -> fs.forget(fs.mkdir(ROOT, d, name(n), 0755, 0).nodeId(), 1);
                            case 2 -> fs.rename(ROOT, d, name(n), d, name(m), 0);
                            case 3 -> fs.unlink(ROOT, d, name(n));
                            case 4 -> fs.rmdir(ROOT, d, name(n));
                            default -> {
                                Entry e = fs.lookup(ROOT, d, name(n));
                                fs.getattr(ROOT, e.nodeId(), -1);
                                fs.forget(e.nodeId(), 1);
                            }
                        }
                    } catch (FsException expected) {
                        // ENOENT/EEXIST/EISDIR/ENOTDIR/ENOTEMPTY races are part of the game
                        assertTrue(Set.of(Errno.ENOENT, Errno.EEXIST, Errno.EISDIR, Errno.ENOTDIR,
                                Errno.ENOTEMPTY).contains(expected.errno()), expected.getMessage());
                    }
                }
                return null;
            }));
        }
        for (Future<?> fut : done) {
            fut.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        // Consistency: readdir, lookup, link counts and the inode budget all agree.
        List<DirEntry> listed = new ArrayList<>();
        fs.readdir(ROOT, d, 0, 0, listed::add);
        Set<String> names = new HashSet<>();
        int subdirs = 0;
        for (DirEntry e : listed.subList(2, listed.size())) {
            assertTrue(names.add(e.name().toString()));
            Entry l = fs.lookup(ROOT, d, e.name());
            assertEquals(e.ino(), l.nodeId());
            if (l.attr().isDirectory()) {
                subdirs++;
                assertEquals(2, l.attr().nlink());
            } else {
                assertEquals(1, l.attr().nlink());
                String content = new String(readAll(fs, l.nodeId()), StandardCharsets.UTF_8);
                assertTrue(content.matches("n[0-9]+"), "content of " + e.name() + ": " + content);
            }
            fs.forget(l.nodeId(), 1);
        }
        assertEquals(2 + subdirs, fs.getattr(ROOT, d, -1).nlink());
        assertEquals(2 + names.size(), fs.usedInodes(), "no node leaked, none lost");
    }

    @Test
    void crossedCopiesReadsAndWritesDoNotDeadlock() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.ofCapacity(64L << 20));
        CreateResult a = fs.create(ROOT, R, name("a"), 0644, OpenFlags.O_RDWR, 0);
        CreateResult b = fs.create(ROOT, R, name("b"), 0644, OpenFlags.O_RDWR, 0);
        long fa = a.entry().nodeId();
        long fb = b.entry().nodeId();
        byte[] data = pattern(4 * PAGE_SIZE, 4);
        fs.write(ROOT, fa, a.open().fh(), 0, BufferWriteSource.of(data), false);
        fs.write(ROOT, fb, b.open().fh(), 0, BufferWriteSource.of(data), false);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> jobs = new ArrayList<>();
        jobs.add(pool.submit(() -> repeat(300, () -> fs.copyFileRange(ROOT, fa, a.open().fh(), 0, fb, b.open().fh(), 0, data.length, 0))));
        jobs.add(pool.submit(() -> repeat(300, () -> fs.copyFileRange(ROOT, fb, b.open().fh(), 0, fa, a.open().fh(), 0, data.length, 0))));
        jobs.add(pool.submit(() -> repeat(300, () -> assertArrayEquals(data, read(fs, fa, a.open().fh(), 0, data.length)))));
        jobs.add(pool.submit(() -> repeat(300, () -> fs.write(ROOT, fb, b.open().fh(), 0,
                BufferWriteSource.of(Arrays.copyOf(data, 1000)), false))));
        for (Future<?> job : jobs) {
            job.get(60, TimeUnit.SECONDS); // a deadlock shows up here as a timeout
        }
        pool.shutdown();
        assertArrayEquals(data, read(fs, fb, b.open().fh(), 0, data.length));
    }

    @Test
    void aStalledReadBlocksNeitherOtherReadsNorTheNamespace() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.defaults());
        CreateResult c = fs.create(ROOT, R, name("f"), 0644, OpenFlags.O_RDWR, 0);
        long f = c.entry().nodeId();
        long fh = c.open().fh();
        fs.write(ROOT, f, fh, 0, BufferWriteSource.of("hello"), false);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        // A sink that stalls mid-copy, as a slow reply buffer would, while the read holds its locks.
        BufferReadSink slow = new BufferReadSink(5);
        io.vfsgw.spi.ReadSink stalling = new io.vfsgw.spi.ReadSink() {
            @Override
            public int remaining() {
                return slow.remaining();
            }

            @Override
            public void put(java.nio.ByteBuffer src) {
                stall();
                slow.put(src);
            }

            @Override
            public void putZeros(int count) {
                slow.putZeros(count);
            }

            @Override
            public java.nio.ByteBuffer[] views(int max) {
                stall();   // the backend reads into the sink's views (preadv)
                return slow.views(max);
            }

            private void stall() {
                inside.countDown();
                try {
                    letGo.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void advance(int n) {
                slow.advance(n);
            }
        };
        Thread stalled = new Thread(() -> {
            try {
                fs.read(ROOT, f, fh, 0, stalling);
            } catch (FsException e) {
                throw new AssertionError(e);
            }
        });
        stalled.start();
        assertTrue(inside.await(10, TimeUnit.SECONDS));
        // Meanwhile: another read of the same file, and namespace changes touching it, must finish
        // while the first read is still stalled (a timeout here means they waited behind it).
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            other.submit(() -> {
                assertArrayEquals(bytes("hello"), read(fs, f, fh, 0, 5));
                fs.mkdir(ROOT, R, name("d"), 0755, 0);
                fs.rename(ROOT, R, name("f"), R, name("g"), 0);
                assertEquals(f, fs.lookup(ROOT, R, name("g")).nodeId());
                fs.link(ROOT, f, R, name("h"));
                return null;
            }).get(10, TimeUnit.SECONDS);
            assertEquals(1, inside.getCount() + letGo.getCount(), "the first read was still stalled");
        } finally {
            letGo.countDown();
            other.shutdown();
        }
        stalled.join(10_000);
        assertArrayEquals(bytes("hello"), slow.bytes());
    }

    /** A test step that may throw anything. */
    private interface Step {
        void run() throws Exception;
    }

    private static Void repeat(int times, Step step) throws Exception {
        for (int i = 0; i < times; i++) {
            step.run();
        }
        return null;
    }

    // ------------------------------------------------------------ reference model

    @Test
    void randomOperationsMatchAReferenceModel() throws Exception {
        MemBackend fs = new MemBackend(MemOptions.ofCapacity(64L << 20));
        Random rnd = new Random(20240601);
        // The model: name -> content of the regular files in the root.
        java.util.Map<String, byte[]> model = new java.util.TreeMap<>();
        for (int step = 0; step < 3000; step++) {
            String n = "f" + rnd.nextInt(10);
            String m = "f" + rnd.nextInt(10);
            int op = rnd.nextInt(8);
            Errno got = null;
            Errno want = model.containsKey(n) ? null : Errno.ENOENT;
            long id = 0;
            try {
                if (op == 0) {
                    want = model.containsKey(n) ? Errno.EEXIST : null;
                    fs.forget(fs.mknod(ROOT, R, name(n), FileType.REGULAR.modeBits() | 0644, 0, 0).nodeId(), 1);
                    model.put(n, new byte[0]);
                } else if (op == 1) {
                    fs.unlink(ROOT, R, name(n));
                    model.remove(n);
                } else if (op == 2) {
                    fs.rename(ROOT, R, name(n), R, name(m), 0);
                    model.put(m, model.remove(n));
                } else {
                    id = fs.lookup(ROOT, R, name(n)).nodeId();
                    long fh = fs.open(ROOT, id, OpenFlags.O_RDWR).fh();
                    byte[] old = model.get(n);
                    int off = rnd.nextInt(3 * PAGE_SIZE);
                    switch (op) {
                        case 3 -> {
                            byte[] data = pattern(rnd.nextInt(PAGE_SIZE + 10) + 1, step);
                            fs.write(ROOT, id, fh, off, BufferWriteSource.of(data), false);
                            byte[] nu = Arrays.copyOf(old, Math.max(old.length, off + data.length));
                            System.arraycopy(data, 0, nu, off, data.length);
                            model.put(n, nu);
                        }
                        case 4 -> {
                            fs.setattr(ROOT, id, SetAttr.size(off));
                            model.put(n, Arrays.copyOf(old, off));
                        }
                        case 5 -> {
                            int len = rnd.nextInt(2 * PAGE_SIZE) + 1;
                            fs.fallocate(ROOT, id, fh, StorageBackend.FALLOC_FL_PUNCH_HOLE
                                    | StorageBackend.FALLOC_FL_KEEP_SIZE, off, len);
                            byte[] nu = old.clone();
                            if (off < nu.length) {
                                Arrays.fill(nu, off, (int) Math.min(nu.length, (long) off + len), (byte) 0);
                            }
                            model.put(n, nu);
                        }
                        case 6 -> {
                            // copy_file_range from m (if it exists and differs) into n
                            if (model.containsKey(m) && !m.equals(n)) {
                                long src = fs.lookup(ROOT, R, name(m)).nodeId();
                                long sfh = fs.open(ROOT, src, OpenFlags.O_RDONLY).fh();
                                byte[] from = model.get(m);
                                int in = from.length == 0 ? 0 : rnd.nextInt(from.length);
                                int len = rnd.nextInt(2 * PAGE_SIZE) + 1;
                                long copied = fs.copyFileRange(ROOT, src, sfh, in, id, fh, off, len, 0);
                                int expect = Math.max(0, Math.min(len, from.length - in));
                                assertEquals(expect, copied, "copy count at step " + step);
                                if (expect > 0) {
                                    byte[] nu = Arrays.copyOf(old, Math.max(old.length, off + expect));
                                    System.arraycopy(from, in, nu, off, expect);
                                    model.put(n, nu);
                                }
                                fs.release(ROOT, src, sfh, 0, 0);
                                fs.forget(src, 1);
                            }
                        }
                        default -> assertArrayEquals(old, readAll(fs, id), "content of " + n + " at step " + step);
                    }
                    fs.release(ROOT, id, fh, 0, 0);
                    fs.forget(id, 1);
                }
            } catch (FsException e) {
                got = e.errno();
            }
            assertEquals(want, got, "step " + step + " op " + op + " " + n + " " + m);
        }
        List<String> listed = new ArrayList<>();
        fs.readdir(ROOT, R, 0, 2, e -> listed.add(e.name().toString()));
        listed.sort(null);
        assertEquals(new ArrayList<>(model.keySet()), listed);
        for (String n : model.keySet()) {
            long id = fs.lookup(ROOT, R, name(n)).nodeId();
            assertArrayEquals(model.get(n), readAll(fs, id), "final content of " + n);
            fs.forget(id, 1);
            fs.unlink(ROOT, R, name(n));
        }
        assertEquals(1, fs.usedInodes(), "every node freed");
        assertEquals(MemBackend.INODE_COST, fs.usedBytes(), "every buffer returned to the budget");
    }

    // ------------------------------------------------------------ wiring

    @Test
    void guiceModuleProvidesOneMemBackendAsTheStorageBackend() throws Exception {
        Injector injector = Guice.createInjector(new MemModule(new MemOptions(8L << 20, 1000)));
        StorageBackend a = injector.getInstance(StorageBackend.class);
        assertTrue(a instanceof MemBackend);
        assertSame(a, injector.getInstance(StorageBackend.class));
        assertEquals("mem", a.name());
        assertEquals((8L << 20) / MemBackend.STATFS_BLOCK, a.statfs(ROOT, R).blocks());
        assertEquals(1000, a.statfs(ROOT, R).files());
        assertThrows(IllegalArgumentException.class, () -> new MemOptions(10, 1000));
        assertNotEquals(0, MemOptions.defaults().capacityBytes());
    }

    // ------------------------------------------------------------ helpers

    private static FileName name(String s) {
        return FileName.literal(s);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed + (i >>> 9));
        }
        return b;
    }

    private static byte[] read(MemBackend fs, long node, long fh, long offset, int length) throws FsException {
        BufferReadSink sink = new BufferReadSink(length);
        fs.read(ROOT, node, fh, offset, sink);
        return sink.bytes();
    }

    private static byte[] readAll(MemBackend fs, long node) throws FsException {
        long fh = fs.open(ROOT, node, OpenFlags.O_RDONLY).fh();
        try {
            return read(fs, node, fh, 0, (int) fs.getattr(ROOT, node, fh).size());
        } finally {
            fs.release(ROOT, node, fh, 0, 0);
        }
    }

    private static void assertErrno(Errno expected, Executable op) {
        FsException e = assertThrows(FsException.class, op, "expected " + expected);
        assertEquals(expected, e.errno(), e.getMessage());
    }

    /** Polls a condition with a deadline; never a bare sleep in place of a condition. */
    private static void awaitCondition(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(1);
        }
    }
}
