package io.vfsgw.fuse;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * {@code struct fuse_dirent} (linux/fuse.h 7.38): 24-byte header, then {@code namelen} name bytes,
 * then zeros up to the next 8-byte boundary; READDIR replies are a run of these. {@code off} is the
 * cookie the kernel passes back to continue after this entry; {@code type} is the d_type (S_IFMT
 * bits &gt;&gt; 12). The name is a component (raw bytes, no NUL), so equality compares its content.
 */
public record Dirent(long ino, long off, int type, byte[] name) {
    /** FUSE_NAME_OFFSET: the header before the name. */
    public static final int SIZE = 24;
    // 0 ino u64 | 8 off u64 | 16 namelen u32 | 20 type u32 | 24 name[namelen] | zero padding to 8

    /** FUSE_DIRENT_SIZE: bytes one entry with a name of {@code nameLength} bytes takes in a reply. */
    public static int encodedSize(int nameLength) {
        return FuseProtocol.direntAlign(SIZE + nameLength);
    }

    /** {@link #encodedSize(int)} of this entry; check it against the room left before encoding. */
    public int encodedSize() {
        return encodedSize(name.length);
    }

    /** Writes header, name and zero padding ({@link #encodedSize()} bytes) at the position and advances. */
    public void encodeTo(ByteBuffer b) {
        int p = b.position();
        writeAt(b, p);
        b.position(p + encodedSize());
    }

    void writeAt(ByteBuffer b, int p) {
        b.putLong(p, ino).putLong(p + 8, off).putInt(p + 16, name.length).putInt(p + 20, type);
        b.put(p + SIZE, name);
        for (int i = p + SIZE + name.length, end = p + encodedSize(); i < end; i++) {
            b.put(i, (byte) 0);
        }
    }

    /** Reads one entry with its name and padding; for test peers reading READDIR replies. */
    public static Dirent decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, SIZE, "fuse_dirent");
        int p = b.position();
        Dirent d = readAt(b, p, b.limit());
        b.position(p + d.encodedSize());
        return d;
    }

    /** Reads the entry at {@code p}, which must end (padding included) by {@code limit}. */
    static Dirent readAt(ByteBuffer b, int p, int limit) throws MalformedRequestException {
        int namelen = b.getInt(p + 16);
        if (namelen < 0 || namelen > limit - p - SIZE) {
            throw new MalformedRequestException("fuse_dirent: namelen " + Integer.toUnsignedString(namelen)
                    + " exceeds the " + (limit - p - SIZE) + " bytes left");
        }
        if (encodedSize(namelen) > limit - p) {
            throw new MalformedRequestException("fuse_dirent: padding runs past the end");
        }
        byte[] name = new byte[namelen];
        b.get(p + SIZE, name);
        return new Dirent(b.getLong(p), b.getLong(p + 8), b.getInt(p + 20), name);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dirent d && ino == d.ino && off == d.off && type == d.type && Arrays.equals(name, d.name);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(ino) * 31 + Arrays.hashCode(name);
    }

    @Override
    public String toString() {
        return "Dirent[ino=" + ino + ", off=" + off + ", type=" + type + ", name="
                + new String(name, java.nio.charset.StandardCharsets.UTF_8) + "]";
    }
}
