package io.vfsgw.backend.mem;

import io.vfsgw.nativeio.MemoryMaps;
import io.vfsgw.nativeio.PosixFiles;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.ReadSink;
import io.vfsgw.spi.StorageBackend;
import io.vfsgw.spi.WriteSource;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Off-heap memory for file data: blocks of 4 KiB to 64 KiB (powers of two) carved from one memfd
 * that is mmap'd into the process, with a free list per block size.
 *
 * <h2>Why off-heap, and why a memfd</h2>
 * File data held in heap buffers is live, long-lived and large: a 1 GiB write made G1 copy it out
 * of eden again and again (young pauses of 150-800 ms, seconds of GC CPU per GiB on 2 cores), and
 * freed heap buffers went back to the OS only when the GC felt like it. Here the GC sees only a
 * small {@link Block} object per block; the bytes live in a memfd mapped shared into the process.
 * A memfd (rather than {@code ByteBuffer.allocateDirect}) gives two things:
 * <ul>
 *   <li>Freeing is immediate and exact: {@link #freeAll} punches a hole in the memfd
 *   ({@code fallocate(PUNCH_HOLE)}), which hands the pages back to the kernel at once, so the
 *   memory the memfd holds follows the file system's contents; a direct buffer's memory would come
 *   back only after a GC ran its cleaner, and {@code -XX:MaxDirectMemorySize} (default: the heap
 *   size) would cap the file system.</li>
 *   <li>A punched range reads back as zeros, so a reused block is already clean: no file ever sees
 *   another file's old bytes, and FileNode's "everything past EOF is zero" holds without a memset.</li>
 * </ul>
 * Memory is taken when a block is first written (the kernel allocates the memfd's pages in
 * pwritev; see {@link #write}), or when a guest's fallocate asks for the space ahead
 * ({@link #commit}), as tmpfs does for both. It counts in the process's memory cgroup as shmem,
 * not in its RSS, since file data is not copied through the mapping. If the host or the
 * daemon's memory cgroup has less memory than the --mem-size budget, the kernel's OOM killer acts at
 * that moment (measured when pages were still filled through the mapping: a 400 MiB cgroup, a
 * 1 GiB budget); there is no errno to turn into ENOSPC, so
 * the budget must fit the memory the daemon may use. Committing blocks ahead with fallocate(0) does
 * not change that (the cgroup charge OOM-kills inside the syscall), so it is done only when a
 * guest asks for it.
 * Only existing {@code io.vfsgw.nativeio} calls are used (memfd_create, mmap, ftruncate, fallocate,
 * preadv, pwritev).
 *
 * <h2>Layout</h2>
 * The memfd grows by {@link #ARENA_SIZE} at a time (ftruncate, costs no memory) and each arena is one
 * mapping. Arenas are cut into {@link #SLAB_SIZE} slabs, each slab serving one block size; a slab's
 * blocks all go to that size's free list when the slab is cut. Freed blocks return to their list and
 * are reused first (last freed, first reused). Free blocks cost address space and a small heap
 * object each, no memory; the lists never shrink below the peak.
 *
 * <h2>Lifetime: nothing is unmapped while a view of it can exist</h2>
 * Every block's buffer is a slice of its arena's buffer, and a slice (and every duplicate of it)
 * keeps the arena's buffer reachable, as JDK direct buffers keep their memory. An arena is unmapped
 * by a {@link Cleaner} only once its buffer is unreachable, so no stray view can ever touch unmapped
 * memory and crash the JVM. {@link #close} closes the memfd (its memory is gone once the blocks are
 * freed) and drops the free lists; the fd use in allocate/free is guarded by a read-write lock, so a
 * call racing close can never punch a hole in some other file that reused the fd number.
 *
 * <h2>Thread safety</h2>
 * The free lists and counters are guarded by this object's monitor; the hole punches run outside
 * it (under the lifecycle read lock), so concurrent writers to different files only meet for a list
 * push or pop. Callers (FileNode, under its node lock) guarantee a block is freed once and not used
 * after. Byte order does not matter: FileNode only copies bytes.
 */
final class PagePool implements AutoCloseable {
    /** The smallest block: one host page. */
    static final int MIN_BLOCK = 4096;
    /** The largest block: one file page. */
    static final int MAX_BLOCK = MemBackend.PAGE_SIZE;
    /** Bytes of one size class cut at a time. */
    static final long SLAB_SIZE = 1L << 20;
    /** Bytes the memfd grows by, and the size of one mapping (below 2 GiB: one ByteBuffer views it). */
    static final long ARENA_SIZE = 256L << 20;

    private static final int MIN_SHIFT = Integer.numberOfTrailingZeros(MIN_BLOCK);
    private static final int CLASSES = Integer.numberOfTrailingZeros(MAX_BLOCK) - MIN_SHIFT + 1;
    private static final int PUNCH = StorageBackend.FALLOC_FL_PUNCH_HOLE | StorageBackend.FALLOC_FL_KEEP_SIZE;
    /** A page of zeros to clear blocks from (direct: direct-to-direct copies are a memcpy). */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(MAX_BLOCK).asReadOnlyBuffer();
    /** Unmaps arenas and closes memfds nobody can reach any more. */
    private static final Cleaner CLEANER = Cleaner.create();

    /**
     * One block of off-heap memory: where it lives in the memfd and a view of it (capacity = size).
     * Use {@code data().duplicate()} for positions of your own; never change {@code data}'s position.
     */
    record Block(long offset, ByteBuffer data) {
        int size() {
            return data.capacity();
        }
    }

    /** The memfd, closed once by {@link #close} or, for a pool dropped unclosed, by the Cleaner. */
    private static final class Memfd implements Runnable {
        final AtomicInteger fd = new AtomicInteger(-1);

        @Override
        public void run() {
            int f = fd.getAndSet(-1);
            if (f >= 0) {
                PosixFiles.closeQuietly(f);
            }
        }
    }

    private final String name;
    private final Memfd memfd = new Memfd();
    /** Read: a call using the fd. Write: close. Keeps the fd number from being closed under a call. */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    // Guarded by this.
    /** The arenas' whole-mapping buffers; holding them keeps the mappings alive (see the class doc). */
    private final List<ByteBuffer> arenas = new ArrayList<>();
    private long mappedBytes;
    /** The memfd offset of the next slab to cut. */
    private long nextSlab;
    @SuppressWarnings("unchecked")
    private final ArrayDeque<Block>[] free = new ArrayDeque[CLASSES];
    private long inUseBytes;
    private long inUseBlocks;
    private long freeBytes;
    /** Set by {@link #stopAllocating} and {@link #close}: allocations fail with EIO. */
    private volatile boolean stopped;
    /** Set by {@link #close} (under the lifecycle write lock): the fd is gone, frees are ignored. */
    private volatile boolean closed;

    /** A pool whose memfd (created on first use) is called {@code name} in /proc/PID/fd and maps. */
    PagePool(String name) {
        this.name = name;
        for (int i = 0; i < CLASSES; i++) {
            free[i] = new ArrayDeque<>();
        }
        CLEANER.register(this, memfd);
    }

    /**
     * A block of exactly {@code size} bytes (a power of two from {@link #MIN_BLOCK} to
     * {@link #MAX_BLOCK}), all zeros. EIO after {@link #stopAllocating} or {@link #close}; the errno
     * of memfd_create/ftruncate/mmap when the pool cannot grow (ENOMEM, EMFILE).
     */
    Block allocate(int size) throws FsException {
        int cls = sizeClass(size);
        lifecycle.readLock().lock(); // growing the memfd uses the fd
        try {
            synchronized (this) {
                if (stopped) {
                    throw FsException.of(Errno.EIO, "mem backend closed");
                }
                if (free[cls].isEmpty()) {
                    cutSlab(cls);
                }
                freeBytes -= size;
                inUseBytes += size;
                inUseBlocks++;
                return free[cls].pop();
            }
        } finally {
            lifecycle.readLock().unlock();
            Reference.reachabilityFence(this); // the Cleaner must not close the fd under the call
        }
    }

    /**
     * Gives a block back: its memory goes to the kernel at once and it reads as zeros when next
     * handed out. The caller must not touch it afterwards. After {@link #close} this does nothing.
     */
    void free(Block b) {
        freeAll(List.of(b));
    }

    /**
     * {@link #free} for many blocks at once: blocks adjacent in the memfd are punched with one call
     * (a file written in order mostly got adjacent blocks), so dropping 1 GiB takes few syscalls.
     */
    void freeAll(Collection<Block> blocks) {
        if (blocks.isEmpty()) {
            return;
        }
        lifecycle.readLock().lock();
        try {
            if (closed) {
                return;
            }
            Block[] sorted = byOffset(blocks);
            forEachRun(sorted, (from, to) -> punch(sorted, from, to));
            synchronized (this) {
                // Highest first, so the lowest is popped first: a file rewritten in order gets
                // blocks that follow each other in the memfd again (one pwritev per run).
                for (int i = sorted.length - 1; i >= 0; i--) {
                    Block b = sorted[i];
                    free[sizeClass(b.size())].push(b);
                    freeBytes += b.size();
                    inUseBytes -= b.size();
                    inUseBlocks--;
                }
            }
        } finally {
            lifecycle.readLock().unlock();
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Makes the kernel back {@code blocks} with memory now (fallocate(0) on the memfd; blocks
     * adjacent in the memfd take one call), so later writes into them allocate nothing: what a
     * guest's fallocate asks of a file, and what tmpfs does for it. The blocks still read as zeros.
     * ENOSPC/ENOMEM when the kernel cannot; the caller still holds the blocks and frees them.
     */
    void commit(Collection<Block> blocks) throws FsException {
        if (blocks.isEmpty()) {
            return;
        }
        lifecycle.readLock().lock();
        try {
            int fd = openFd();
            Block[] sorted = byOffset(blocks);
            forEachRun(sorted,
                    (from, to) -> PosixFiles.fallocate(fd, 0, sorted[from].offset(), runLength(sorted, from, to)));
        } finally {
            lifecycle.readLock().unlock();
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Copies up to {@code length} bytes of {@code src} into the memfd at {@code at} (inside blocks
     * the caller holds) with pwritev, and advances the source; returns the count, short when the
     * source ran dry or the kernel refused more (ENOMEM) after some bytes went in; the errno when
     * none did. The kernel copies, as it does for a tmpfs file: no page of the pool is
     * touched through the mapping, so none costs this process a page fault (those faults were most
     * of a large write's CPU on a virtualized host), and a guest's request buffers go in as they are.
     */
    int write(long at, WriteSource src, int length) throws FsException {
        int done = 0;
        lifecycle.readLock().lock();
        try {
            int fd = openFd();
            while (done < length) {
                ByteBuffer[] views = first(src.views(), length - done);
                if (views.length == 0) {
                    break;
                }
                int n;
                try {
                    n = (int) PosixFiles.pwritev(fd, views, at + done);
                } catch (FsException e) {
                    if (done > 0) {
                        break;   // a short write: what went in stays counted (pwritev wrote nothing more)
                    }
                    throw e;
                }
                src.advance(n);
                done += n;
                if (n == 0) {
                    break;
                }
            }
            return done;
        } finally {
            lifecycle.readLock().unlock();
            Reference.reachabilityFence(this);
        }
    }

    /** Copies {@code length} bytes of the memfd at {@code at} into the sink with preadv (see {@link #write}). */
    void read(long at, ReadSink sink, int length) throws FsException {
        int done = 0;
        lifecycle.readLock().lock();
        try {
            int fd = openFd();
            while (done < length) {
                ByteBuffer[] views = sink.views(length - done);
                if (views.length == 0) {
                    break;
                }
                int n = (int) PosixFiles.preadv(fd, views, at + done);
                if (n <= 0) {
                    throw FsException.of(Errno.EIO, "mem backend: short read of its own memory at " + (at + done));
                }
                sink.advance(n);
                done += n;
            }
        } finally {
            lifecycle.readLock().unlock();
            Reference.reachabilityFence(this);
        }
    }

    /** Under the lifecycle read lock: the memfd, EIO once closed. */
    private int openFd() throws FsException {
        int fd = memfd.fd.get();
        if (closed || fd < 0) {
            throw FsException.of(Errno.EIO, "mem backend closed");
        }
        return fd;
    }

    /** Slices of {@code views} (from their positions) covering their first {@code length} bytes. */
    private static ByteBuffer[] first(ByteBuffer[] views, int length) {
        int count = 0;
        long covered = 0;
        while (count < views.length && covered < length) {
            covered += views[count++].remaining();
        }
        if (covered <= length && count == views.length && count <= PosixFiles.IOV_MAX) {
            return views;
        }
        // new + arraycopy, not Arrays.copyOf: that creates the array reflectively, a native call under C1
        ByteBuffer[] out = new ByteBuffer[Math.min(count, PosixFiles.IOV_MAX)];
        System.arraycopy(views, 0, out, 0, out.length);
        if (covered > length && count <= PosixFiles.IOV_MAX) {
            ByteBuffer last = out[count - 1].slice();
            out[count - 1] = last.limit(last.limit() - (int) (covered - length));
        }
        return out;
    }

    /** Blocks handed out and not freed. */
    synchronized long blocksInUse() {
        return inUseBlocks;
    }

    /** Bytes of the blocks handed out and not freed. */
    synchronized long bytesInUse() {
        return inUseBytes;
    }

    /** Bytes of cut blocks waiting in the free lists (address space only, no memory). */
    synchronized long bytesFree() {
        return freeBytes;
    }

    /** Address space of the arenas this pool holds (0 after close). */
    synchronized long mappedBytes() {
        return mappedBytes;
    }

    /** Memory the kernel holds for the memfd right now (its st_blocks); 0 before first use and after close. */
    long residentBytes() throws FsException {
        lifecycle.readLock().lock();
        try {
            int fd = memfd.fd.get();
            return closed || fd < 0 ? 0 : PosixFiles.fstat(fd).blocks() * 512;
        } finally {
            lifecycle.readLock().unlock();
            Reference.reachabilityFence(this);
        }
    }

    /** First step of closing: from now on allocations fail with EIO; frees still work. */
    void stopAllocating() {
        stopped = true;
    }

    /**
     * Closes the memfd and drops the free lists: later allocations fail with EIO, frees are ignored.
     * Free every block first (MemBackend.close does): a block still in use keeps its memory until it
     * becomes unreachable. The mappings go when no view of them is left (see the class doc).
     */
    @Override
    public void close() {
        stopped = true;
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            memfd.run();
            synchronized (this) {
                arenas.clear();
                mappedBytes = 0;
                for (ArrayDeque<Block> q : free) {
                    q.clear();
                }
                freeBytes = 0;
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    /** One run of blocks adjacent in the memfd: {@code sorted[from..to)}. */
    @FunctionalInterface
    private interface RunAction<E extends Exception> {
        void apply(int from, int to) throws E;
    }

    private static Block[] byOffset(Collection<Block> blocks) {
        Block[] sorted = blocks.toArray(new Block[0]);
        Arrays.sort(sorted, Comparator.comparingLong(Block::offset));
        return sorted;
    }

    /** Calls {@code action} once per run of blocks that follow each other in the memfd ({@code sorted} by offset). */
    private static <E extends Exception> void forEachRun(Block[] sorted, RunAction<E> action) throws E {
        int runStart = 0;
        for (int i = 1; i <= sorted.length; i++) {
            Block prev = sorted[i - 1];
            if (i == sorted.length || sorted[i].offset() != prev.offset() + prev.size()) {
                action.apply(runStart, i);
                runStart = i;
            }
        }
    }

    /** Bytes from the start of {@code sorted[from]} to the end of {@code sorted[to - 1]}. */
    private static long runLength(Block[] sorted, int from, int to) {
        return sorted[to - 1].offset() + sorted[to - 1].size() - sorted[from].offset();
    }

    /** Punches the adjacent blocks {@code sorted[from..to)} with one fallocate (lifecycle read lock held). */
    private void punch(Block[] sorted, int from, int to) {
        try {
            PosixFiles.fallocate(memfd.fd.get(), PUNCH, sorted[from].offset(), runLength(sorted, from, to));
        } catch (FsException e) {
            // Cannot happen on a memfd; if it does, keep the promise that reused blocks are zero.
            for (int i = from; i < to; i++) {
                sorted[i].data().duplicate().put(ZEROS.duplicate().limit(sorted[i].size()));
            }
        }
    }

    /** Under the monitor: cuts the next slab into blocks of class {@code cls}, growing the memfd if needed. */
    private void cutSlab(int cls) throws FsException {
        if (nextSlab == mappedBytes) {
            growArena();
        }
        ByteBuffer arena = arenas.get((int) (nextSlab / ARENA_SIZE));
        int base = (int) (nextSlab % ARENA_SIZE);
        int size = MIN_BLOCK << cls;
        for (int off = 0; off < SLAB_SIZE; off += size) {
            free[cls].addLast(new Block(nextSlab + off, arena.slice(base + off, size)));
        }
        nextSlab += SLAB_SIZE;
        freeBytes += SLAB_SIZE;
    }

    /** Under the monitor and the lifecycle read lock: adds one arena to the memfd and maps it. */
    private void growArena() throws FsException {
        int fd = memfd.fd.get();
        if (fd < 0) {
            fd = MemoryMaps.memfdCreate(name, ARENA_SIZE);
            memfd.fd.set(fd);
        } else {
            PosixFiles.ftruncate(fd, mappedBytes + ARENA_SIZE);
        }
        MemoryMaps.Mapping mapping = MemoryMaps.map(fd, mappedBytes, ARENA_SIZE, true);
        ByteBuffer whole = mapping.view(0, (int) ARENA_SIZE);
        CLEANER.register(whole, mapping::close); // runs once no slice of this arena is reachable
        arenas.add(whole);
        mappedBytes += ARENA_SIZE;
    }

    private static int sizeClass(int size) {
        if (size < MIN_BLOCK || size > MAX_BLOCK || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("block size " + size);
        }
        return Integer.numberOfTrailingZeros(size) - MIN_SHIFT;
    }

    /** Zeroes [off, off+len) of a block (len at most {@link #MAX_BLOCK}). */
    static void zero(ByteBuffer block, int off, int len) {
        ByteBuffer v = block.duplicate();
        v.limit(off + len).position(off);
        v.put(ZEROS.duplicate().limit(len));
    }
}
