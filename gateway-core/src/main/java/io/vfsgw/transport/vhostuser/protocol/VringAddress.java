package io.vfsgw.transport.vhostuser.protocol;

import java.nio.ByteBuffer;

/**
 * {@code struct vhost_vring_addr}: 40 bytes, {@code 0 index u32 | 4 flags u32 | 8 desc u64 |
 * 16 used u64 | 24 avail u64 | 32 log u64}. The three ring addresses are the front end's (VMM's)
 * virtual addresses, translated through the memory table's user addresses.
 */
public record VringAddress(int index, int flags, long descUserAddr, long usedUserAddr, long availUserAddr,
                           long logGuestAddr) {
    public static final int SIZE = 40;

    public static VringAddress decode(ByteBuffer b, int at) {
        return new VringAddress(b.getInt(at), b.getInt(at + 4), b.getLong(at + 8), b.getLong(at + 16),
                b.getLong(at + 24), b.getLong(at + 32));
    }

    public void encodeTo(ByteBuffer b, int at) {
        b.putInt(at, index).putInt(at + 4, flags).putLong(at + 8, descUserAddr).putLong(at + 16, usedUserAddr)
                .putLong(at + 24, availUserAddr).putLong(at + 32, logGuestAddr);
    }
}
