package io.vfsgw.transport.vhostuser.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VhostUserInflight} (GET_INFLIGHT_FD / SET_INFLIGHT_FD): 24 bytes, {@code 0 mmap_size u64 |
 * 8 mmap_offset u64 | 16 num_queues u16 | 18 queue_size u16 | 20 pad}. The request of GET_INFLIGHT_FD
 * only fills num_queues and queue_size; its reply and SET_INFLIGHT_FD describe the buffer in the fd
 * that travels beside the message. The size is QEMU's and libvhost-user's {@code sizeof}, padding
 * included.
 */
public record VhostUserInflight(long mmapSize, long mmapOffset, int numQueues, int queueSize) {
    public static final int SIZE = 24;

    public static VhostUserInflight decode(ByteBuffer b, int at) {
        return new VhostUserInflight(b.getLong(at), b.getLong(at + 8), b.getShort(at + 16) & 0xffff,
                b.getShort(at + 18) & 0xffff);
    }

    public void encodeTo(ByteBuffer b, int at) {
        b.putLong(at, mmapSize).putLong(at + 8, mmapOffset).putShort(at + 16, (short) numQueues)
                .putShort(at + 18, (short) queueSize).putInt(at + 20, 0);
    }
}
