package io.vfsgw.backend.posix;

import io.vfsgw.locks.LockWaits;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Blocking lock requests (F_SETLKW, blocking flock) on the host, made of non-blocking attempts so
 * that a wait can end. The host's own blocking calls cannot: a thread in F_OFD_SETLKW ignores a
 * FUSE INTERRUPT (the guest process then hangs unkillable, waiting for our reply) and OFD locks
 * have no deadlock detection. Here a thread interrupt (INTERRUPT, or the guest leaving) ends a wait
 * with EINTR, and a POSIX wait that would close a cycle of vfsgw lock owners fails with EDEADLK,
 * as the kernel's own record locks do.
 *
 * <p>A waiter tries again as soon as any lock of this backend is released, and at least every
 * {@link #MAX_BACKOFF_NS} while the holder is outside vfsgw (a host process), whose release nobody
 * reports; while the holder is one of ours, whose release wakes it, only every
 * {@link #MAX_BACKOFF_OWN_HOLDER_NS}, so that many parked waiters cost little CPU.
 */
final class HostLockWaits {
    /** One non-blocking attempt; fails with EAGAIN while the lock is held elsewhere. */
    interface Attempt {
        void run() throws FsException;
    }

    private static final long FIRST_BACKOFF_NS = TimeUnit.MILLISECONDS.toNanos(1);
    static final long MAX_BACKOFF_NS = TimeUnit.MILLISECONDS.toNanos(50);
    static final long MAX_BACKOFF_OWN_HOLDER_NS = TimeUnit.SECONDS.toNanos(1);

    private final LockWaits cycles = new LockWaits();
    private final ReentrantLock mutex = new ReentrantLock();
    private final Condition releasedCondition = mutex.newCondition();
    /** Counts releases, so a waiter that failed just before one does not sleep through it. Guarded by mutex. */
    private long releases;
    /** Requests inside {@link #await}, from before their first attempt, so no release goes unseen. */
    private final AtomicInteger active = new AtomicInteger();
    /** Requests asleep between attempts; for tests. */
    private final AtomicInteger waiting = new AtomicInteger();

    /** Some lock of this backend was released or downgraded: every waiter tries again. */
    void released() {
        if (active.get() == 0) {
            return;
        }
        mutex.lock();
        try {
            releases++;
            releasedCondition.signalAll();
        } finally {
            mutex.unlock();
        }
    }

    /**
     * Repeats {@code attempt} until it stops failing with EAGAIN. For POSIX locks {@code blocker}
     * names the vfsgw lock owner holding what {@code owner} waits for (0 when it is none of ours), for
     * the deadlock check; flock waits pass null and are not checked, as on Linux.
     */
    void await(Attempt attempt, long owner, LongSupplier blocker) throws FsException {
        long backoff = FIRST_BACKOFF_NS;
        long waitingFor = 0; // the owner registered as our blocker; kept across retries, so a cycle is always seen
        boolean parked = false;
        active.incrementAndGet();
        try {
            while (true) {
                long seen = releaseCount();
                try {
                    attempt.run();
                    return;
                } catch (FsException e) {
                    if (e.errno() != Errno.EAGAIN) {
                        throw e;
                    }
                }
                long holder = blocker == null ? 0 : blocker.getAsLong();
                if (holder != waitingFor) {
                    if (waitingFor != 0) {
                        cycles.stopWaiting(owner);
                        waitingFor = 0;
                    }
                    if (holder != 0) {
                        if (!cycles.startWaiting(owner, holder)) {
                            throw FsException.of(Errno.EDEADLK, "lock owner " + owner + " would wait for itself");
                        }
                        waitingFor = holder;
                    }
                }
                if (!parked) {
                    parked = true;
                    waiting.incrementAndGet();
                }
                long cap = holder != 0 ? MAX_BACKOFF_OWN_HOLDER_NS : MAX_BACKOFF_NS;
                backoff = Math.min(backoff, cap);
                if (!sleepUnlessReleasedSince(seen, backoff)) {
                    backoff = Math.min(backoff * 2, cap);
                }
            }
        } finally {
            active.decrementAndGet();
            if (waitingFor != 0) {
                cycles.stopWaiting(owner);
            }
            if (parked) {
                waiting.decrementAndGet();
            }
        }
    }

    /** How many requests are parked waiting; for tests that must see a waiter parked before they release. */
    int waiters() {
        return waiting.get();
    }

    private long releaseCount() {
        mutex.lock();
        try {
            return releases;
        } finally {
            mutex.unlock();
        }
    }

    /** True if woken by a release, false when the backoff ran out. */
    private boolean sleepUnlessReleasedSince(long seen, long nanos) throws FsException {
        mutex.lock();
        try {
            long left = nanos;
            while (releases == seen) {
                if (left <= 0) {
                    return false;
                }
                left = releasedCondition.awaitNanos(left);
            }
            return true;
        } catch (InterruptedException e) {
            // The session interrupts the waiting thread for FUSE_INTERRUPT and at teardown.
            throw FsException.of(Errno.EINTR, "lock wait interrupted");
        } finally {
            mutex.unlock();
        }
    }
}
