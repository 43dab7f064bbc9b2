package io.vfsgw.backend.mem;

import io.vfsgw.backend.mem.PagePool.Block;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.ReadSink;
import io.vfsgw.spi.WriteSource;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

import static io.vfsgw.backend.mem.MemBackend.PAGE_SHIFT;
import static io.vfsgw.backend.mem.MemBackend.PAGE_SIZE;

/**
 * A regular file: a sparse map from page index to an off-heap buffer (a {@link PagePool} block),
 * plus the apparent size. A missing page is a hole and reads as zeros; so do the bytes of a page past
 * its buffer's capacity.
 *
 * <p>Buffers are {@link #MIN_BUFFER} to {@link MemBackend#PAGE_SIZE} bytes, a power of two, just
 * big enough for the highest byte written into that page: a 100-byte file costs 4 KiB, not a whole
 * 64 KiB page, while a large file is still a short map of full pages. A buffer grows (a bigger block,
 * one copy, the old block freed) when a write reaches past it; fallocate allocates full pages.
 *
 * <p>Every buffer that leaves the map goes back to the pool at that moment (truncate, punch, growth,
 * {@link #releaseAll}), which returns its memory to the kernel: the pool's blocks are the only
 * reference to file data, so the GC never sees or copies it, and a block is freed exactly once.
 *
 * <p>Invariant: every byte at or past {@link #size} is zero (shrinking truncates zero the tail of the
 * last page), so growing the file never has to clear anything.
 *
 * <p>All methods expect the caller to hold {@link Node#lock}: the read lock for {@link #read} and
 * the seeks, the write lock for everything that changes pages or size. New buffer bytes are charged
 * to the {@link Capacity} before anything changes, so a call failing with ENOSPC changes nothing.
 */
final class FileNode extends Node {
    /** The smallest buffer behind a page. */
    static final int MIN_BUFFER = 4096;
    private static final long PAGE_MASK = PAGE_SIZE - 1;

    private final NavigableMap<Long, Block> pages = new TreeMap<>();
    private final PagePool pool;
    /** Sum of the capacities of all buffers (what this file holds of the budget). */
    private long allocatedBytes;
    long size;

    FileNode(long id, int mode, int uid, int gid, long nowNs, PagePool pool) {
        super(id, mode, uid, gid, nowNs, 0, null);
        this.pool = pool;
    }

    @Override
    long size() {
        return size;
    }

    @Override
    long blocks() {
        return allocatedBytes / 512;
    }

    long allocatedBytes() {
        return allocatedBytes;
    }

    /**
     * Copies {@code min(sink.remaining(), size - offset)} bytes at {@code offset} into the sink:
     * one preadv per run of pages whose buffers follow each other in the pool, zeros for holes.
     */
    void read(long offset, ReadSink sink) throws FsException {
        if (offset >= size) {
            return;
        }
        long end = offset + Math.min(sink.remaining(), size - offset);
        long pos = offset;
        while (pos < end) {
            Block page = pages.get(pos >>> PAGE_SHIFT);
            int inPage = (int) (pos & PAGE_MASK);
            int n = (int) Math.min(PAGE_SIZE - inPage, end - pos);
            int real = page == null ? 0 : Math.max(0, Math.min(n, page.size() - inPage));
            if (real == 0) {
                sink.putZeros(n);
                pos += n;
                continue;
            }
            long runEnd = runEnd(page, pos + real, end);
            pool.read(page.offset() + inPage, sink, (int) (runEnd - pos));
            pos = runEnd;
        }
    }

    /**
     * Writes {@code length} bytes of {@code src} at {@code offset} (the caller has clamped the range to
     * the size limit) and grows the size. ENOSPC before anything changes when the buffers do not fit.
     * One pwritev per run of pages whose buffers follow each other in the pool (a file written in
     * order mostly gets such buffers).
     */
    int write(long offset, WriteSource src, int length, Capacity capacity) throws FsException {
        if (length <= 0) {
            return 0;
        }
        long end = offset + length;
        ensure(offset, end, false, capacity);
        long pos = offset;
        while (pos < end) {
            Block page = pages.get(pos >>> PAGE_SHIFT);
            // ensure() made every page's buffer hold its part of the range
            long runEnd = runEnd(page, Math.min((pos | PAGE_MASK) + 1, end), end);
            int want = (int) (runEnd - pos);
            int copied;
            try {
                copied = pool.write(page.offset() + (pos & PAGE_MASK), src, want);
            } catch (FsException e) {
                if (pos == offset) {
                    throw e;
                }
                break; // nothing of this run went in: a short write of the runs before it
            }
            pos += copied;
            if (copied < want) {
                break; // the source ran dry early (or the kernel took no more); report what we took
            }
        }
        // Only bytes that went in count; nothing past pos was written, so "zero past size" holds.
        size = Math.max(size, pos);
        return (int) (pos - offset);
    }

    /**
     * Where the run of buffers starting with {@code first} ends, given that its bytes reach
     * {@code pos} (inside or at the end of {@code first}'s page) and the range ends at {@code end}:
     * while a buffer reaches its page's end (so it is a full page) and the next page's buffer
     * follows it in the pool's memfd, the run goes on through that buffer's bytes. One preadv or
     * pwritev then covers the whole run.
     */
    private long runEnd(Block first, long pos, long end) {
        Block last = first;
        while (pos < end && (pos & PAGE_MASK) == 0) {
            Block next = pages.get(pos >>> PAGE_SHIFT);
            if (next == null || next.offset() != last.offset() + PAGE_SIZE) {
                break;
            }
            pos += Math.min(Math.min(PAGE_SIZE, end - pos), next.size());
            last = next;
        }
        return pos;
    }

    /**
     * fallocate: every page touching [from, to) gets a full buffer whose memory the kernel commits
     * now (see {@link PagePool#commit}); all or nothing.
     */
    void allocate(long from, long to, Capacity capacity) throws FsException {
        ensure(from, to, true, capacity);
    }

    /**
     * Makes the buffers of the pages touching [from, to) big enough to hold the range (whole pages
     * when {@code fullPages}), charging the growth up front; on ENOSPC nothing has changed.
     */
    private void ensure(long from, long to, boolean fullPages, Capacity capacity) throws FsException {
        if (to <= from) {
            return;
        }
        long first = from >>> PAGE_SHIFT;
        long last = (to - 1) >>> PAGE_SHIFT;
        long growth;
        if (fullPages) {
            // Ranges may be huge (fallocate): count from the pages that exist, never index by index.
            NavigableMap<Long, Block> present = pages.subMap(first, true, last, true);
            long missing = last - first + 1 - present.size();
            if (missing > (Long.MAX_VALUE / 2) / PAGE_SIZE) {
                throw FsException.of(Errno.ENOSPC, "range too large");
            }
            growth = missing * PAGE_SIZE;
            for (Block b : present.values()) {
                growth += PAGE_SIZE - b.size();
            }
        } else {
            growth = 0; // a write spans at most 2 GiB: few enough pages to visit one by one
            for (long i = first; i <= last; i++) {
                growth += Math.max(0, bufferSizeFor(need(i, to, false)) - capacityOf(i));
            }
        }
        if (growth == 0) {
            return;
        }
        capacity.reserveBytes(growth);
        // Allocate every new buffer before installing any, so running out of memory changes nothing.
        List<Long> indexes = new ArrayList<>();
        List<Block> buffers = new ArrayList<>();
        try {
            for (long i = first; i <= last; i++) {
                int want = bufferSizeFor(need(i, to, fullPages));
                if (want > capacityOf(i)) {
                    indexes.add(i);
                    buffers.add(pool.allocate(want));
                }
            }
            if (fullPages) {
                pool.commit(buffers);
            }
        } catch (FsException e) {
            pool.freeAll(buffers);
            capacity.releaseBytes(growth);
            throw e;
        }
        for (int k = 0; k < indexes.size(); k++) {
            install(indexes.get(k), buffers.get(k));
        }
        allocatedBytes += growth;
    }

    /** Sets the size; shrinking drops whole pages past the end and zeroes the tail of the last one. */
    void truncate(long newSize, Capacity capacity) {
        if (newSize < size) { // pages preallocated past the old EOF (KEEP_SIZE) go too
            long keep = (newSize >>> PAGE_SHIFT) + ((newSize & PAGE_MASK) != 0 ? 1 : 0);
            NavigableMap<Long, Block> tail = pages.tailMap(keep, true);
            release(tail.values(), capacity);
            tail.clear();
            int inPage = (int) (newSize & PAGE_MASK);
            if (inPage != 0) {
                Block lastPage = pages.get(newSize >>> PAGE_SHIFT);
                if (lastPage != null) {
                    zero(lastPage, inPage, PAGE_SIZE - inPage);
                }
            }
        }
        size = newSize;
    }

    /** Zeroes [from, to): whole pages are released (become holes), partial ones cleared in place. */
    void punch(long from, long to, Capacity capacity) {
        if (to <= from) {
            return;
        }
        long first = from >>> PAGE_SHIFT;
        long last = (to - 1) >>> PAGE_SHIFT;
        List<Block> whole = new ArrayList<>();
        Iterator<Map.Entry<Long, Block>> it = pages.subMap(first, true, last, true).entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, Block> e = it.next();
            long pageStart = e.getKey() << PAGE_SHIFT;
            long s = Math.max(from, pageStart);
            long t = Math.min(to, pageStart + PAGE_SIZE);
            if (s == pageStart && t == pageStart + PAGE_SIZE) {
                whole.add(e.getValue());
                it.remove();
            } else {
                zero(e.getValue(), (int) (s - pageStart), (int) (t - s));
            }
        }
        release(whole, capacity);
    }

    /** SEEK_DATA: the first offset at or after {@code offset} inside an allocated page, before EOF. */
    long seekData(long offset) throws FsException {
        if (offset < 0 || offset >= size) {
            throw FsException.of(Errno.ENXIO);
        }
        Long k = pages.ceilingKey(offset >>> PAGE_SHIFT);
        if (k == null) {
            throw FsException.of(Errno.ENXIO);
        }
        long pos = Math.max(offset, k << PAGE_SHIFT);
        if (pos >= size) {
            throw FsException.of(Errno.ENXIO);
        }
        return pos;
    }

    /** SEEK_HOLE: the first offset at or after {@code offset} in a hole; EOF counts as a hole. */
    long seekHole(long offset) throws FsException {
        if (offset < 0 || offset >= size) {
            throw FsException.of(Errno.ENXIO);
        }
        long idx = offset >>> PAGE_SHIFT;
        for (Long k : pages.tailMap(idx, true).keySet()) {
            if (k != idx) {
                break;
            }
            idx++;
        }
        return Math.min(size, Math.max(offset, idx << PAGE_SHIFT));
    }

    /**
     * Copies {@code length} bytes (already clamped to the source's EOF) from {@code src} at
     * {@code in} to this file at {@code out}; what is a hole in the source is punched in the
     * destination, so sparse files stay sparse. Ranges must not overlap when {@code src == this}.
     */
    long copyFrom(FileNode src, long in, long out, long length, Capacity capacity) throws FsException {
        // Pass 1: the growth of destination buffers, charged up front (all or nothing).
        long growth = 0;
        long pageIdx = -1;
        int pageNeed = 0;
        for (long done = 0; done < length; ) {
            int n = chunk(in + done, out + done, length - done);
            int real = src.realBytes(in + done, n);
            long d = out + done;
            if (real > 0) {
                long idx = d >>> PAGE_SHIFT;
                if (idx != pageIdx) {
                    growth += pageGrowth(pageIdx, pageNeed);
                    pageIdx = idx;
                    pageNeed = 0;
                }
                pageNeed = Math.max(pageNeed, (int) (d & PAGE_MASK) + real);
            }
            done += n;
        }
        growth += pageGrowth(pageIdx, pageNeed);
        capacity.reserveBytes(growth);
        // Pass 2: copy the source's real bytes, punch the rest.
        long grown = 0;
        long done = 0;
        FsException outOfMemory = null;
        try {
            while (done < length) {
                long s = in + done;
                long d = out + done;
                int n = chunk(s, d, length - done);
                int real = src.realBytes(s, n);
                if (real > 0) {
                    long idx = d >>> PAGE_SHIFT;
                    int inPage = (int) (d & PAGE_MASK);
                    int want = bufferSizeFor(inPage + real);
                    int have = capacityOf(idx);
                    if (want > have) {
                        install(idx, pool.allocate(want));
                        grown += want - have;
                        allocatedBytes += want - have;
                    }
                    view(pages.get(idx), inPage, real).put(view(src.pages.get(s >>> PAGE_SHIFT), (int) (s & PAGE_MASK), real));
                }
                if (real < n) {
                    punch(d + real, d + n, capacity);
                }
                done += n;
            }
        } catch (FsException e) {
            outOfMemory = e; // report the bytes copied so far, or ENOSPC when there are none
        } finally {
            capacity.releaseBytes(growth - grown); // what pass 1 charged but pass 2 did not use
        }
        if (outOfMemory != null && done == 0) {
            throw outOfMemory;
        }
        size = Math.max(size, out + done);
        return done;
    }

    /** Frees every buffer; the node is going away (or the backend is closing). */
    void releaseAll(Capacity capacity) {
        pool.freeAll(pages.values());
        pages.clear();
        capacity.releaseBytes(allocatedBytes);
        allocatedBytes = 0;
    }

    /** How many of the {@code n} bytes at {@code pos} (within one page) are backed by a buffer. */
    private int realBytes(long pos, int n) {
        Block page = pages.get(pos >>> PAGE_SHIFT);
        return page == null ? 0 : Math.max(0, Math.min(n, page.size() - (int) (pos & PAGE_MASK)));
    }

    private long pageGrowth(long idx, int need) {
        return idx < 0 || need == 0 ? 0 : Math.max(0, bufferSizeFor(need) - capacityOf(idx));
    }

    private int capacityOf(long idx) {
        Block b = pages.get(idx);
        return b == null ? 0 : b.size();
    }

    /** The in-page end a range ending at {@code to} needs in page {@code idx}. */
    private static int need(long idx, long to, boolean fullPage) {
        return fullPage ? PAGE_SIZE : (int) Math.min(PAGE_SIZE, to - (idx << PAGE_SHIFT));
    }

    /** The power of two from MIN_BUFFER to PAGE_SIZE that holds {@code need} bytes. */
    static int bufferSizeFor(int need) {
        int c = MIN_BUFFER;
        while (c < need) {
            c <<= 1;
        }
        return c;
    }

    /** Puts a (bigger) buffer in place, keeping the old one's bytes and freeing it; the caller has charged it. */
    private void install(long idx, Block fresh) {
        Block old = pages.put(idx, fresh);
        if (old != null) {
            fresh.data().duplicate().put(old.data().duplicate());
            pool.free(old);
        }
    }

    /** Returns buffers that have left the map (or are about to) to the pool and the budget. */
    private void release(Collection<Block> blocks, Capacity capacity) {
        long bytes = 0;
        for (Block b : blocks) {
            bytes += b.size();
        }
        pool.freeAll(blocks);
        capacity.releaseBytes(bytes);
        allocatedBytes -= bytes;
    }

    private static int chunk(long s, long d, long left) {
        long n = Math.min(PAGE_SIZE - (s & PAGE_MASK), PAGE_SIZE - (d & PAGE_MASK));
        return (int) Math.min(n, left);
    }

    /** A view of [off, off+len) of a page buffer; no copy. */
    private static ByteBuffer view(Block page, int off, int len) {
        ByteBuffer v = page.data().duplicate();
        v.limit(off + len).position(off);
        return v;
    }

    /** Zeroes [off, off+len) of a page, as far as its buffer reaches (beyond it is zero anyway). */
    private static void zero(Block page, int off, int len) {
        int end = Math.min(off + len, page.size());
        if (off < end) {
            PagePool.zero(page.data(), off, end - off);
        }
    }
}
