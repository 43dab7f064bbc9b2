package io.vfsgw.spi;

import java.nio.ByteBuffer;

/**
 * Where a READ's data goes: views of the reply buffers (guest memory for virtio-fs, the
 * /dev/fuse write buffer for host mounts), right after the reserved reply header. A backend
 * fills it with one copy (mem, S3) or a preadv straight from a host fd (posix).
 */
public interface ReadSink {
    /** Bytes still wanted: at most the READ's size and the room left in the reply buffers. */
    int remaining();

    /** Copies {@code min(src.remaining(), remaining())} bytes from src; advances both. */
    void put(ByteBuffer src);

    /** Appends {@code count} zero bytes (holes); count must not exceed {@link #remaining()}. */
    void putZeros(int count);

    /**
     * The writable views of the not-yet-filled part, at most {@code max} bytes in total, for a
     * preadv(2) straight into them; call {@link #advance(int)} with what was actually read. They
     * may be the transport's own buffers, handed out afresh from position 0 on each call: move
     * their positions as you like, never their limits.
     */
    ByteBuffer[] views(int max);

    /** Marks {@code n} bytes of the last {@link #views(int)} as filled. */
    void advance(int n);
}
