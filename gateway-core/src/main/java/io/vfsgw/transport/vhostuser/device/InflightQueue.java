package io.vfsgw.transport.vhostuser.device;

import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * One queue's {@code QueueRegionSplit} in the inflight buffer (vhost-user.rst "Inflight I/O
 * tracking"): which descriptor heads the back end has popped and not yet returned, so that a back
 * end that restarts, or a front end that reconnects, can resubmit them.
 *
 * <h2>Layout</h2>
 * <pre>
 * QueueRegionSplit  0 features u64 | 8 version u16 | 10 desc_num u16 | 12 last_batch_head u16 | 14 used_idx u16
 *                   16 desc[desc_num]
 * DescStateSplit    0 inflight u8 | 1 padding u8[5] | 6 next u16 | 8 counter u64        (16 bytes)
 * </pre>
 *
 * <h2>Protocol (split ring, batches of one)</h2>
 * Pop: {@code desc[head].counter = counter++}, then {@code inflight = 1}, before the request is
 * handed to the device. Push: {@code desc[head].next = last_batch_head; last_batch_head = head};
 * the caller then writes the used element and the used ring's idx; then {@code inflight = 0}; then
 * {@code used_idx = } the used ring's idx. A restart between the used idx store and the clearing
 * leaves {@code used_idx} behind the ring's idx, which {@link #recover} detects and repairs by
 * clearing the last batch. Every step is separated by a release fence so neither javac nor the JIT
 * reorders the stores: the buffer is read by the next incarnation of the back end, and stores a
 * killed process made in program order reach the shared page in that order.
 *
 * <h2>Trust</h2>
 * The buffer comes from the front end and may hold anything after a reconnect: every head, list
 * link and count read from it is bounds-checked, and the guest never sees it. Called by one ring's
 * threads with the ring's discipline: {@link #recover} before the ring starts, {@link #markInflight}
 * by the thread popping (under the crew's ring lock), {@link #beforeUsed}/{@link #afterUsed} under the ring's lock.
 */
final class InflightQueue {
    static final int HEADER = 16;
    static final int DESC_STATE = 16;
    static final int VERSION = 1;
    private static final int VERSION_AT = 8;
    private static final int DESC_NUM_AT = 10;
    private static final int LAST_BATCH_HEAD_AT = 12;
    private static final int USED_IDX_AT = 14;

    private final ByteBuffer region;
    private final int descNum;
    /** The next counter value to hand out (under the ring lock after {@link #recover}). */
    private long counter = 1;

    /** @param region a LITTLE_ENDIAN view of at least {@code HEADER + DESC_STATE * descNum} bytes */
    InflightQueue(ByteBuffer region, int descNum) {
        if (region.capacity() < HEADER + (long) DESC_STATE * descNum) {
            throw new IllegalArgumentException("inflight region of " + region.capacity() + " bytes for " + descNum);
        }
        this.region = region;
        this.descNum = descNum;
    }

    /** How many descriptor heads this region can track (the queue_size the buffer was made for). */
    int descNum() {
        return descNum;
    }

    private static int at(int head) {
        return HEADER + DESC_STATE * head;
    }

    /**
     * Prepares tracking for a ring of {@code ringSize} entries whose used idx is {@code ringUsedIdx}.
     * A fresh buffer (version 0) is initialised and null is returned: nothing to resume. Otherwise the
     * buffer has been in use: the last batch is repaired if it was published but not cleared, and the
     * heads still in flight are returned oldest first (by counter). Heads at or above {@code ringSize}
     * cannot be resubmitted on this ring and are ignored.
     */
    int[] recover(int ringSize, int ringUsedIdx) {
        if ((region.getShort(VERSION_AT) & 0xffff) == 0) {
            region.putLong(0, 0);
            region.putShort(DESC_NUM_AT, (short) descNum);
            region.putShort(LAST_BATCH_HEAD_AT, (short) 0);
            // Start in step with the ring, or the first recovery would "repair" a batch never pushed.
            region.putShort(USED_IDX_AT, (short) ringUsedIdx);
            VarHandle.releaseFence();
            region.putShort(VERSION_AT, (short) VERSION);
            counter = 1;
            return null;
        }
        int regionUsed = region.getShort(USED_IDX_AT) & 0xffff;
        if (regionUsed != ringUsedIdx) {
            // The last batch reached the used ring but its inflight flags were not all cleared.
            int batch = (ringUsedIdx - regionUsed) & 0xffff;
            int head = region.getShort(LAST_BATCH_HEAD_AT) & 0xffff;
            for (int k = 0; k < batch && k < descNum && head < descNum; k++) {
                region.put(at(head), (byte) 0);
                head = region.getShort(at(head) + 6) & 0xffff;
            }
            VarHandle.releaseFence();
            region.putShort(USED_IDX_AT, (short) ringUsedIdx);
        }
        List<long[]> heads = new ArrayList<>();
        int limit = Math.min(ringSize, descNum);
        for (int i = 0; i < limit; i++) {
            if (region.get(at(i)) == 1) {
                heads.add(new long[] {region.getLong(at(i) + 8), i});
            }
        }
        heads.sort((a, b) -> Long.compareUnsigned(a[0], b[0]));
        long max = heads.isEmpty() ? 0 : heads.get(heads.size() - 1)[0];
        counter = max + 1;
        int[] out = new int[heads.size()];
        for (int k = 0; k < out.length; k++) {
            out[k] = (int) heads.get(k)[1];
        }
        return out;
    }

    /** Records that {@code head} (already checked to be below the ring size) was just popped. */
    void markInflight(int head) {
        if (head >= descNum) {
            return;
        }
        region.putLong(at(head) + 8, counter++);
        VarHandle.releaseFence();
        region.put(at(head), (byte) 1);
    }

    /** Before {@code head}'s used element is written: it becomes the (one-entry) last batch. */
    void beforeUsed(int head) {
        if (head >= descNum) {
            return;
        }
        region.putShort(at(head) + 6, region.getShort(LAST_BATCH_HEAD_AT));
        region.putShort(LAST_BATCH_HEAD_AT, (short) head);
    }

    /** After the used ring's idx became {@code usedIdx} covering {@code head}: clear it, then catch up. */
    void afterUsed(int head, int usedIdx) {
        VarHandle.releaseFence();
        if (head < descNum) {
            region.put(at(head), (byte) 0);
        }
        VarHandle.releaseFence();
        region.putShort(USED_IDX_AT, (short) usedIdx);
    }
}
