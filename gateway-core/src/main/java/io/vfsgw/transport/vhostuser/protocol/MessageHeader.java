package io.vfsgw.transport.vhostuser.protocol;

import java.nio.ByteBuffer;

/** The vhost-user message header: 12 bytes. {@code 0 request u32 | 4 flags u32 | 8 size u32}. */
public record MessageHeader(int request, int flags, int size) {
    public static final int SIZE = 12;
    public static final int VERSION_MASK = 0x3;
    public static final int VERSION = 0x1;
    public static final int REPLY = 0x4;
    public static final int NEED_REPLY = 0x8;

    /** Reads at absolute offset 0 of a LITTLE_ENDIAN buffer. */
    public static MessageHeader decode(ByteBuffer b) {
        return new MessageHeader(b.getInt(0), b.getInt(4), b.getInt(8));
    }

    /** Writes at absolute offset 0 of a LITTLE_ENDIAN buffer. */
    public void encodeTo(ByteBuffer b) {
        b.putInt(0, request).putInt(4, flags).putInt(8, size);
    }

    public boolean needsReply() {
        return (flags & NEED_REPLY) != 0;
    }
}
