package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_direntplus} (linux/fuse.h 7.38): a 128-byte {@link EntryOut} then a
 * {@link Dirent} (header at 128, name at 152), padded to 8 bytes; READDIRPLUS replies are a run of
 * these. Each entry with a nonzero nodeid counts as a LOOKUP of that node; an entry whose
 * {@code entryOut.nodeid} is 0 is listed without being looked up.
 */
public record Direntplus(EntryOut entryOut, Dirent dirent) {
    /** FUSE_NAME_OFFSET_DIRENTPLUS: the headers before the name. */
    public static final int SIZE = EntryOut.SIZE + Dirent.SIZE;
    // 0 entry_out struct fuse_entry_out | 128 dirent struct fuse_dirent (name at 152) | zero padding to 8

    /** FUSE_DIRENTPLUS_SIZE: bytes one entry with a name of {@code nameLength} bytes takes in a reply. */
    public static int encodedSize(int nameLength) {
        return FuseProtocol.direntAlign(SIZE + nameLength);
    }

    /** {@link #encodedSize(int)} of this entry; check it against the room left before encoding. */
    public int encodedSize() {
        return encodedSize(dirent.name().length);
    }

    /** Writes both headers, the name and zero padding ({@link #encodedSize()} bytes) and advances. */
    public void encodeTo(ByteBuffer b) {
        int p = b.position();
        entryOut.writeAt(b, p);
        dirent.writeAt(b, p + EntryOut.SIZE);
        b.position(p + encodedSize());
    }

    /** Reads one entry with its name and padding; for test peers reading READDIRPLUS replies. */
    public static Direntplus decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_direntplus");
        int p = b.position();
        Direntplus d = new Direntplus(EntryOut.readAt(b, p), Dirent.readAt(b, p + EntryOut.SIZE, b.limit()));
        b.position(p + d.encodedSize());
        return d;
    }
}
