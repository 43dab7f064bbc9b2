package io.vfsgw.transport.devfuse;

import io.vfsgw.nativeio.FuseDevice;
import io.vfsgw.session.FuseNotifier;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes FUSE_NOTIFY_* messages to /dev/fuse, one at a time.
 *
 * <p>As libfuse warns, an INVAL_ENTRY/DELETE for a directory must not be sent from the handler of a
 * request on this same mount that holds that directory's lock (LOOKUP, CREATE, ...): the write
 * would wait for the lock the request holds. Changes made by other sessions are safe.
 */
final class DevFuseNotifier implements FuseNotifier {
    private static final Logger LOG = LoggerFactory.getLogger(DevFuseNotifier.class);

    private final FuseDevice device;
    private ByteBuffer scratch = ByteBuffer.allocateDirect(0);

    DevFuseNotifier(FuseDevice device) {
        this.device = device;
    }

    /** Sends message[position, limit); a heap buffer is copied once into a direct scratch buffer. */
    @Override
    public synchronized boolean send(ByteBuffer message) {
        ByteBuffer direct = message.slice();
        int length = direct.remaining();
        if (!direct.isDirect()) {
            if (scratch.capacity() < length) {
                scratch = ByteBuffer.allocateDirect(Math.max(length, 4096));
            }
            ByteBuffer copy = scratch.duplicate().clear();
            copy.put(direct);
            direct = scratch;
        }
        try {
            device.write(direct, length);
            return true;
        } catch (FsException e) {
            // ENOENT: the kernel no longer knows the inode; ENODEV: unmounted. Both are normal races.
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.ENODEV) {
                LOG.debug("notification refused: {}", e.getMessage());
            } else {
                LOG.warn("notification refused: {}", e.getMessage());
            }
            return false;
        }
    }
}
