package io.vfsgw.transport.vhostuser.device;

import java.time.Duration;

/**
 * Tunables of the vhost-user device framework.
 *
 * @param workersPerQueue threads serving each queue's chains (so one slow request does not block the rest)
 * @param maxQueueSize    largest ring size accepted by SET_VRING_NUM (a power of two, at most 32768)
 * @param maxMemSlots     answer to GET_MAX_MEM_SLOTS: most regions the memory table may hold
 * @param drainTimeout    how long GET_VRING_BASE waits for requests in flight before stopping anyway
 */
public record BackendOptions(int workersPerQueue, int maxQueueSize, int maxMemSlots, Duration drainTimeout) {
    public static final BackendOptions DEFAULTS = new BackendOptions(4, 1024, 32, Duration.ofSeconds(5));

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
}
