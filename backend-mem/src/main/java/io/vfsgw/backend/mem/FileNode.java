package io.vfsgw.backend.mem;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.ReadSink;
import io.vfsgw.spi.WriteSource;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

import static io.vfsgw.backend.mem.MemBackend.PAGE_SHIFT;
import static io.vfsgw.backend.mem.MemBackend.PAGE_SIZE;

/**
 * A regular file: a sparse map of fixed-size pages (page index to a {@link #PAGE_SIZE} heap
 * buffer), created on write, plus the apparent size. A missing page is a hole and reads as zeros.
 *
 * <p>Invariant: every byte of a page at or past {@link #size} is zero (shrinking truncates zero the
 * tail of the last page), so growing the file never has to clear anything.
 *
 * <p>All methods expect the caller to hold {@link Node#lock}: the read lock for {@link #read} and
 * the seeks, the write lock for everything that changes pages or size. Page allocation is charged to
 * the {@link Capacity} up front, so a failing call changes nothing.
 */
final class FileNode extends Node {
    private static final long PAGE_MASK = PAGE_SIZE - 1;

    private final NavigableMap<Long, ByteBuffer> pages = new TreeMap<>();
    long size;

    FileNode(long id, int mode, int uid, int gid, long nowNs) {
        super(id, mode, uid, gid, nowNs, 0, null);
    }

    @Override
    long size() {
        return size;
    }

    @Override
    long blocks() {
        return (long) pages.size() * (PAGE_SIZE / 512);
    }

    int pageCount() {
        return pages.size();
    }

    /** Copies {@code min(sink.remaining(), size - offset)} bytes at {@code offset} into the sink. */
    void read(long offset, ReadSink sink) {
        if (offset >= size) {
            return;
        }
        long want = Math.min(sink.remaining(), size - offset);
        long pos = offset;
        while (want > 0) {
            int inPage = (int) (pos & PAGE_MASK);
            int n = (int) Math.min(PAGE_SIZE - inPage, want);
            ByteBuffer page = pages.get(pos >>> PAGE_SHIFT);
            if (page == null) {
                sink.putZeros(n);
            } else {
                sink.put(view(page, inPage, n));
            }
            pos += n;
            want -= n;
        }
    }

    /**
     * Writes all of {@code src} at {@code offset} (the caller has clamped it to the size limit) and
     * grows the size. ENOSPC before anything changes when the new pages do not fit.
     */
    int write(long offset, WriteSource src, int length, Capacity capacity) throws FsException {
        if (length <= 0) {
            return 0;
        }
        long end = offset + length;
        allocate(offset, end, capacity);
        long pos = offset;
        while (pos < end) {
            int inPage = (int) (pos & PAGE_MASK);
            int n = (int) Math.min(PAGE_SIZE - inPage, end - pos);
            int copied = src.copyTo(view(pages.get(pos >>> PAGE_SHIFT), inPage, n));
            pos += copied;
            if (copied < n) {
                break; // the source ran dry early; report what we took
            }
        }
        size = Math.max(size, pos);
        return (int) (pos - offset);
    }

    /** Makes sure every page touching [from, to) exists, charging the new ones; all or nothing. */
    void allocate(long from, long to, Capacity capacity) throws FsException {
        if (to <= from) {
            return;
        }
        long first = from >>> PAGE_SHIFT;
        long last = (to - 1) >>> PAGE_SHIFT;
        long present = pages.subMap(first, true, last, true).size();
        long missing = last - first + 1 - present;
        if (missing == 0) {
            return;
        }
        if (missing > Long.MAX_VALUE / PAGE_SIZE) {
            throw FsException.of(Errno.ENOSPC, "range too large");
        }
        capacity.reserveBytes(missing * PAGE_SIZE);
        List<Long> added = new ArrayList<>();
        try {
            for (long i = first; i <= last; i++) {
                if (!pages.containsKey(i)) {
                    pages.put(i, ByteBuffer.allocate(PAGE_SIZE));
                    added.add(i);
                }
            }
        } catch (OutOfMemoryError e) {
            // The budget exceeds the JVM heap: undo and report a full filesystem, not a dead daemon.
            for (Long i : added) {
                pages.remove(i);
            }
            capacity.releaseBytes(missing * PAGE_SIZE);
            throw FsException.of(Errno.ENOSPC, "JVM heap exhausted; lower --mem-size or raise -Xmx");
        }
    }

    /** Sets the size; shrinking drops whole pages past the end and zeroes the tail of the last one. */
    void truncate(long newSize, Capacity capacity) {
        if (newSize < size) { // pages preallocated past the old EOF (KEEP_SIZE) go too
            dropPagesFrom(pageCount(newSize), capacity);
            int tail = (int) (newSize & PAGE_MASK);
            if (tail != 0) {
                ByteBuffer last = pages.get(newSize >>> PAGE_SHIFT);
                if (last != null) {
                    zero(last, tail, PAGE_SIZE - tail);
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
        Iterator<Map.Entry<Long, ByteBuffer>> it = pages.subMap(first, true, last, true).entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, ByteBuffer> e = it.next();
            long pageStart = e.getKey() << PAGE_SHIFT;
            long s = Math.max(from, pageStart);
            long t = Math.min(to, pageStart + PAGE_SIZE);
            if (s == pageStart && t == pageStart + PAGE_SIZE) {
                it.remove();
                capacity.releaseBytes(PAGE_SIZE);
            } else {
                zero(e.getValue(), (int) (s - pageStart), (int) (t - s));
            }
        }
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
     * {@code in} to this file at {@code out}, page by page; source holes stay holes where they cover
     * a whole destination page. Ranges must not overlap when {@code src == this}.
     */
    long copyFrom(FileNode src, long in, long out, long length, Capacity capacity) throws FsException {
        // Pass 1: charge the destination pages that will need to exist (all or nothing).
        long needed = 0;
        long lastCounted = -1;
        for (long done = 0; done < length; ) {
            int n = chunk(in + done, out + done, length - done);
            long dstIdx = (out + done) >>> PAGE_SHIFT;
            if (src.pages.containsKey((in + done) >>> PAGE_SHIFT) && !pages.containsKey(dstIdx)
                    && dstIdx != lastCounted) {
                needed++;
                lastCounted = dstIdx;
            }
            done += n;
        }
        capacity.reserveBytes(needed * PAGE_SIZE);
        // Pass 2: copy or clear.
        for (long done = 0; done < length; ) {
            long s = in + done;
            long d = out + done;
            int n = chunk(s, d, length - done);
            ByteBuffer sp = src.pages.get(s >>> PAGE_SHIFT);
            if (sp == null) {
                punch(d, d + n, capacity);
            } else {
                ByteBuffer dp = pages.get(d >>> PAGE_SHIFT);
                if (dp == null) {
                    dp = ByteBuffer.allocate(PAGE_SIZE); // already charged in pass 1
                    pages.put(d >>> PAGE_SHIFT, dp);
                }
                view(dp, (int) (d & PAGE_MASK), n).put(view(sp, (int) (s & PAGE_MASK), n));
            }
            done += n;
        }
        size = Math.max(size, out + length);
        return length;
    }

    /** Frees every page; the node is going away. */
    void releaseAll(Capacity capacity) {
        capacity.releaseBytes((long) pages.size() * PAGE_SIZE);
        pages.clear();
    }

    private void dropPagesFrom(long firstIdx, Capacity capacity) {
        NavigableMap<Long, ByteBuffer> tail = pages.tailMap(firstIdx, true);
        capacity.releaseBytes((long) tail.size() * PAGE_SIZE);
        tail.clear();
    }

    private static long pageCount(long bytes) {
        return (bytes >>> PAGE_SHIFT) + ((bytes & PAGE_MASK) != 0 ? 1 : 0);
    }

    private static int chunk(long s, long d, long left) {
        long n = Math.min(PAGE_SIZE - (s & PAGE_MASK), PAGE_SIZE - (d & PAGE_MASK));
        return (int) Math.min(n, left);
    }

    /** A view of [off, off+len) of a page; no copy. */
    private static ByteBuffer view(ByteBuffer page, int off, int len) {
        ByteBuffer v = page.duplicate();
        v.limit(off + len).position(off);
        return v;
    }

    private static void zero(ByteBuffer page, int off, int len) {
        java.util.Arrays.fill(page.array(), page.arrayOffset() + off, page.arrayOffset() + off + len, (byte) 0);
    }
}
