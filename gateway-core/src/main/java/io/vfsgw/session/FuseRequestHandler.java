package io.vfsgw.session;

import java.nio.ByteBuffer;

/**
 * What a transport hands each FUSE request to (the {@link FuseSession} implements it).
 *
 * <p>The transport owns the bytes: {@code request} are read-only views of the request as received
 * (one buffer for /dev/fuse, one per device-readable descriptor for virtio-fs), {@code reply} are
 * writable views of where the reply goes (the /dev/fuse write buffer, or the device-writable
 * descriptors in guest memory). Every view is LITTLE_ENDIAN with position 0 at its first byte.
 * The handler writes the reply (out-header first, then the body) contiguously across the reply views
 * and calls {@link ReplyCompletion#complete(int)} exactly once, possibly from another thread.
 */
@FunctionalInterface
public interface FuseRequestHandler {
    void handle(ByteBuffer[] request, ByteBuffer[] reply, ReplyCompletion completion);

    /** Called once per request by the handler when the reply bytes are in place. */
    @FunctionalInterface
    interface ReplyCompletion {
        /**
         * @param replyLength bytes written across the reply views (header included); 0 means the
         *                    request gets no reply (FORGET, BATCH_FORGET, an interrupted request the
         *                    kernel no longer waits for). Over virtio-fs the chain is still returned
         *                    to the used ring with length 0; over /dev/fuse nothing is written.
         */
        void complete(int replyLength);
    }
}
