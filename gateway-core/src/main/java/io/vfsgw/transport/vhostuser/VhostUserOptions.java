package io.vfsgw.transport.vhostuser;

import io.vfsgw.transport.vhostuser.device.BackendOptions;
import java.util.Optional;

/**
 * How a {@link VhostUserServer} runs.
 *
 * @param tag              the virtio-fs tag the guest mounts ({@code mount -t virtiofs TAG /mnt})
 * @param numRequestQueues request queues besides the high-priority one (QEMU's default is 1)
 * @param socketGroup      if present, the socket file is given to this group with mode 0660 (else 0600)
 * @param exitOnDisconnect stop after the first front end disconnects instead of accepting the next
 * @param backend          ring, worker and memory limits
 */
public record VhostUserOptions(String tag, int numRequestQueues, Optional<String> socketGroup, boolean exitOnDisconnect,
                               BackendOptions backend) {
    public static VhostUserOptions defaults(String tag) {
        return new VhostUserOptions(tag, 1, Optional.empty(), false, BackendOptions.DEFAULTS);
    }

    public VhostUserOptions withTag(String t) {
        return new VhostUserOptions(t, numRequestQueues, socketGroup, exitOnDisconnect, backend);
    }

    public VhostUserOptions withSocketGroup(String group) {
        return new VhostUserOptions(tag, numRequestQueues, Optional.of(group), exitOnDisconnect, backend);
    }

    public VhostUserOptions withExitOnDisconnect(boolean exit) {
        return new VhostUserOptions(tag, numRequestQueues, socketGroup, exit, backend);
    }

    public VhostUserOptions withBackend(BackendOptions b) {
        return new VhostUserOptions(tag, numRequestQueues, socketGroup, exitOnDisconnect, b);
    }

    /** {@code threads} per queue: how many of a queue's requests may be processed at once. */
    public VhostUserOptions withQueueThreads(int threads) {
        return withBackend(backend.withWorkersPerQueue(threads));
    }

    public VhostUserOptions withRequestQueues(int n) {
        return new VhostUserOptions(tag, n, socketGroup, exitOnDisconnect, backend);
    }
}
