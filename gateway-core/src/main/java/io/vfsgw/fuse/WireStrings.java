package io.vfsgw.fuse;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * NUL-terminated strings inside request bodies: entry names (LOOKUP, MKDIR, CREATE, ...), two
 * consecutive names (RENAME: old then new; SYMLINK: new entry then target), xattr names. Every read
 * is bounded by the bytes left and by a maximum, and a missing NUL is malformed; the returned bytes
 * exclude the NUL. Content checks ('/', empty, ".") belong to {@code spi.FileName}, not here.
 */
public final class WireStrings {
    private WireStrings() {
    }

    /** NAME_MAX: longest path component; longer names get ENAMETOOLONG from {@code spi.FileName}. */
    public static final int NAME_MAX = 255;
    /**
     * FUSE_NAME_MAX (fs/fuse/fuse_i.h): the longest name the kernel sends. The kernel does not
     * enforce NAME_MAX for FUSE, so a 256-byte name is a valid request that must be answered
     * ENAMETOOLONG, not a malformed one (which would answer EIO).
     */
    public static final int FUSE_NAME_MAX = 1024;
    /** PATH_MAX counts the NUL, so a symlink target has at most 4095 bytes. */
    public static final int PATH_MAX = 4096;
    /** XATTR_NAME_MAX: longest xattr name, namespace prefix included. */
    public static final int XATTR_NAME_MAX = 255;
    /** XATTR_SIZE_MAX: largest xattr value the kernel passes. */
    public static final int XATTR_SIZE_MAX = 65536;

    /** Two names that follow each other in a body. */
    public record TwoNames(byte[] first, byte[] second) {
        @Override
        public boolean equals(Object o) {
            return o instanceof TwoNames t && Arrays.equals(first, t.first) && Arrays.equals(second, t.second);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(first) * 31 + Arrays.hashCode(second);
        }

        @Override
        public String toString() {
            return "TwoNames[" + WireStrings.toString(first) + ", " + WireStrings.toString(second) + "]";
        }
    }

    /**
     * Reads a NUL-terminated string of at most {@code max} bytes (NUL excluded) at the position and
     * advances past the NUL.
     *
     * @throws MalformedRequestException when no NUL comes within {@code max + 1} bytes or before the limit
     */
    public static byte[] readCString(ByteBuffer b, int max, String what) throws MalformedRequestException {
        int p = b.position();
        int scan = Math.min(b.remaining(), max + 1);
        for (int i = 0; i < scan; i++) {
            if (b.get(p + i) == 0) {
                byte[] s = new byte[i];
                b.get(p, s);
                b.position(p + i + 1);
                return s;
            }
        }
        if (b.remaining() > max) {
            throw new MalformedRequestException(what + ": longer than " + max + " bytes");
        }
        throw new MalformedRequestException(what + ": no NUL terminator in " + b.remaining() + " bytes");
    }

    /** An entry name (at most {@link #FUSE_NAME_MAX} bytes on the wire). */
    public static byte[] readName(ByteBuffer b) throws MalformedRequestException {
        return readCString(b, FUSE_NAME_MAX, "name");
    }

    /** RENAME/RENAME2 (after the struct): the old name then the new name (each as {@link #readName}). */
    public static TwoNames readTwoNames(ByteBuffer b) throws MalformedRequestException {
        return readTwo(b, FUSE_NAME_MAX, "first name", FUSE_NAME_MAX, "second name");
    }

    /** SYMLINK: the new entry's name (as {@link #readName}), then the link target (at most {@code PATH_MAX - 1} bytes). */
    public static TwoNames readNameAndTarget(ByteBuffer b) throws MalformedRequestException {
        return readTwo(b, FUSE_NAME_MAX, "symlink name", PATH_MAX - 1, "symlink target");
    }

    /** Both or neither: a failure leaves the position where it was, like every other decoder. */
    private static TwoNames readTwo(ByteBuffer b, int max1, String what1, int max2, String what2)
            throws MalformedRequestException {
        int start = b.position();
        byte[] first = readCString(b, max1, what1);
        try {
            return new TwoNames(first, readCString(b, max2, what2));
        } catch (MalformedRequestException e) {
            b.position(start);
            throw e;
        }
    }

    /** An xattr name (GETXATTR, SETXATTR, REMOVEXATTR), at most {@link #XATTR_NAME_MAX} bytes. */
    public static byte[] readXattrName(ByteBuffer b) throws MalformedRequestException {
        return readCString(b, XATTR_NAME_MAX, "xattr name");
    }

    /** For logs: the bytes as UTF-8 with invalid sequences replaced. */
    public static String toString(byte[] s) {
        return new String(s, java.nio.charset.StandardCharsets.UTF_8);
    }
}
