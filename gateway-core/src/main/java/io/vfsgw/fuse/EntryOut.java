package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_entry_out} (linux/fuse.h 7.38): 128 bytes. Reply to LOOKUP, MKNOD, MKDIR,
 * SYMLINK, LINK (and the first half of a CREATE reply): a node id and its attributes, with cache
 * timeouts. Kernels before 7.9 expect only the first 120 bytes: use {@link #encodeTo(ByteBuffer,
 * int)}.
 */
public record EntryOut(
        long nodeid,
        long generation,
        long entryValid,
        long attrValid,
        int entryValidNsec,
        int attrValidNsec,
        FuseAttr attr) {
    public static final int SIZE = 128;
    // 0 nodeid u64 | 8 generation u64 | 16 entry_valid u64 | 24 attr_valid u64 | 32 entry_valid_nsec u32
    // 36 attr_valid_nsec u32 | 40 attr struct fuse_attr

    /** Reads at the buffer's position (buffer already LITTLE_ENDIAN) and advances past the struct. */
    public static EntryOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_entry_out");
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

    static EntryOut readAt(ByteBuffer b, int p) {
        return new EntryOut(b.getLong(p),
                b.getLong(p + 8),
                b.getLong(p + 16),
                b.getLong(p + 24),
                b.getInt(p + 32),
                b.getInt(p + 36),
                FuseAttr.readAt(b, p + 40));
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, nodeid);
        b.putLong(p + 8, generation);
        b.putLong(p + 16, entryValid);
        b.putLong(p + 24, attrValid);
        b.putInt(p + 32, entryValidNsec);
        b.putInt(p + 36, attrValidNsec);
        attr.writeAt(b, p + 40);
    }

    /** {@code FUSE_COMPAT_ENTRY_OUT_SIZE}: what kernels before 7.9 expect. */
    public static final int COMPAT_SIZE = 120;

    /** Bytes of this reply a kernel speaking 7.{@code minor} expects. */
    public static int replySize(int minor) {
        return minor < 9 ? COMPAT_SIZE : SIZE;
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
