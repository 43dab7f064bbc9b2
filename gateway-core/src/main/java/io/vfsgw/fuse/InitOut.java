package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * {@code struct fuse_init_out} (linux/fuse.h 7.38): 64 bytes; the daemon's INIT answer, built by
 * {@link InitNegotiation}. Old kernels read only a prefix: 8 bytes before 7.5, 24 before 7.23, so
 * {@link #encodeTo} writes {@link #replySize(int)} bytes for this reply's own {@code minor} (which
 * never exceeds the kernel's). u16 fields are held in an {@code int} (0..65535).
 */
public record InitOut(int major, int minor, int maxReadahead, int flags, int maxBackground,
                      int congestionThreshold, int maxWrite, int timeGran, int maxPages, int mapAlignment,
                      int flags2) {
    public static final int SIZE = 64;
    /** FUSE_COMPAT_INIT_OUT_SIZE: kernels before 7.5 read major and minor only. */
    public static final int FUSE_COMPAT_INIT_OUT_SIZE = 8;
    /** FUSE_COMPAT_22_INIT_OUT_SIZE: kernels before 7.23 read up to max_write. */
    public static final int FUSE_COMPAT_22_INIT_OUT_SIZE = 24;
    // 0 major u32 | 4 minor u32 | 8 max_readahead u32 | 12 flags u32 | 16 max_background u16
    // 18 congestion_threshold u16 | 20 max_write u32 | 24 time_gran u32 | 28 max_pages u16
    // 30 map_alignment u16 | 32 flags2 u32 | 36 unused[7] pad

    /** Bytes of INIT reply a 7.{@code kernelMinor} kernel accepts (as libfuse's do_init computes it). */
    public static int replySize(int kernelMinor) {
        if (kernelMinor < 5) {
            return FUSE_COMPAT_INIT_OUT_SIZE;
        }
        return kernelMinor < 23 ? FUSE_COMPAT_22_INIT_OUT_SIZE : SIZE;
    }

    /** {@link #replySize(int)} for this reply's minor: what {@link #encodeTo} writes. */
    public int encodedSize() {
        return replySize(minor);
    }

    /** Writes {@link #encodedSize()} bytes at the position and advances. */
    public void encodeTo(ByteBuffer b) {
        int p = b.position();
        int size = encodedSize();
        b.putInt(p, major).putInt(p + 4, minor);
        if (size >= FUSE_COMPAT_22_INIT_OUT_SIZE) {
            b.putInt(p + 8, maxReadahead).putInt(p + 12, flags);
            b.putShort(p + 16, (short) maxBackground).putShort(p + 18, (short) congestionThreshold);
            b.putInt(p + 20, maxWrite);
        }
        if (size >= SIZE) {
            b.putInt(p + 24, timeGran);
            b.putShort(p + 28, (short) maxPages).putShort(p + 30, (short) mapAlignment);
            b.putInt(p + 32, flags2);
            for (int off = 36; off < SIZE; off += 4) {
                b.putInt(p + off, 0);
            }
        }
        b.position(p + size);
    }

    /** Reads an INIT reply of the size its own minor implies; for test peers playing the kernel. */
    public static InitOut decode(ByteBuffer b) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(b, FUSE_COMPAT_INIT_OUT_SIZE, "fuse_init_out");
        int p = b.position();
        int minor = b.getInt(p + 4);
        int size = replySize(minor);
        MalformedRequestException.requireRemaining(b, size, "fuse_init_out for 7." + minor);
        b.position(p + size);
        if (size == FUSE_COMPAT_INIT_OUT_SIZE) {
            return new InitOut(b.getInt(p), minor, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        }
        int maxBackground = Short.toUnsignedInt(b.getShort(p + 16));
        int congestion = Short.toUnsignedInt(b.getShort(p + 18));
        if (size == FUSE_COMPAT_22_INIT_OUT_SIZE) {
            return new InitOut(b.getInt(p), minor, b.getInt(p + 8), b.getInt(p + 12), maxBackground, congestion,
                    b.getInt(p + 20), 0, 0, 0, 0);
        }
        return new InitOut(b.getInt(p), minor, b.getInt(p + 8), b.getInt(p + 12), maxBackground, congestion,
                b.getInt(p + 20), b.getInt(p + 24), Short.toUnsignedInt(b.getShort(p + 28)),
                Short.toUnsignedInt(b.getShort(p + 30)), b.getInt(p + 32));
    }

    /** The 64-bit answer ({@link InitFlags}): {@code flags | flags2 << 32}. */
    public long flags64() {
        return Integer.toUnsignedLong(flags) | (long) flags2 << 32;
    }
}
