package io.vfsgw.transport.vhostuser.device;

import java.nio.ByteBuffer;

/**
 * One available descriptor chain, already validated and translated: {@code readable} are read-only
 * views of the device-readable descriptors in chain order, {@code writable} writable views of the
 * device-writable ones (all LITTLE_ENDIAN, position 0). {@code memory} is the snapshot the views
 * belong to; it stays mapped until the chain is completed.
 */
public record DescriptorChain(int head, ByteBuffer[] readable, ByteBuffer[] writable, long readableLength,
                              long writableLength, GuestMemory memory) {
}
