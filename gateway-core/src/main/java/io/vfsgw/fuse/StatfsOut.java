package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_statfs_out} (linux/fuse.h 7.38): 80 bytes. Reply to STATFS. Kernels before
 * 7.4 expect only the first 48 bytes: use {@link #encodeTo(ByteBuffer, int)}.
 */
public record StatfsOut(Kstatfs st) {
    public static final int SIZE = 80;
    // 0 st struct fuse_kstatfs

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static StatfsOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_statfs_out");
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

    static StatfsOut readAt(ByteBuffer b, int p) {
        return new StatfsOut(Kstatfs.readAt(b, p));
    }

    void writeAt(ByteBuffer b, int p) {
        st.writeAt(b, p);
    }

    /** {@code FUSE_COMPAT_STATFS_SIZE}: what kernels before 7.4 expect. */
    public static final int COMPAT_SIZE = 48;

    /** Bytes of this reply a kernel speaking 7.{@code minor} expects. */
    public static int replySize(int minor) {
        return minor < 4 ? COMPAT_SIZE : SIZE;
    }

    /**
     * Writes the reply for protocol 7.{@code minor} and advances by {@link #replySize(int)}. Needs
     * {@link #SIZE} bytes of room: the compat layout is a prefix, and the tail is written then left
     * outside the reply.
     */
    public void encodeTo(ByteBuffer b, int minor) {
        int p = b.position();
        writeAt(b, p);
        b.position(p + replySize(minor));
    }
}
