package io.vfsgw.transport.vhostuser.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.nativeio.MemoryMaps;
import io.vfsgw.transport.vhostuser.protocol.MemoryRegionDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Ring arithmetic that needs no guest memory: used ring, notification suppression, wrap-around. */
class SplitVirtqueueTest {
    static final int SIZE = 8;
    final ByteBuffer desc = ByteBuffer.allocate(16 * SIZE).order(ByteOrder.LITTLE_ENDIAN);
    final ByteBuffer avail = ByteBuffer.allocate(SplitVirtqueue.availBytes(SIZE)).order(ByteOrder.LITTLE_ENDIAN);
    final ByteBuffer used = ByteBuffer.allocate(SplitVirtqueue.usedBytes(SIZE)).order(ByteOrder.LITTLE_ENDIAN);

    @Test
    void pushUsedWritesElementThenIndexAndWraps() {
        used.putShort(2, (short) 0xfffe); // resume near the 16-bit wrap
        SplitVirtqueue q = new SplitVirtqueue(SIZE, desc, avail, used, 0xfffe, false, true);
        q.pushUsed(3, 100);
        q.pushUsed(5, 200);
        q.pushUsed(7, 300);
        assertEquals(1, used.getShort(2) & 0xffff);
        int slot0 = 4 + 8 * (0xfffe % SIZE);
        assertEquals(3, used.getInt(slot0));
        assertEquals(100, used.getInt(slot0 + 4));
        assertEquals(7, used.getInt(4 + 8 * 0));
        assertEquals(300, used.getInt(4 + 8 * 0 + 4));
    }

    @Test
    void withoutEventIdxTheNoInterruptFlagDecides() {
        SplitVirtqueue q = new SplitVirtqueue(SIZE, desc, avail, used, 0, false, true);
        q.pushUsed(0, 1);
        assertTrue(q.needsNotification(0));
        avail.putShort(0, (short) 1); // VRING_AVAIL_F_NO_INTERRUPT
        assertFalse(q.needsNotification(0));
    }

    @Test
    void withEventIdxNotifiesOnlyWhenCrossingUsedEvent() {
        SplitVirtqueue q = new SplitVirtqueue(SIZE, desc, avail, used, 0, true, true);
        int usedEventAt = 4 + 2 * SIZE;
        avail.putShort(usedEventAt, (short) 2); // driver wants an interrupt once entry 2 is used
        q.pushUsed(0, 1);
        assertFalse(q.needsNotification(0));
        q.pushUsed(1, 1);
        assertFalse(q.needsNotification(1));
        q.pushUsed(2, 1);
        assertTrue(q.needsNotification(2));
        // a batch that jumps over the event also notifies
        avail.putShort(usedEventAt, (short) 4);
        int before = q.nextUsed();
        q.pushUsed(3, 1);
        q.pushUsed(4, 1);
        q.pushUsed(5, 1);
        assertTrue(q.needsNotification(before));
    }

    @Test
    void enableNotificationPublishesAvailEventAndReportsLateArrivals() throws Exception {
        SplitVirtqueue q = new SplitVirtqueue(SIZE, desc, avail, used, 0, true, true);
        assertNull(q.pop(GuestMemory.empty()));
        assertFalse(q.enableNotification());
        assertEquals(0, used.getShort(4 + 8 * SIZE));
        desc.putLong(0, 0x1000).putInt(8, 8);
        avail.putShort(2, (short) 1); // the driver adds an entry after we drained
        assertTrue(q.enableNotification());
        // ...whose descriptor points nowhere: reported with its head so it can be returned empty
        SplitVirtqueue.BadChainException e =
                assertThrows(SplitVirtqueue.BadChainException.class, () -> q.pop(GuestMemory.empty()));
        assertEquals(0, e.head());
        assertEquals(1, q.nextAvail());
        assertFalse(q.enableNotification());
        assertEquals(1, used.getShort(4 + 8 * SIZE), "avail_event = next avail index");
    }

    @Test
    void ringSizesMustBePowersOfTwo() {
        assertThrows(IllegalArgumentException.class, () -> new SplitVirtqueue(6, desc, avail, used, 0, false, false));
        assertThrows(IllegalArgumentException.class, () -> new SplitVirtqueue(0, desc, avail, used, 0, false, false));
    }

    @Test
    void descriptorsAdjacentInGuestMemoryBecomeOneView() throws Exception {
        int fd = MemoryMaps.memfdCreate("q", 1 << 20);
        GuestMemory.Region r = GuestMemory.map(
                new MemoryRegionDescriptor(0, 1 << 20, 0x7000_0000_0000L, 0), fd);
        GuestMemory mem = GuestMemory.of(List.of(r));
        r.release();
        // readable: 0x1000+16, then two pages that follow each other, then one elsewhere;
        // writable: two adjacent pages (the direction change starts a new view).
        long[][] chain = {{0x1000, 16, 0}, {0x2000, 4096, 0}, {0x3000, 4096, 0}, {0x8000, 4096, 0},
                          {0x9000, 4096, 2}, {0xa000, 4096, 2}};
        for (int i = 0; i < chain.length; i++) {
            int flags = (int) chain[i][2] | (i + 1 < chain.length ? 1 : 0);
            desc.putLong(16 * i, chain[i][0]).putInt(16 * i + 8, (int) chain[i][1])
                    .putShort(16 * i + 12, (short) flags).putShort(16 * i + 14, (short) (i + 1));
        }
        mem.viewContiguous(0x2ffc, 8).putLong(0, 0x1122334455667788L); // straddles the two pages
        avail.putShort(4, (short) 0).putShort(2, (short) 1);
        SplitVirtqueue q = new SplitVirtqueue(SIZE, desc, avail, used, 0, true, true);
        DescriptorChain c = q.pop(mem);
        assertEquals(3, c.readable().length, "16 bytes, two adjacent pages as one, one page elsewhere");
        assertEquals(8192, c.readable()[1].remaining());
        assertEquals(0x1122334455667788L, c.readable()[1].getLong(0xffc));
        assertTrue(c.readable()[1].isReadOnly());
        assertEquals(1, c.writable().length);
        assertEquals(8192, c.writable()[0].remaining());
        assertEquals(16 + 3 * 4096, c.readableLength());
        assertEquals(2 * 4096, c.writableLength());
        mem.release();
    }
}
