package io.vfsgw.locks;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.Lock;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The advisory locks of one file, for backends that keep locks in the gateway's memory (mem, s3;
 * posix takes OFD locks on the host and only {@link #record}s them here): POSIX byte-range locks
 * per lock owner (fcntl) and whole-file flock locks per open handle. The two kinds never conflict
 * with each other, as on Linux.
 *
 * <p>Each owner's ranges are kept split and merged like the kernel's: setting a range replaces
 * whatever that owner held there (upgrade, downgrade or F_UNLCK, possibly splitting a range in
 * two), then merges with the owner's adjacent ranges of the same type. Waiters (F_SETLKW, blocking
 * flock) sleep on one condition signalled at every change; a thread interrupt (FUSE_INTERRUPT)
 * ends the wait with EINTR and consumes the interrupt. A POSIX wait that would close a cycle of
 * owners waiting for each other (across files, see {@link LockWaits}) fails with EDEADLK instead;
 * flock waits, as on Linux, are not checked.
 */
public final class LockTable {
    private static final long OFFSET_MAX = Long.MAX_VALUE;

    /** One held POSIX range, inclusive ends. */
    private record Range(long owner, int pid, int type, long start, long end) {
        boolean overlaps(long s, long e) {
            return start <= e && s <= end;
        }

        boolean touches(Range o) {
            return overlaps(o.start, o.end)
                    || (end != OFFSET_MAX && end + 1 == o.start)
                    || (o.end != OFFSET_MAX && o.end + 1 == start);
        }
    }

    private final LockWaits waits;
    private final ReentrantLock mutex = new ReentrantLock();
    private final Condition changed = mutex.newCondition();
    private final List<Range> posix = new ArrayList<>();
    /** Open handle to its flock type (F_RDLCK shared, F_WRLCK exclusive). */
    private final Map<Long, Integer> flocks = new HashMap<>();

    public LockTable(LockWaits waits) {
        this.waits = waits;
    }

    /** F_SETLK / F_SETLKW (when {@code wait}), or with {@code flock} flock(2) for the open handle {@code fh}. */
    public void set(long fh, Lock lock, boolean wait, boolean flock) throws FsException {
        if (flock) {
            setFlock(fh, lock.type(), wait);
        } else {
            setPosix(lock, wait);
        }
    }

    /** F_GETLK: the first range of another owner that conflicts with {@code want}, else F_UNLCK. */
    public Lock test(Lock want) throws FsException {
        validate(want);
        mutex.lock();
        try {
            Range r = want.type() == Lock.F_UNLCK ? null : posixConflict(want);
            if (r == null) {
                return new Lock(Lock.F_UNLCK, want.start(), want.end(), want.owner(), want.pid());
            }
            return new Lock(r.type, r.start, r.end, r.owner, r.pid);
        } finally {
            mutex.unlock();
        }
    }

    /** F_SETLK / F_SETLKW for {@code lock.owner()}. */
    public void setPosix(Lock lock, boolean wait) throws FsException {
        validate(lock);
        mutex.lock();
        try {
            if (lock.type() != Lock.F_UNLCK) {
                Range blocker;
                while ((blocker = posixConflict(lock)) != null) {
                    if (!wait) {
                        throw FsException.of(Errno.EAGAIN);
                    }
                    if (!waits.startWaiting(lock.owner(), blocker.owner)) {
                        throw FsException.of(Errno.EDEADLK, "owner " + lock.owner() + " would wait for itself");
                    }
                    try {
                        await();
                    } finally {
                        waits.stopWaiting(lock.owner());
                    }
                }
            }
            apply(lock);
            changed.signalAll();
        } finally {
            mutex.unlock();
        }
    }

    /**
     * Records a POSIX lock that another arbiter already granted (the host kernel, for posix's OFD
     * locks): no conflict check, no wait. The table then answers who holds what.
     */
    public void record(Lock lock) throws FsException {
        validate(lock);
        mutex.lock();
        try {
            apply(lock);
            changed.signalAll();
        } finally {
            mutex.unlock();
        }
    }

    /** Drops every POSIX range of an owner (close of a descriptor: FUSE flush with its lock owner). */
    public void releaseOwner(long owner) {
        mutex.lock();
        try {
            if (posix.removeIf(r -> r.owner == owner)) {
                changed.signalAll();
            }
        } finally {
            mutex.unlock();
        }
    }

    /** flock(2) through handle {@code fh}: F_RDLCK shared, F_WRLCK exclusive, F_UNLCK release. */
    public void setFlock(long fh, int type, boolean wait) throws FsException {
        if (type != Lock.F_RDLCK && type != Lock.F_WRLCK && type != Lock.F_UNLCK) {
            throw FsException.of(Errno.EINVAL, "lock type " + type);
        }
        mutex.lock();
        try {
            if (type == Lock.F_UNLCK) {
                if (flocks.remove(fh) != null) {
                    changed.signalAll();
                }
                return;
            }
            while (flockConflict(fh, type)) {
                if (!wait) {
                    throw FsException.of(Errno.EAGAIN);
                }
                await();
            }
            flocks.put(fh, type);
            changed.signalAll(); // a downgrade may let shared waiters in
        } finally {
            mutex.unlock();
        }
    }

    /** Drops the flock held through a handle (its release). */
    public void releaseFlock(long fh) {
        mutex.lock();
        try {
            if (flocks.remove(fh) != null) {
                changed.signalAll();
            }
        } finally {
            mutex.unlock();
        }
    }

    /** How many waiters are parked; for tests that must wait for a waiter before releasing. */
    public int waiters() {
        mutex.lock();
        try {
            return mutex.getWaitQueueLength(changed);
        } finally {
            mutex.unlock();
        }
    }

    private void await() throws FsException {
        try {
            changed.await();
        } catch (InterruptedException e) {
            // The session interrupts the worker for FUSE_INTERRUPT; the interrupt is answered here.
            throw FsException.of(Errno.EINTR, "lock wait interrupted");
        }
    }

    private static void validate(Lock l) throws FsException {
        if (l.type() != Lock.F_RDLCK && l.type() != Lock.F_WRLCK && l.type() != Lock.F_UNLCK) {
            throw FsException.of(Errno.EINVAL, "lock type " + l.type());
        }
        if (l.start() < 0 || l.end() < l.start()) {
            throw FsException.of(Errno.EINVAL, "lock range " + l.start() + ".." + l.end());
        }
    }

    private Range posixConflict(Lock want) {
        for (Range r : posix) {
            if (r.owner != want.owner() && r.overlaps(want.start(), want.end())
                    && (r.type == Lock.F_WRLCK || want.type() == Lock.F_WRLCK)) {
                return r;
            }
        }
        return null;
    }

    private boolean flockConflict(long fh, int type) {
        for (Map.Entry<Long, Integer> e : flocks.entrySet()) {
            if (e.getKey() != fh && (e.getValue() == Lock.F_WRLCK || type == Lock.F_WRLCK)) {
                return true;
            }
        }
        return false;
    }

    /** Replaces the owner's hold on [start, end] with {@code l} (nothing for F_UNLCK), then merges. */
    private void apply(Lock l) {
        List<Range> kept = new ArrayList<>(posix.size() + 2);
        for (Range r : posix) {
            if (r.owner != l.owner() || !r.overlaps(l.start(), l.end())) {
                kept.add(r);
                continue;
            }
            if (r.start < l.start()) {
                kept.add(new Range(r.owner, r.pid, r.type, r.start, l.start() - 1));
            }
            if (r.end > l.end()) {
                kept.add(new Range(r.owner, r.pid, r.type, l.end() + 1, r.end));
            }
        }
        if (l.type() != Lock.F_UNLCK) {
            Range merged = new Range(l.owner(), l.pid(), l.type(), l.start(), l.end());
            boolean grew = true;
            while (grew) {
                grew = false;
                for (int i = 0; i < kept.size(); i++) {
                    Range r = kept.get(i);
                    if (r.owner == merged.owner && r.type == merged.type && r.touches(merged)) {
                        merged = new Range(merged.owner, merged.pid, merged.type,
                                Math.min(r.start, merged.start), Math.max(r.end, merged.end));
                        kept.remove(i);
                        grew = true;
                        break;
                    }
                }
            }
            kept.add(merged);
        }
        posix.clear();
        posix.addAll(kept);
    }

    /** The ranges an owner holds, sorted by start; for tests. */
    public List<Lock> heldBy(long owner) {
        mutex.lock();
        try {
            List<Lock> out = new ArrayList<>();
            for (Range r : posix) {
                if (r.owner == owner) {
                    out.add(new Lock(r.type, r.start, r.end, r.owner, r.pid));
                }
            }
            out.sort((a, b) -> Long.compare(a.start(), b.start()));
            return out;
        } finally {
            mutex.unlock();
        }
    }
}
