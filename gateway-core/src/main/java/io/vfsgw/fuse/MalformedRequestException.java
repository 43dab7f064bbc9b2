package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * The kernel (or a guest posing as one) sent bytes that cannot be trusted: too short, inconsistent
 * lengths, a name without its NUL. Stackless: a hostile guest can make many of these cheaply.
 *
 * <p>The session replies EIO when the header parsed (EPROTO for a short INIT, as libfuse does),
 * otherwise returns the request with no reply, counts it, and keeps serving.
 */
public final class MalformedRequestException extends Exception {
    private static final long serialVersionUID = 1L;

    public MalformedRequestException(String message) {
        super(message, null, false, false);
    }

    /** Throws unless at least {@code n} bytes remain; {@code what} names the struct for the message. */
    public static void requireRemaining(ByteBuffer b, int n, String what) throws MalformedRequestException {
        if (b.remaining() < n) {
            throw new MalformedRequestException(what + ": need " + n + " bytes, have " + b.remaining());
        }
    }
}
