package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_notify_poll_wakeup_out} (linux/fuse.h 7.38): 8 bytes. Body of the
 * FUSE_NOTIFY_POLL notification.
 */
public record NotifyPollWakeupOut(long kh) {
    public static final int SIZE = 8;
    // 0 kh u64

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static NotifyPollWakeupOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_notify_poll_wakeup_out");
        int p = b.position();
        b.position(p + SIZE);
        return readAt(b, p);
    }

    /** Writes at the buffer's position (buffer already LITTLE_ENDIAN, {@link #SIZE} bytes of room) and advances. */
    public void encodeTo(ByteBuffer b) {
        int p = b.position();
        writeAt(b, p);
        b.position(p + SIZE);
    }

    static NotifyPollWakeupOut readAt(ByteBuffer b, int p) {
        return new NotifyPollWakeupOut(b.getLong(p));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, kh);
    }
}
