package io.vfsgw.transport.vhostuser.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.nativeio.MemoryMaps;
import io.vfsgw.nativeio.UnixSockets;
import io.vfsgw.transport.vhostuser.protocol.MemoryRegionDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class GuestMemoryTest {
    static final long MB = 1L << 20;

    /** A memfd of {@code size} bytes, mapped as a region; {@code check} gets a second mapping to verify writes. */
    private static GuestMemory.Region region(long gpa, long size, long uva, long mmapOffset) throws Exception {
        int fd = MemoryMaps.memfdCreate("gm", size + mmapOffset);
        return GuestMemory.map(new MemoryRegionDescriptor(gpa, size, uva, mmapOffset), fd);
    }

    @Test
    void readOnlyViewsSeeGuestMemoryButCannotWriteIt() throws Exception {
        GuestMemory.Region a = region(0, MB, 0x7000_0000_0000L, 0);
        GuestMemory m = GuestMemory.of(List.of(a));
        a.release();
        m.viewContiguous(200, 8).putLong(0, 0x1122334455667788L);
        ViewList out = new ViewList();
        m.viewInto(200, 8, true, out);
        m.viewInto(300, 8, false, out);
        ByteBuffer[] views = out.toArray();
        assertEquals(2, views.length);
        assertTrue(views[0].isReadOnly());
        assertEquals(ByteOrder.LITTLE_ENDIAN, views[0].order());
        assertEquals(0x1122334455667788L, views[0].getLong(0));
        assertThrows(java.nio.ReadOnlyBufferException.class, () -> views[0].putLong(0, 1));
        assertFalse(views[1].isReadOnly());
        assertThrows(BadDescriptorException.class, () -> m.viewInto(MB - 4, 8, true, out), "runs off the end");
        m.release();
    }

    @Test
    void translatesGuestAndUserAddressesWithBoundsChecks() throws Exception {
        GuestMemory.Region a = region(0, MB, 0x7000_0000_0000L, 0);
        GuestMemory.Region b = region(4 * MB, 2 * MB, 0x7100_0000_0000L, 4096 + 12);
        GuestMemory m = GuestMemory.of(List.of(b, a));
        a.release();
        b.release();

        ByteBuffer[] v = m.view(4 * MB + 100, 8);
        assertEquals(1, v.length);
        assertEquals(ByteOrder.LITTLE_ENDIAN, v[0].order());
        v[0].putLong(0, 0x0102030405060708L);
        assertEquals(0x0102030405060708L, m.viewContiguous(4 * MB + 100, 8).getLong(0));
        assertEquals(4 * MB + 16, m.userToGuest(0x7100_0000_0010L));

        assertThrows(BadDescriptorException.class, () -> m.view(MB - 4, 8), "runs off the end of region a");
        assertThrows(BadDescriptorException.class, () -> m.view(2 * MB, 1), "hole between regions");
        assertThrows(BadDescriptorException.class, () -> m.view(-8, 16), "wraps past 2^64");
        assertThrows(BadDescriptorException.class, () -> m.view(0, -1));
        assertThrows(BadDescriptorException.class, () -> m.userToGuest(0x7000_0010_0000L));
        assertEquals(0, m.view(123 * MB, 0).length, "an empty range needs no memory");
        m.release();
    }

    @Test
    void adjacentRegionsAreViewedAsTwoBuffers() throws Exception {
        GuestMemory.Region a = region(0, MB, 0x1000_0000L, 0);
        GuestMemory.Region b = region(MB, MB, 0x2000_0000L, 0);
        GuestMemory m = GuestMemory.of(List.of(a, b));
        a.release();
        b.release();
        ByteBuffer[] v = m.view(MB - 10, 20);
        assertEquals(2, v.length);
        assertEquals(10, v[0].remaining());
        assertEquals(10, v[1].remaining());
        assertThrows(BadDescriptorException.class, () -> m.viewContiguous(MB - 10, 20));
        m.release();
    }

    @Test
    void overlappingRegionsAndBadSizesAreRefused() throws Exception {
        GuestMemory.Region a = region(0, MB, 0x1000_0000L, 0);
        GuestMemory.Region b = region(MB / 2, MB, 0x2000_0000L, 0);
        GuestMemory.Region c = region(8 * MB, MB, 0x1000_0000L + 4096, 0);
        assertThrows(BadDescriptorException.class, () -> GuestMemory.of(List.of(a, b)));
        assertThrows(BadDescriptorException.class, () -> GuestMemory.of(List.of(a, c)));
        a.release();
        b.release();
        c.release();
        int fd = MemoryMaps.memfdCreate("gm", 4096);
        assertThrows(BadDescriptorException.class,
                () -> GuestMemory.map(new MemoryRegionDescriptor(-4096, 8192, 0, 0), fd), "guest range wraps");
        int fd2 = MemoryMaps.memfdCreate("gm", 4096);
        assertThrows(BadDescriptorException.class,
                () -> GuestMemory.map(new MemoryRegionDescriptor(0, 4096, 0, Long.MAX_VALUE), fd2), "offset overflows");
        int fd3 = MemoryMaps.memfdCreate("gm", 4096);
        UnixSockets.close(fd3);
        assertThrows(BadDescriptorException.class,
                () -> GuestMemory.map(new MemoryRegionDescriptor(0, 4096, 0, 0), fd3), "fd that cannot be mapped");
    }

    @Test
    void regionsLargerThanTwoGibAreViewedThroughOverlappingWindows() throws Exception {
        long size = 5L << 30; // sparse memfd: only touched pages use memory
        GuestMemory.Region r = region(0, size, 0x7000_0000_0000L, 0);
        GuestMemory m = GuestMemory.of(List.of(r));
        r.release();
        long nearEnd = size - 16;
        m.view(nearEnd, 16)[0].putLong(8, 77);
        assertEquals(77, m.viewContiguous(nearEnd + 8, 8).getLong(0));
        // A range straddling the 1 GiB and 2 GiB marks is still one view (windows overlap by 1 GiB).
        assertEquals(1, m.view((1L << 30) - 4096, 8192).length);
        assertEquals(1, m.view((2L << 30) - 1, 1 << 20).length);
        // Longer than 1 GiB: several views, together exactly the range.
        ByteBuffer[] big = m.view(100, (3L << 30) + 5);
        long total = 0;
        for (ByteBuffer b : big) {
            total += b.remaining();
        }
        assertEquals((3L << 30) + 5, total);
        assertTrue(big.length >= 3);
        m.release();
    }

    @Test
    void snapshotsShareRegionsAndRefuseRetainAfterTheLastRelease() throws Exception {
        GuestMemory.Region a = region(0, MB, 0x1000_0000L, 0);
        GuestMemory first = GuestMemory.of(List.of(a));
        a.release();
        GuestMemory.Region b = region(2 * MB, MB, 0x2000_0000L, 0);
        GuestMemory second = first.with(b);
        b.release();
        assertEquals(2, second.regionCount());

        assertTrue(first.tryRetain()); // a request in flight on the old snapshot
        first.release(); // the holder swaps to `second`
        ByteBuffer stillMapped = first.viewContiguous(0, 8);
        stillMapped.putLong(0, 5); // region a is still mapped: the request's view works
        first.release(); // the request completes
        assertFalse(first.tryRetain());
        assertEquals(5, second.viewContiguous(0, 8).getLong(0), "region a lives on in the new snapshot");

        GuestMemory third = second.without(new MemoryRegionDescriptor(0, MB, 0, 0));
        assertEquals(1, third.regionCount());
        assertThrows(BadDescriptorException.class, () -> third.without(new MemoryRegionDescriptor(0, MB, 0, 0)));
        second.release();
        third.release();
        assertThrows(IllegalStateException.class, third::release);
    }
}
