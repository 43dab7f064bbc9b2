package io.vfsgw.spi;

import java.nio.ByteBuffer;

/**
 * A WRITE's data: views of the request buffers (guest memory for virtio-fs). A backend drains it
 * with one copy (mem, S3 staging) or a pwritev straight to a host fd (posix).
 */
public interface WriteSource {
    /** Bytes not yet consumed. */
    int remaining();

    /** Copies {@code min(dst.remaining(), remaining())} bytes into dst; advances both. Returns the count. */
    int copyTo(ByteBuffer dst);

    /**
     * Read-only views of the unconsumed bytes, for pwritev(2); call {@link #advance(int)} after.
     * They may be the transport's own buffers, handed out afresh from position 0 on each call: move
     * their positions as you like, never their limits.
     */
    ByteBuffer[] views();

    /** Marks {@code n} bytes as consumed. */
    void advance(int n);
}
