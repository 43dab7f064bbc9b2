package io.vfsgw.transport.vhostuser.device;

import java.nio.ByteBuffer;

/**
 * What a virtio device implements on top of the vhost-user framework. It never sees a vhost-user
 * message: the framework validates and translates chains and hands them over one by one.
 */
public interface VirtioDevice {
    /** Virtio device id (virtio spec §5): 26 for a filesystem. */
    int deviceType();

    /** Number of virtqueues, fixed for the device's lifetime. */
    int queueCount();

    /** Device-specific feature bits offered on top of the framework's ring features. */
    long deviceFeatures();

    /** The device config space (read-only copy, LITTLE_ENDIAN). */
    ByteBuffer configSpace();

    /**
     * Whether the driver's requests on queue {@code queueIndex} are all answered at once, never
     * waiting on I/O: one thread then serves the queue instead of a crew, so a burst of such
     * requests costs no wake-ups of idle threads.
     */
    default boolean answersAtOnce(int queueIndex) {
        return false;
    }

    /**
     * Serves one chain popped from queue {@code queueIndex}. Called on that queue's worker threads,
     * concurrently for different chains. The device must call {@code completion} exactly once, from
     * any thread, possibly after returning; the chain's views stay valid until then and must not be
     * touched afterwards.
     */
    void process(int queueIndex, DescriptorChain chain, ChainCompletion completion);

    /** Returns a chain to the driver. */
    @FunctionalInterface
    interface ChainCompletion {
        /** @param usedLength bytes written into the chain's writable views (0 for none) */
        void complete(int usedLength);
    }
}
