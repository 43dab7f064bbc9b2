package io.vfsgw.transport.vhostuser.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * Inflight tracking without sockets: the split-queue region's bytes after pop and push, and the
 * recovery after a reconnect, including a buffer full of garbage.
 */
class InflightQueueTest {
    static final int SIZE = 8;
    final ByteBuffer desc = ByteBuffer.allocate(16 * SIZE).order(ByteOrder.LITTLE_ENDIAN);
    final ByteBuffer avail = ByteBuffer.allocate(SplitVirtqueue.availBytes(SIZE)).order(ByteOrder.LITTLE_ENDIAN);
    final ByteBuffer used = ByteBuffer.allocate(SplitVirtqueue.usedBytes(SIZE)).order(ByteOrder.LITTLE_ENDIAN);
    final ByteBuffer region = ByteBuffer.allocate((int) InflightRegion.queueRegionSize(SIZE)).order(ByteOrder.LITTLE_ENDIAN);

    static int descAt(int head) {
        return 16 + 16 * head;
    }

    int inflight(int head) {
        return region.get(descAt(head));
    }

    long counter(int head) {
        return region.getLong(descAt(head) + 8);
    }

    int usedIdxField() {
        return region.getShort(14) & 0xffff;
    }

    int lastBatchHead() {
        return region.getShort(12) & 0xffff;
    }

    void makeInflight(int head, long counter) {
        region.put(descAt(head), (byte) 1).putLong(descAt(head) + 8, counter);
    }

    /** Makes {@code heads} available to the device, from avail index {@code from}. */
    void publish(int from, int... heads) {
        for (int k = 0; k < heads.length; k++) {
            avail.putShort(4 + 2 * ((from + k) % SIZE), (short) heads[k]);
        }
        avail.putShort(2, (short) (from + heads.length));
    }

    /** Pops one chain; with no guest memory every chain is "bad", which still names its head. */
    int popHead(SplitVirtqueue q) {
        for (int i = 0; i < SIZE; i++) {
            desc.putLong(16 * i, 0x1000).putInt(16 * i + 8, 64); // one 64-byte buffer nobody mapped
        }
        return assertThrows(SplitVirtqueue.BadChainException.class, () -> q.pop(GuestMemory.empty())).head();
    }

    @Test
    void regionStrideMatchesLibvhostUser() {
        // ALIGN_UP(16 * queue_size + 2, 64): QEMU's default vhost-user-fs queue of 128 takes 2112 bytes.
        assertEquals(2112, InflightRegion.queueRegionSize(128));
        assertEquals(320, InflightRegion.queueRegionSize(16));
        for (int n = 1; n <= 1024; n++) {
            assertEquals(0, InflightRegion.queueRegionSize(n) % 64);
            assertEquals(true, InflightRegion.queueRegionSize(n) >= 16 + 16L * n, "room for header and states at " + n);
        }
    }

    @Test
    void freshBufferIsInitialisedAndBaseStands() {
        used.putShort(2, (short) 5);
        SplitVirtqueue q = new SplitVirtqueue(SIZE, desc, avail, used, 7, false, true);
        assertEquals(0, q.trackInflight(new InflightQueue(region, SIZE)));
        assertEquals(7, q.nextAvail(), "a fresh buffer says nothing about the base");
        assertEquals(1, region.getShort(8), "version");
        assertEquals(SIZE, region.getShort(10), "desc_num");
        assertEquals(5, usedIdxField(), "used_idx starts in step with the ring");
    }

    @Test
    void popMarksAndPushClearsInSpecOrder() {
        SplitVirtqueue q = new SplitVirtqueue(SIZE, desc, avail, used, 0, false, true);
        q.trackInflight(new InflightQueue(region, SIZE));
        publish(0, 3, 5);
        assertEquals(3, popHead(q));
        assertEquals(5, popHead(q));
        assertEquals(1, inflight(3));
        assertEquals(1, inflight(5));
        assertEquals(1, counter(3));
        assertEquals(2, counter(5), "counters follow the order of popping");

        q.pushUsed(5, 0); // out of order: 5 finishes first
        assertEquals(0, inflight(5));
        assertEquals(1, inflight(3));
        assertEquals(5, lastBatchHead());
        assertEquals(1, usedIdxField());
        q.pushUsed(3, 0);
        assertEquals(0, inflight(3));
        assertEquals(3, lastBatchHead());
        assertEquals(5, region.getShort(descAt(3) + 6), "next links to the previous batch head");
        assertEquals(2, usedIdxField());
        assertEquals(2, used.getShort(2));
    }

    @Test
    void reconnectResubmitsInFlightHeadsOldestFirstThenNewOnes() {
        region.putShort(8, (short) 1);
        used.putShort(2, (short) 10);
        region.putShort(14, (short) 10);
        makeInflight(5, 9);
        makeInflight(2, 7);
        makeInflight(6, 8);
        // QEMU after a back-end crash sends the used idx as base; we resume after the 3 in flight.
        SplitVirtqueue q = new SplitVirtqueue(SIZE, desc, avail, used, 10, false, true);
        assertEquals(3, q.trackInflight(new InflightQueue(region, SIZE)));
        assertEquals(13, q.nextAvail());
        publish(13, 1);
        assertEquals(2, popHead(q));
        assertEquals(6, popHead(q));
        assertEquals(5, popHead(q));
        assertEquals(1, popHead(q), "then the avail ring, from used idx + in flight");
        assertEquals(10, counter(1), "the counter goes on after the largest one found");
        assertEquals(7, counter(2), "resubmitted heads keep their counter");
        q.pushUsed(6, 0);
        assertEquals(0, inflight(6));
        assertEquals(1, inflight(2));
    }

    @Test
    void batchPublishedButNotClearedIsRepaired() {
        region.putShort(8, (short) 1);
        used.putShort(2, (short) 10);
        region.putShort(14, (short) 9); // crashed between used idx and clearing
        region.putShort(12, (short) 4);
        makeInflight(4, 3);
        makeInflight(1, 5);
        InflightQueue t = new InflightQueue(region, SIZE);
        assertArrayEquals(new int[] {1}, t.recover(SIZE, 10));
        assertEquals(0, inflight(4));
        assertEquals(10, usedIdxField());
    }

    @Test
    void garbageBufferIsReadWithinBounds() {
        for (int i = 0; i < region.capacity(); i++) {
            region.put(i, (byte) 0xff);
        }
        makeInflight(7, 1);
        makeInflight(0, 2);
        region.putShort(descAt(7) + 6, (short) 7); // a loop in the batch list
        region.putShort(12, (short) 7);
        InflightQueue t = new InflightQueue(region, SIZE);
        // used_idx 0xffff vs ring 3: a "batch" of 4 walking a loop; ring of 4 entries ignores head 7.
        int[] heads = t.recover(4, 3);
        assertArrayEquals(new int[] {0}, heads);
        assertEquals(3, usedIdxField());
        region.putShort(12, (short) 0xffff); // head out of range: nothing cleared, no exception
        region.putShort(14, (short) 0);
        assertArrayEquals(new int[] {0}, t.recover(4, 3));
        t.markInflight(SIZE + 3); // out of range for the buffer: ignored
        t.beforeUsed(SIZE + 3);
        t.afterUsed(SIZE + 3, 4);
        assertEquals(4, usedIdxField());
    }

    @Test
    void untrackedQueueLeavesNothingBehind() {
        SplitVirtqueue q = new SplitVirtqueue(SIZE, desc, avail, used, 0, false, true);
        publish(0, 2);
        assertEquals(2, popHead(q));
        q.pushUsed(2, 0);
        for (int i = 0; i < region.capacity(); i++) {
            assertEquals(0, region.get(i));
        }
        assertNull(new InflightQueue(region, SIZE).recover(SIZE, 1), "still a fresh buffer");
    }
}
