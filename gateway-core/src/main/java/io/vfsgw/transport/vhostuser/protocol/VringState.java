package io.vfsgw.transport.vhostuser.protocol;

import java.nio.ByteBuffer;

/**
 * {@code struct vhost_vring_state}: 8 bytes, {@code 0 index u32 | 4 num u32}. Used by SET_VRING_NUM,
 * SET_VRING_BASE, GET_VRING_BASE and SET_VRING_ENABLE.
 */
public record VringState(int index, int num) {
    public static final int SIZE = 8;

    public static VringState decode(ByteBuffer b, int at) {
        return new VringState(b.getInt(at), b.getInt(at + 4));
    }

    public void encodeTo(ByteBuffer b, int at) {
        b.putInt(at, index).putInt(at + 4, num);
    }
}
