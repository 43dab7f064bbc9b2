package io.vfsgw.session;

import java.nio.ByteBuffer;

/**
 * Sends unsolicited messages to the kernel (FUSE_NOTIFY_*): over /dev/fuse a write with unique 0.
 * Transports that cannot notify (virtio-fs has no notification queue in Linux guests) do not
 * provide one.
 */
@FunctionalInterface
public interface FuseNotifier {
    /**
     * Writes one complete notification message (out-header with unique 0 and error = the notify code,
     * then the body). Returns false when the kernel refused it (e.g. ENOENT for an inode it forgot).
     */
    boolean send(ByteBuffer message);
}
