package io.vfsgw.locks;

import java.util.HashMap;
import java.util.Map;

/**
 * Which POSIX lock owner is waiting for which, across all files of one backend, to refuse a wait
 * that would close a cycle with EDEADLK, as the kernel's posix_locks_deadlock does. Checking and
 * registering a wait happen under one monitor, so of two owners about to wait for each other the
 * second always sees the first.
 */
public final class LockWaits {
    /** Longer chains are not followed (the kernel stops at 10); they are not worth a guest hang. */
    private static final int MAX_DEPTH = 64;

    private final Map<Long, Long> waitingFor = new HashMap<>();

    /** Registers that {@code owner} waits for {@code blocker}; false (nothing registered) on a cycle. */
    public synchronized boolean startWaiting(long owner, long blocker) {
        long cur = blocker;
        for (int i = 0; i < MAX_DEPTH; i++) {
            if (cur == owner) {
                return false;
            }
            Long next = waitingFor.get(cur);
            if (next == null) {
                break;
            }
            cur = next;
        }
        waitingFor.put(owner, blocker);
        return true;
    }

    public synchronized void stopWaiting(long owner) {
        waitingFor.remove(owner);
    }
}
