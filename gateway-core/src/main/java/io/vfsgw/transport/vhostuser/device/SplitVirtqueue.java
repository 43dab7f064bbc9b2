package io.vfsgw.transport.vhostuser.device;

import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

/**
 * The device side of one virtio 1.x split virtqueue (virtio spec §2.7, linux/virtio_ring.h) living
 * in guest memory.
 *
 * <h2>Layout</h2>
 * <pre>
 * descriptor table  size x { u64 addr | u32 len | u16 flags | u16 next }          16-byte aligned
 * avail ring        u16 flags | u16 idx | u16 ring[size] | u16 used_event         2-byte aligned
 * used ring         u16 flags | u16 idx | {u32 id, u32 len}[size] | u16 avail_event 4-byte aligned
 * </pre>
 * {@code idx} fields are free-running 16-bit counters; ring slots are {@code idx % size} (size is a
 * power of two, at most 32768, so the modulo survives the 16-bit wrap).
 *
 * <h2>Trust</h2>
 * Everything in guest memory may change under us at any time, written by a hostile driver. So: a
 * descriptor is read once into locals and only the locals are used; every address is translated
 * through {@link GuestMemory} with a bounds check; a chain is walked for at most as many steps as
 * its table has entries, which catches loops without a visited set; an indirect table must be a
 * non-empty multiple of 16 bytes, at most {@link #maxIndirectEntries()} entries, not nested, and not
 * combined with NEXT; a readable descriptor after a writable one is refused (§2.7.4.2); total
 * lengths are summed in {@code long} and refused above 2^31-1 so nothing downstream overflows. A
 * chain failing any check is returned with used length 0 when its head index is valid; an avail
 * index that claims more than {@code size} new entries marks the ring broken (the driver is
 * confused; processing it further would only misread memory) until the front end restarts it.
 *
 * <h2>Memory ordering</h2>
 * The driver writes descriptors, then the avail ring slot, then (after a write barrier) avail idx.
 * We read avail idx, then {@link VarHandle#acquireFence()} before reading slots and descriptors.
 * When returning a chain we write the used element, {@link VarHandle#releaseFence()}, then used idx,
 * so the driver never sees an index covering an unwritten element. Deciding whether to notify
 * reads {@code used_event} (or avail flags) after publishing used idx: that store-then-load needs
 * {@link VarHandle#fullFence()}, otherwise we could miss the driver's latest request for an
 * interrupt (the classic lost-wakeup race, virtio spec §2.7.10). The same holds for our
 * {@code avail_event} write followed by the re-read of avail idx in {@link #enableNotification()}.
 *
 * <h2>Notifications (VIRTIO_RING_F_EVENT_IDX)</h2>
 * Without EVENT_IDX we notify unless the driver set VRING_AVAIL_F_NO_INTERRUPT. With it we notify
 * when the new used idx passes {@code used_event} ({@code vring_need_event}), and we publish
 * {@code avail_event = next avail} so the driver kicks only when it adds past what we have seen.
 *
 * <h2>Concurrency</h2>
 * {@link #pop} is called by one thread at a time (a queue thread holding the crew's ring lock). {@link #pushUsed} and
 * {@link #needsNotification} may be called from any worker, under the caller's lock (completions
 * arrive out of order and concurrently; the used ring is one shared producer index).
 *
 * <h2>Inflight tracking (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)</h2>
 * With an {@link InflightQueue} attached by {@link #trackInflight} (before the ring starts), pop
 * marks each head in flight before the chain leaves this class, and pushUsed clears it after
 * publishing the used idx (see InflightQueue for the exact order). When the buffer shows heads
 * still in flight from before a reconnect, those chains are popped first, oldest first, and the
 * next avail index becomes {@code used idx + heads in flight}: every head popped is either returned
 * (counted by used idx) or still in flight, whatever SET_VRING_BASE said (after a back-end crash
 * QEMU can only guess the base from the used idx). libvhost-user resumes the same way.
 */
public final class SplitVirtqueue {
    static final int DESC_SIZE = 16;
    static final int F_NEXT = 1;
    static final int F_WRITE = 2;
    static final int F_INDIRECT = 4;
    private static final int AVAIL_F_NO_INTERRUPT = 1;
    private static final int MIN_INDIRECT_LIMIT = 1024;

    private final int size;
    private final ByteBuffer desc;
    private final ByteBuffer avail;
    private final ByteBuffer used;
    private final boolean eventIdx;
    private final boolean indirect;
    private int nextAvail;
    private int nextUsed;
    private boolean broken;
    private InflightQueue inflight;
    /** Heads found in flight at {@link #trackInflight}, popped before the avail ring (under the ring lock). */
    private int[] resubmit = new int[0];
    private int resubmitNext;
    /**
     * Where {@link #walk} collects a chain's views, reused (pop runs under the ring lock): grown
     * afresh per chain, they were a tenth of a large WRITE's garbage.
     */
    private final ViewList readableScratch = new ViewList();
    private final ViewList writableScratch = new ViewList();

    /** Thrown by {@link #pop} for a bad chain; {@code head} is -1 when even the head index was bad. */
    public static final class BadChainException extends Exception {
        private static final long serialVersionUID = 1L;
        private final int head;

        BadChainException(int head, String message) {
            super(message, null, false, false);
            this.head = head;
        }

        public int head() {
            return head;
        }
    }

    /**
     * @param desc  view of the descriptor table, {@code 16 * size} bytes
     * @param avail view of the avail ring, {@link #availBytes(int)} bytes
     * @param used  view of the used ring, {@link #usedBytes(int)} bytes
     * @param base  first avail index to process (SET_VRING_BASE)
     */
    public SplitVirtqueue(int size, ByteBuffer desc, ByteBuffer avail, ByteBuffer used, int base,
                          boolean eventIdx, boolean indirect) {
        if (size <= 0 || size > 32768 || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("queue size " + size);
        }
        this.size = size;
        this.desc = desc;
        this.avail = avail;
        this.used = used;
        this.eventIdx = eventIdx;
        this.indirect = indirect;
        this.nextAvail = base & 0xffff;
        // The used idx lives in guest memory; after a restart it is whatever we last published.
        this.nextUsed = used.getShort(2) & 0xffff;
    }

    public static int availBytes(int size) {
        return 6 + 2 * size;
    }

    public static int usedBytes(int size) {
        return 6 + 8 * size;
    }

    public int size() {
        return size;
    }

    /** The next avail index we would process: what GET_VRING_BASE reports. */
    public int nextAvail() {
        return nextAvail;
    }

    public boolean isBroken() {
        return broken;
    }

    /** Largest indirect table accepted: the queue size, but at least 1024 as QEMU allows. */
    public int maxIndirectEntries() {
        return Math.max(size, MIN_INDIRECT_LIMIT);
    }

    /**
     * Tracks popped heads in {@code t} from now on; call before the ring's first pop. Returns the
     * number of chains found still in flight, which the next pops return again before any new
     * avail entry, and which move {@link #nextAvail()} to {@code used idx + that number}; 0 for a
     * fresh buffer (and SET_VRING_BASE's base stands).
     */
    int trackInflight(InflightQueue t) {
        int[] heads = t.recover(size, nextUsed);
        inflight = t;
        if (heads == null) {
            return 0;
        }
        resubmit = heads;
        resubmitNext = 0;
        nextAvail = (nextUsed + heads.length) & 0xffff;
        return heads.length;
    }

    private int availIdx() {
        int idx = avail.getShort(2) & 0xffff;
        VarHandle.acquireFence();
        return idx;
    }

    /**
     * The next available chain translated through {@code mem}, or null when the ring is empty (or
     * broken). A bad chain is consumed and reported as {@link BadChainException}.
     */
    public DescriptorChain pop(GuestMemory mem) throws BadChainException {
        if (resubmitNext < resubmit.length) {
            int head = resubmit[resubmitNext++];
            try {
                return walk(head, mem); // still marked in flight, with its original counter
            } catch (BadDescriptorException e) {
                throw new BadChainException(head, "resubmitted chain at head " + head + ": " + e.getMessage());
            }
        }
        if (broken) {
            return null;
        }
        int pending = (availIdx() - nextAvail) & 0xffff;
        if (pending == 0) {
            return null;
        }
        if (pending > size) {
            broken = true;
            throw new BadChainException(-1, "avail idx is " + pending + " entries ahead of us on a ring of "
                    + size + ": ring marked broken until restarted");
        }
        int head = avail.getShort(4 + 2 * (nextAvail & (size - 1))) & 0xffff;
        nextAvail = (nextAvail + 1) & 0xffff;
        if (head >= size) {
            throw new BadChainException(-1, "avail ring names head " + head + " on a ring of " + size);
        }
        if (inflight != null) {
            inflight.markInflight(head); // even a bad chain: it is returned (and cleared) like a good one
        }
        try {
            return walk(head, mem);
        } catch (BadDescriptorException e) {
            throw new BadChainException(head, "chain at head " + head + ": " + e.getMessage());
        }
    }

    private DescriptorChain walk(int head, GuestMemory mem) throws BadDescriptorException {
        try {
            return walkInto(head, mem);
        } finally {
            // Empty after every chain, good or bad: the lists must not keep guest memory views alive.
            readableScratch.clear();
            writableScratch.clear();
        }
    }

    /** The walk itself: collects the chain's views in the scratch lists (through {@link #viewRun}). */
    private DescriptorChain walkInto(int head, GuestMemory mem) throws BadDescriptorException {
        long readableLength = 0;
        long writableLength = 0;
        ByteBuffer table = desc;
        int tableSize = size;
        int i = head;
        int steps = 0;
        boolean inIndirect = false;
        long runAddr = 0;
        long runLen = 0;
        boolean runWrite = false;
        boolean sawWritable = false;
        while (true) {
            if (++steps > tableSize) {
                throw new BadDescriptorException("more than " + tableSize + " descriptors: a loop");
            }
            int at = i * DESC_SIZE;
            // Read each field once: the guest may rewrite the table while we look at it.
            long addr = table.getLong(at);
            long len = table.getInt(at + 8) & 0xffffffffL;
            int flags = table.getShort(at + 12) & 0xffff;
            int next = table.getShort(at + 14) & 0xffff;
            if ((flags & F_INDIRECT) != 0) {
                if (!indirect || inIndirect || (flags & F_NEXT) != 0) {
                    throw new BadDescriptorException("indirect descriptor not allowed here (flags 0x"
                            + Integer.toHexString(flags) + ")");
                }
                if (len == 0 || len % DESC_SIZE != 0 || len / DESC_SIZE > maxIndirectEntries()) {
                    throw new BadDescriptorException("indirect table of " + len + " bytes");
                }
                table = mem.viewContiguous(addr, (int) len);
                tableSize = (int) (len / DESC_SIZE);
                inIndirect = true;
                i = 0;
                steps = 0;
                continue;
            }
            boolean write = (flags & F_WRITE) != 0;
            if (!write && sawWritable) {
                throw new BadDescriptorException("device-readable descriptor after a device-writable one");
            }
            sawWritable |= write;
            if (write) {
                writableLength += len;
            } else {
                readableLength += len;
            }
            if (readableLength > Integer.MAX_VALUE || writableLength > Integer.MAX_VALUE) {
                throw new BadDescriptorException("chain length exceeds 2^31-1 bytes");
            }
            // Descriptors that follow each other in guest memory (a guest's pages often do) share
            // one view: fewer buffer objects and iovecs for the same bytes.
            if (runLen > 0 && write == runWrite && runAddr + runLen == addr) {
                runLen += len;
            } else {
                viewRun(mem, runAddr, runLen, runWrite);
                runAddr = addr;
                runLen = len;
                runWrite = write;
            }
            if ((flags & F_NEXT) == 0) {
                break;
            }
            if (next >= tableSize) {
                throw new BadDescriptorException("next index " + next + " outside a table of " + tableSize);
            }
            i = next;
        }
        viewRun(mem, runAddr, runLen, runWrite);
        return new DescriptorChain(head, readableScratch.toArray(), writableScratch.toArray(), readableLength,
                writableLength, mem);
    }

    /**
     * Views of guest memory {@code [addr, addr + len)} appended to the chain's readable or writable
     * list; the request's bytes are read-only views, so a handler cannot scribble on what the guest sent.
     */
    private void viewRun(GuestMemory mem, long addr, long len, boolean write) throws BadDescriptorException {
        if (len > 0) {
            mem.viewInto(addr, len, !write, write ? writableScratch : readableScratch);
        }
    }

    /** Publishes chain {@code head} as used with {@code len} bytes written. Caller holds the queue lock. */
    public void pushUsed(int head, int len) {
        if (inflight != null) {
            inflight.beforeUsed(head);
        }
        int slot = 4 + 8 * (nextUsed & (size - 1));
        used.putInt(slot, head);
        used.putInt(slot + 4, len);
        VarHandle.releaseFence();
        nextUsed = (nextUsed + 1) & 0xffff;
        used.putShort(2, (short) nextUsed);
        if (inflight != null) {
            inflight.afterUsed(head, nextUsed);
        }
    }

    /**
     * Whether the driver wants an interrupt for the used entries published since
     * {@code usedBefore} (the used idx before this batch). Caller holds the queue lock.
     */
    public boolean needsNotification(int usedBefore) {
        VarHandle.fullFence();
        if (!eventIdx) {
            return (avail.getShort(0) & AVAIL_F_NO_INTERRUPT) == 0;
        }
        int usedEvent = avail.getShort(4 + 2 * size) & 0xffff;
        // vring_need_event(event, new, old): (u16)(new - event - 1) < (u16)(new - old)
        return ((nextUsed - usedEvent - 1) & 0xffff) < ((nextUsed - usedBefore) & 0xffff);
    }

    /** The current used idx (the "old" for {@link #needsNotification}). */
    public int nextUsed() {
        return nextUsed;
    }

    /**
     * After draining the ring: with EVENT_IDX, publish {@code avail_event} so the driver kicks for the
     * next entry, then re-check. Returns true when more entries arrived meanwhile (drain again).
     */
    public boolean enableNotification() {
        if (eventIdx) {
            used.putShort(4 + 8 * size, (short) nextAvail);
        }
        VarHandle.fullFence();
        return !broken && ((availIdx() - nextAvail) & 0xffff) != 0;
    }
}
