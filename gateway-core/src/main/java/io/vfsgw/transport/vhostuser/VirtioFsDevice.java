package io.vfsgw.transport.vhostuser;

import io.vfsgw.session.FuseRequestHandler;
import io.vfsgw.transport.vhostuser.device.DescriptorChain;
import io.vfsgw.transport.vhostuser.device.VirtioDevice;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The virtio-fs device (virtio spec §5.11, linux/virtio_fs.h): queue 0 is the high-priority queue
 * (FORGET, INTERRUPT), queues 1..N carry normal requests; every chain is one FUSE request whose
 * readable descriptors are the request and writable descriptors the reply buffer, handed unchanged
 * to a {@link FuseRequestHandler}.
 */
public final class VirtioFsDevice implements VirtioDevice {
    private static final Logger LOG = LoggerFactory.getLogger(VirtioFsDevice.class);
    public static final int DEVICE_ID = 26;
    /** {@code struct virtio_fs_config}: {@code 0 tag u8[36] | 36 num_request_queues le32}. */
    public static final int CONFIG_SIZE = 40;
    public static final int TAG_MAX_BYTES = 36;

    private final int numRequestQueues;
    private final FuseRequestHandler handler;
    private final ByteBuffer config;

    public VirtioFsDevice(String tag, int numRequestQueues, FuseRequestHandler handler) {
        byte[] t = tag.getBytes(StandardCharsets.UTF_8);
        if (t.length == 0 || t.length > TAG_MAX_BYTES || tag.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("virtio-fs tag must be 1 to 36 UTF-8 bytes without NUL: " + tag);
        }
        if (numRequestQueues < 1 || numRequestQueues > 254) {
            throw new IllegalArgumentException("request queues must be 1..254, not " + numRequestQueues);
        }
        this.numRequestQueues = numRequestQueues;
        this.handler = handler;
        ByteBuffer c = ByteBuffer.allocate(CONFIG_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        c.put(t); // the rest of the tag stays NUL-padded
        c.putInt(TAG_MAX_BYTES, numRequestQueues);
        c.clear();
        this.config = c.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public int deviceType() {
        return DEVICE_ID;
    }

    @Override
    public int queueCount() {
        return 1 + numRequestQueues;
    }

    @Override
    public long deviceFeatures() {
        return 0; // VIRTIO_FS_F_NOTIFICATION is not offered: Linux guests have no notification queue
    }

    @Override
    public ByteBuffer configSpace() {
        return config.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The high-priority queue: Linux sends FORGET there, one per evicted inode (a directory walk
     * after a cache drop sends thousands), and nothing that waits; a crew of threads only took
     * turns waking for them.
     */
    @Override
    public boolean answersAtOnce(int queueIndex) {
        return queueIndex == 0;
    }

    @Override
    public void process(int queueIndex, DescriptorChain chain, ChainCompletion completion) {
        if (chain.readable().length == 0) {
            // Not even a fuse_in_header: nothing to answer, so return the chain empty.
            LOG.warn("queue {}: chain {} has no request bytes; returning it empty", queueIndex, chain.head());
            completion.complete(0);
            return;
        }
        handler.handle(chain.readable(), chain.writable(), new ChainReply(completion));
    }

    /**
     * The session's reply completion returning the chain: a class, because a method reference
     * costs a runtime call per request under C1.
     */
    private record ChainReply(ChainCompletion chain) implements FuseRequestHandler.ReplyCompletion {
        @Override
        public void complete(int length) {
            chain.complete(length);
        }
    }
}
