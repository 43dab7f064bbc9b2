package io.vfsgw.transport.vhostuser.device;

import io.vfsgw.nativeio.MemoryMaps;
import io.vfsgw.nativeio.PosixFiles;
import io.vfsgw.nativeio.UnixSockets;
import io.vfsgw.spi.FsException;
import io.vfsgw.transport.vhostuser.protocol.VhostUserException;
import io.vfsgw.transport.vhostuser.protocol.VhostUserInflight;
import java.nio.ByteBuffer;

/**
 * The shared inflight-tracking buffer of VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD: one
 * {@link InflightQueue} region per queue, back to back, in a memfd the back end creates on
 * GET_INFLIGHT_FD and the front end keeps and hands back with SET_INFLIGHT_FD after a reconnect.
 *
 * <p>Each queue's region is {@link #queueRegionSize} bytes: libvhost-user's formula
 * ({@code ALIGN_UP(16 * queue_size + 2, 64)}, always at least the 16-byte header plus the
 * descriptor states), so a buffer made by a libvhost-user back end (or by us for one) has the same
 * stride. The mapping lives until {@link #close()}; the owner closes it only once no ring uses it.
 */
public final class InflightRegion implements AutoCloseable {
    static final int ALIGNMENT = 64;
    private static final long PAGE = 4096;

    private final MemoryMaps.Mapping mapping;
    private final VhostUserInflight layout;
    private final InflightQueue[] queues;

    /** A freshly created buffer and its memfd (owned by the caller). */
    public record Created(InflightRegion region, int fd) {
    }

    private InflightRegion(MemoryMaps.Mapping mapping, long offsetInMapping, VhostUserInflight layout) {
        this.mapping = mapping;
        this.layout = layout;
        long stride = queueRegionSize(layout.queueSize());
        this.queues = new InflightQueue[layout.numQueues()];
        for (int i = 0; i < queues.length; i++) {
            ByteBuffer v = mapping.view(offsetInMapping + i * stride, (int) stride);
            queues[i] = new InflightQueue(v, layout.queueSize());
        }
    }

    /** Bytes of one queue's region for a ring of {@code queueSize} entries. */
    public static long queueRegionSize(int queueSize) {
        return (InflightQueue.DESC_STATE * (long) queueSize + 2 + ALIGNMENT - 1) & -ALIGNMENT;
    }

    /**
     * GET_INFLIGHT_FD: a memfd sized for {@code numQueues} regions of {@code queueSize} entries,
     * mapped. ftruncate on a new memfd yields zero-filled pages, which is the "zeroed, version 0"
     * state the spec asks for, without touching (and allocating) every page.
     */
    public static Created create(int numQueues, int queueSize, int maxQueues, int maxQueueSize)
            throws VhostUserException {
        checkShape(numQueues, queueSize, maxQueues, maxQueueSize);
        long size = numQueues * queueRegionSize(queueSize);
        int fd = -1;
        try {
            fd = MemoryMaps.memfdCreate("vfsgw-inflight", size);
            MemoryMaps.Mapping m = MemoryMaps.map(fd, 0, size, true);
            return new Created(new InflightRegion(m, 0, new VhostUserInflight(size, 0, numQueues, queueSize)), fd);
        } catch (FsException e) {
            UnixSockets.close(fd);
            throw new VhostUserException("GET_INFLIGHT_FD: " + e.getMessage(), e);
        }
    }

    /**
     * SET_INFLIGHT_FD: maps {@code layout} of {@code fd}, taking ownership of the fd (closed here; the
     * mapping keeps the memory). Refuses a shape we would not create, a buffer smaller than the
     * shape needs, and a range beyond the end of the file: touching a mapped page past end of file
     * raises SIGBUS, which would kill the whole JVM.
     */
    public static InflightRegion map(VhostUserInflight layout, int fd, int maxQueues, int maxQueueSize)
            throws VhostUserException {
        try {
            checkShape(layout.numQueues(), layout.queueSize(), maxQueues, maxQueueSize);
            long need = layout.numQueues() * queueRegionSize(layout.queueSize());
            long offset = layout.mmapOffset();
            long size = layout.mmapSize();
            if (size < need) {
                throw refuse("mmap_size " + Long.toUnsignedString(size) + " is below the " + need + " bytes that "
                        + layout.numQueues() + " queues of " + layout.queueSize() + " entries need");
            }
            if (offset < 0 || offset > Long.MAX_VALUE - size) {
                throw refuse("mmap_offset " + Long.toUnsignedString(offset) + " + mmap_size " + size + " overflows");
            }
            PosixFiles.Stat st = PosixFiles.fstat(fd);
            if (!st.isRegular() || st.size() < offset + size) {
                throw refuse("the fd holds " + st.size() + " bytes (mode 0" + Integer.toOctalString(st.mode())
                        + "), the message claims [" + offset + ", +" + size + ")");
            }
            // mmap wants a page-aligned file offset; map from the page holding mmap_offset.
            long pageStart = offset & -PAGE;
            MemoryMaps.Mapping m = MemoryMaps.map(fd, pageStart, offset - pageStart + need, true);
            return new InflightRegion(m, offset - pageStart, layout);
        } catch (FsException e) {
            throw refuse(e.getMessage());
        } finally {
            UnixSockets.close(fd);
        }
    }

    private static void checkShape(int numQueues, int queueSize, int maxQueues, int maxQueueSize)
            throws VhostUserException {
        if (numQueues < 1 || numQueues > maxQueues) {
            throw refuse("num_queues " + numQueues + " is not between 1 and the device's " + maxQueues);
        }
        if (queueSize < 1 || queueSize > maxQueueSize) {
            throw refuse("queue_size " + queueSize + " is not between 1 and " + maxQueueSize);
        }
    }

    private static VhostUserException refuse(String why) {
        return new VhostUserException("inflight buffer: " + why);
    }

    /** The buffer as GET_INFLIGHT_FD reports it (or as SET_INFLIGHT_FD described it). */
    public VhostUserInflight layout() {
        return layout;
    }

    /** Queue {@code index}'s region, or null when the buffer has none for it. */
    InflightQueue queue(int index) {
        return index < queues.length ? queues[index] : null;
    }

    /** munmap; no ring may use the region any more. */
    @Override
    public void close() {
        mapping.close();
    }
}
