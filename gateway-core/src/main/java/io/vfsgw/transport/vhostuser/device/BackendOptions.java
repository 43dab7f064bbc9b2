package io.vfsgw.transport.vhostuser.device;

import java.time.Duration;

/**
 * Tunables of the vhost-user device framework.
 *
 * @param workersPerQueue threads serving each queue's chains (so one slow request does not block the rest)
 * @param maxQueueSize    largest ring size accepted by SET_VRING_NUM (a power of two, at most 32768)
 * @param maxMemSlots     answer to GET_MAX_MEM_SLOTS: most regions the memory table may hold
 * @param drainTimeout    how long GET_VRING_BASE waits for requests in flight before stopping anyway
 * @param offerConfig     offer VHOST_USER_PROTOCOL_F_CONFIG. Off by default: QEMU 7.2's vhost-user-fs
 *                        builds its config space itself and prints "backend supports
 *                        VHOST_USER_PROTOCOL_F_CONFIG but QEMU does not" at every start when offered.
 *                        GET_CONFIG is answered either way.
 */
public record BackendOptions(int workersPerQueue, int maxQueueSize, int maxMemSlots,
                             Duration drainTimeout, boolean offerConfig) {
    public static final BackendOptions DEFAULTS = new BackendOptions(4, 1024, 32,
            Duration.ofSeconds(5), false);

    public BackendOptions {
        if (workersPerQueue < 1) {
            throw new IllegalArgumentException("workersPerQueue must be at least 1");
        }
        if (maxQueueSize < 1 || maxQueueSize > 32768 || Integer.bitCount(maxQueueSize) != 1) {
            throw new IllegalArgumentException("maxQueueSize must be a power of two up to 32768");
        }
        if (maxMemSlots < 8) {
            throw new IllegalArgumentException("maxMemSlots must be at least 8 (SET_MEM_TABLE may carry 8)");
        }
    }

    public BackendOptions withWorkersPerQueue(int n) {
        return new BackendOptions(n, maxQueueSize, maxMemSlots, drainTimeout, offerConfig);
    }

    public BackendOptions withOfferConfig(boolean offer) {
        return new BackendOptions(workersPerQueue, maxQueueSize, maxMemSlots, drainTimeout, offer);
    }
}
