package io.vfsgw.transport.vhostuser.protocol;

import java.nio.ByteBuffer;

/**
 * {@code VhostUserMemoryRegion}: 32 bytes, {@code 0 guest_phys_addr u64 | 8 memory_size u64 |
 * 16 userspace_addr u64 | 24 mmap_offset u64}. The region's bytes are at {@code mmap_offset} in the
 * fd sent beside the message.
 */
public record MemoryRegionDescriptor(long guestAddress, long size, long userAddress, long mmapOffset) {
    public static final int SIZE = 32;

    public static MemoryRegionDescriptor decode(ByteBuffer b, int at) {
        return new MemoryRegionDescriptor(b.getLong(at), b.getLong(at + 8), b.getLong(at + 16), b.getLong(at + 24));
    }

    public void encodeTo(ByteBuffer b, int at) {
        b.putLong(at, guestAddress).putLong(at + 8, size).putLong(at + 16, userAddress).putLong(at + 24, mmapOffset);
    }
}
