package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_init_in} (linux/fuse.h 7.38): 64 bytes; the kernel's INIT offer. Kernels before
 * 7.36 send only the first 16 bytes (no flags2) and kernels before 7.6 only major and minor (8 bytes):
 * {@link #decode} accepts all three by looking at what the request carries.
 */
public record InitIn(int major, int minor, int maxReadahead, int flags, int flags2) {
    public static final int SIZE = 64;
    /** The body before 7.36: major, minor, max_readahead, flags. */
    public static final int COMPAT_SIZE = 16;
    /** The body before 7.6: major and minor only. */
    public static final int COMPAT_5_SIZE = 8;
    // 0 major u32 | 4 minor u32 | 8 max_readahead u32 | 12 flags u32 | 16 flags2 u32 | 20 unused[11] pad

    /**
     * Reads the INIT body at the buffer's position. Takes 64 bytes when at least that many remain,
     * else 16 (flags2 = 0), else 8 for a 7.x kernel older than 7.6; advances past what it read.
     * A body too short for the version it claims is malformed (the session answers EPROTO).
     */
    public static InitIn decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, COMPAT_5_SIZE, "fuse_init_in");
        int p = b.position();
        int major = b.getInt(p);
        int minor = b.getInt(p + 4);
        int have = b.remaining();
        if (have >= SIZE) {
            b.position(p + SIZE);
            return new InitIn(major, minor, b.getInt(p + 8), b.getInt(p + 12), b.getInt(p + 16));
        }
        if (major == 7 && minor >= 36) {
            throw new MalformedRequestException("fuse_init_in: 7." + minor + " needs " + SIZE + " bytes, have " + have);
        }
        if (have >= COMPAT_SIZE) {
            b.position(p + COMPAT_SIZE);
            return new InitIn(major, minor, b.getInt(p + 8), b.getInt(p + 12), 0);
        }
        if (major == 7 && minor >= 6) {
            throw new MalformedRequestException("fuse_init_in: 7." + minor + " needs " + COMPAT_SIZE + " bytes, have " + have);
        }
        b.position(p + COMPAT_5_SIZE);
        return new InitIn(major, minor, 0, 0, 0);
    }

    /** The size a 7.{@code minor} kernel sends. */
    public static int bodySize(int minor) {
        return minor >= 36 ? SIZE : minor >= 6 ? COMPAT_SIZE : COMPAT_5_SIZE;
    }

    /** Writes the body a kernel of this version sends ({@link #bodySize(int)} bytes) and advances; for test peers. */
    public void encodeTo(ByteBuffer b) {
        int p = b.position();
        int size = bodySize(minor);
        b.putInt(p, major).putInt(p + 4, minor);
        if (size >= COMPAT_SIZE) {
            b.putInt(p + 8, maxReadahead).putInt(p + 12, flags);
        }
        if (size >= SIZE) {
            b.putInt(p + 16, flags2);
            for (int off = 20; off < SIZE; off += 4) {
                b.putInt(p + off, 0);
            }
        }
        b.position(p + size);
    }

    /** The 64-bit offer ({@link InitFlags}): flags2 counts only when the kernel set FUSE_INIT_EXT. */
    public long flags64() {
        long low = Integer.toUnsignedLong(flags);
        return (low & InitFlags.FUSE_INIT_EXT) != 0 ? low | (long) flags2 << 32 : low;
    }
}
