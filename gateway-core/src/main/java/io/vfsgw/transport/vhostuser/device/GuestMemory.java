package io.vfsgw.transport.vhostuser.device;

import io.vfsgw.nativeio.MemoryMaps;
import io.vfsgw.nativeio.UnixSockets;
import io.vfsgw.spi.FsException;
import io.vfsgw.transport.vhostuser.protocol.MemoryRegionDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The guest's RAM as the front end shared it: an immutable, reference-counted snapshot of mapped
 * regions, replaced whole on SET_MEM_TABLE, ADD_MEM_REG and REM_MEM_REG.
 *
 * <h2>Addresses</h2>
 * Descriptors carry guest-physical addresses (GPA); SET_VRING_ADDR carries the VMM's own virtual
 * addresses (user addresses). Each region is one {@link MemoryRegionDescriptor}; both kinds are
 * translated by binary search over regions sorted by that kind of address. Every translation checks
 * the whole range with overflow-safe arithmetic and either returns views that lie wholly inside
 * mapped memory or throws {@link BadDescriptorException}; there is no partial view.
 *
 * <h2>Windows</h2>
 * A ByteBuffer holds at most 2 GiB - 1 bytes, so a region is seen through windows that start every
 * 1 GiB and are each up to 2 GiB - 1 long. Consecutive windows overlap by about 1 GiB, so any range
 * of at most 1 GiB lies wholly inside one window: descriptors of normal size are always one view,
 * and only a range longer than 1 GiB (or one crossing into an adjacent region) becomes several.
 *
 * <h2>Lifetime</h2>
 * Unmapping memory that a worker still reads or writes would crash the JVM, so mappings are
 * reference-counted at two levels. A {@link Region} (one mmap) is counted by the snapshots that
 * contain it (ADD_MEM_REG builds a new snapshot sharing the old regions). A snapshot is counted by
 * its holder (the device's current table) plus every user: each descriptor chain in flight and each
 * started ring retains the snapshot it translated its addresses with, and releases it when the
 * chain is completed (or the ring stopped). When a replaced snapshot's count reaches zero it
 * releases its regions, and a region whose count reaches zero is unmapped. So old memory goes away
 * exactly when the last request that could see it is done, with no stop-the-world step.
 */
public final class GuestMemory {
    /** Window stride; any range of at most this many bytes fits in one window. */
    static final long WINDOW_STRIDE = 1L << 30;
    private static final long WINDOW_LENGTH = Integer.MAX_VALUE;

    private static final GuestMemory EMPTY = new GuestMemory(new Region[0]);

    private final Region[] byGuest;
    private final Region[] byUser;
    private final AtomicInteger refs = new AtomicInteger(1);

    private GuestMemory(Region[] regions) {
        this.byGuest = regions.clone();
        Arrays.sort(byGuest, Comparator.comparingLong(r -> r.desc.guestAddress()));
        this.byUser = regions.clone();
        Arrays.sort(byUser, (a, b) -> Long.compareUnsigned(a.desc.userAddress(), b.desc.userAddress()));
    }

    /** A snapshot with no memory: every translation fails. Never unmaps anything. */
    public static GuestMemory empty() {
        return EMPTY;
    }

    /** The regions, as the front end described them. */
    public List<MemoryRegionDescriptor> regions() {
        List<MemoryRegionDescriptor> l = new ArrayList<>();
        for (Region r : byGuest) {
            l.add(r.desc);
        }
        return l;
    }

    /**
     * Maps {@code fd} (taking ownership of it: it is closed here, the mapping keeps the memory) and
     * returns it as a region ready for {@link #with}.
     */
    public static Region map(MemoryRegionDescriptor d, int fd) throws BadDescriptorException {
        try {
            if (d.size() <= 0 || d.mmapOffset() < 0
                    || Long.compareUnsigned(d.guestAddress() + d.size() - 1, d.guestAddress()) < 0
                    || Long.compareUnsigned(d.userAddress() + d.size() - 1, d.userAddress()) < 0) {
                throw new BadDescriptorException("memory region " + d + " has a bad size or wraps around");
            }
            long mapped;
            try {
                mapped = Math.addExact(d.mmapOffset(), d.size());
            } catch (ArithmeticException e) {
                throw new BadDescriptorException("memory region " + d + ": offset + size overflows");
            }
            // Touching a mapped page past the end of the file raises SIGBUS, which kills the JVM:
            // a front end must not be able to do that with a region larger than its fd.
            long fileSize = io.vfsgw.nativeio.PosixFiles.fstat(fd).size();
            if (Long.compareUnsigned(mapped, fileSize) > 0) {
                throw new BadDescriptorException("memory region " + d + " needs " + mapped
                        + " bytes but its fd holds " + fileSize);
            }
            // Map from file offset 0 so an mmap_offset that is not page-aligned still works
            // (libvhost-user does the same); the region starts mmapOffset bytes in.
            MemoryMaps.Mapping m = MemoryMaps.map(fd, 0, mapped, true);
            return new Region(d, m);
        } catch (FsException e) {
            throw new BadDescriptorException("cannot map memory region " + d + ": " + e.getMessage());
        } finally {
            UnixSockets.close(fd);
        }
    }

    /**
     * A new snapshot of exactly {@code regions} (which it retains). Refuses overlapping guest or user
     * ranges. The caller still owns its own references to the regions.
     */
    public static GuestMemory of(List<Region> regions) throws BadDescriptorException {
        GuestMemory g = new GuestMemory(regions.toArray(new Region[0]));
        for (int i = 1; i < g.byGuest.length; i++) {
            MemoryRegionDescriptor prev = g.byGuest[i - 1].desc;
            if (Long.compareUnsigned(prev.guestAddress() + prev.size() - 1, g.byGuest[i].desc.guestAddress()) >= 0) {
                throw new BadDescriptorException("guest ranges of " + prev + " and " + g.byGuest[i].desc + " overlap");
            }
        }
        for (int i = 1; i < g.byUser.length; i++) {
            MemoryRegionDescriptor prev = g.byUser[i - 1].desc;
            if (Long.compareUnsigned(prev.userAddress() + prev.size() - 1, g.byUser[i].desc.userAddress()) >= 0) {
                throw new BadDescriptorException("user ranges of " + prev + " and " + g.byUser[i].desc + " overlap");
            }
        }
        for (Region r : g.byGuest) {
            r.retain();
        }
        return g;
    }

    /** This snapshot plus {@code added} (a new snapshot; this one is unchanged). */
    public GuestMemory with(Region added) throws BadDescriptorException {
        List<Region> l = new ArrayList<>(Arrays.asList(byGuest));
        l.add(added);
        return of(l);
    }

    /** This snapshot minus the region matching {@code d}'s guest address and size (REM_MEM_REG). */
    public GuestMemory without(MemoryRegionDescriptor d) throws BadDescriptorException {
        List<Region> l = new ArrayList<>();
        boolean found = false;
        for (Region r : byGuest) {
            if (!found && r.desc.guestAddress() == d.guestAddress() && r.desc.size() == d.size()) {
                found = true;
            } else {
                l.add(r);
            }
        }
        if (!found) {
            throw new BadDescriptorException("no memory region matches " + d);
        }
        return of(l);
    }

    public int regionCount() {
        return byGuest.length;
    }

    /**
     * Views of guest-physical {@code [gpa, gpa + len)}, LITTLE_ENDIAN, in address order: one buffer
     * unless the range is longer than 1 GiB or crosses into an adjacent region. Never copies.
     */
    public ByteBuffer[] view(long gpa, long len) throws BadDescriptorException {
        ViewList out = new ViewList();
        viewInto(gpa, len, false, out);
        return out.toArray();
    }

    /**
     * {@link #view} appending to {@code out}, read-only views when {@code readOnly}: the descriptor
     * walk's form, which costs one buffer object per descriptor and nothing else.
     */
    void viewInto(long gpa, long len, boolean readOnly, ViewList out) throws BadDescriptorException {
        if (len < 0 || len > 0 && Long.compareUnsigned(gpa + len - 1, gpa) < 0) {
            throw new BadDescriptorException("range 0x" + Long.toHexString(gpa) + " +" + len + " wraps around");
        }
        long at = gpa;
        long left = len;
        while (left > 0) { // nearly every descriptor takes one turn
            Region r = find(byGuest, at, false);
            if (r == null) {
                throw new BadDescriptorException("guest range 0x" + Long.toHexString(gpa) + " +" + len
                        + " is not inside guest memory");
            }
            long off = at - r.desc.guestAddress();
            long n = Math.min(left, Math.min(WINDOW_STRIDE, r.desc.size() - off));
            out.add(r.window(off, (int) n, readOnly));
            at += n;
            left -= n;
        }
    }

    /**
     * One view of guest-physical {@code [gpa, gpa + len)} (a ring or a descriptor table), which must
     * lie inside one region; {@code len} is at most 1 GiB so one window always holds it.
     */
    public ByteBuffer viewContiguous(long gpa, int len) throws BadDescriptorException {
        Region r = find(byGuest, gpa, false);
        if (r == null || len < 0 || len > WINDOW_STRIDE || len > r.desc.size() - (gpa - r.desc.guestAddress())) {
            throw new BadDescriptorException("guest range 0x" + Long.toHexString(gpa) + " +" + len
                    + " is not inside one memory region");
        }
        return r.window(gpa - r.desc.guestAddress(), len, false);
    }

    /** The guest-physical address of VMM user address {@code uva}, which must be mapped. */
    public long userToGuest(long uva) throws BadDescriptorException {
        Region r = find(byUser, uva, true);
        if (r == null) {
            throw new BadDescriptorException("user address 0x" + Long.toHexString(uva) + " is not in any region");
        }
        return r.desc.guestAddress() + (uva - r.desc.userAddress());
    }

    private static Region find(Region[] sorted, long addr, boolean user) {
        int lo = 0;
        int hi = sorted.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            MemoryRegionDescriptor d = sorted[mid].desc;
            long start = user ? d.userAddress() : d.guestAddress();
            if (Long.compareUnsigned(addr, start) < 0) {
                hi = mid - 1;
            } else if (Long.compareUnsigned(addr - start, d.size()) >= 0) {
                lo = mid + 1;
            } else {
                return sorted[mid];
            }
        }
        return null;
    }

    /** Takes a reference for a user (a chain in flight, a started ring); false once fully released. */
    public boolean tryRetain() {
        if (this == EMPTY) {
            return true;
        }
        int n;
        do {
            n = refs.get();
            if (n == 0) {
                return false;
            }
        } while (!refs.compareAndSet(n, n + 1));
        return true;
    }

    /** Drops one reference; the last one releases (and possibly unmaps) the regions. */
    public void release() {
        if (this == EMPTY) {
            return;
        }
        int n = refs.decrementAndGet();
        if (n == 0) {
            for (Region r : byGuest) {
                r.release();
            }
        } else if (n < 0) {
            throw new IllegalStateException("GuestMemory released more often than retained");
        }
    }

    /** One mmap'd region, shared by the snapshots that contain it, unmapped when none does. */
    public static final class Region {
        private final MemoryRegionDescriptor desc;
        private final MemoryMaps.Mapping mapping;
        private final ByteBuffer[] windows;
        /** The same windows read-only: a request's readable descriptors are sliced from these. */
        private final ByteBuffer[] readOnlyWindows;
        private final AtomicInteger refs = new AtomicInteger(1);

        private Region(MemoryRegionDescriptor desc, MemoryMaps.Mapping mapping) {
            this.desc = desc;
            this.mapping = mapping;
            int count = (int) ((desc.size() + WINDOW_STRIDE - 1) / WINDOW_STRIDE);
            this.windows = new ByteBuffer[count];
            this.readOnlyWindows = new ByteBuffer[count];
            for (int k = 0; k < count; k++) {
                long start = k * WINDOW_STRIDE;
                // SAFETY: [mmapOffset + start, +len) is inside the mapping of mmapOffset + size bytes.
                windows[k] = mapping.view(desc.mmapOffset() + start, (int) Math.min(WINDOW_LENGTH, desc.size() - start));
                readOnlyWindows[k] = windows[k].asReadOnlyBuffer();
            }
        }

        public MemoryRegionDescriptor descriptor() {
            return desc;
        }

        /** {@code len <= WINDOW_STRIDE} bytes at region offset {@code off}, checked by the caller. */
        private ByteBuffer window(long off, int len, boolean readOnly) {
            int k = (int) (off / WINDOW_STRIDE);
            ByteBuffer w = readOnly ? readOnlyWindows[k] : windows[k];
            // SAFETY: off + len <= size and len <= 1 GiB, so the range ends inside window k.
            return w.slice((int) (off - k * WINDOW_STRIDE), len).order(ByteOrder.LITTLE_ENDIAN);
        }

        void retain() {
            refs.incrementAndGet();
        }

        /** Drops the creator's reference (or a snapshot's); the last one unmaps. */
        public void release() {
            if (refs.decrementAndGet() == 0) {
                mapping.close();
            }
        }
    }
}
