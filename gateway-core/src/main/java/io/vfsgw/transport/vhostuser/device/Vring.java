package io.vfsgw.transport.vhostuser.device;

import io.vfsgw.nativeio.EventFds;
import io.vfsgw.spi.FsException;
import io.vfsgw.transport.vhostuser.protocol.VhostUserException;
import io.vfsgw.transport.vhostuser.protocol.VringAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One virtqueue's vhost-user state and its threads: the ring set-up the front end sends (num,
 * addresses, base, kick/call/err fds, enable) and the {@link Crew} of threads that wait on the kick
 * eventfd, pop chains and process them.
 *
 * <p>Life cycle (vhost-user.rst "Starting and stopping rings"): the ring starts when it has a size,
 * addresses and a kick fd; it processes chains only while enabled (rings start disabled when
 * VHOST_USER_F_PROTOCOL_FEATURES was negotiated); GET_VRING_BASE stops it. Set-up methods run on
 * the connection thread only. Completions run on any thread and take {@link #lock}, which also
 * guards the call fd and the current {@link SplitVirtqueue}; a completion for a chain of an earlier
 * start (the queue object differs) is dropped rather than written into a restarted ring.
 *
 * <p>With an inflight buffer attached ({@link #setInflight}, while stopped), each start hands the
 * queue's region to the new {@link SplitVirtqueue}, which resubmits what the buffer shows in flight;
 * the crew is woken for those, since the driver will not kick again for them.
 */
final class Vring {
    private static final Logger LOG = LoggerFactory.getLogger(Vring.class);

    private final int index;
    private final VirtioDevice device;
    private final int threadsPerQueue;
    /** The current memory snapshot, already retained for the caller (who must release it). */
    private final Supplier<GuestMemory> memory;
    private final long drainTimeoutNanos;

    // Set-up state: connection thread only.
    private int num;
    private VringAddress address;
    private int base;
    private int kickFd = -1;
    private int errFd = -1;
    private Crew crew;
    private GuestMemory ringMemory;
    /** This queue's region of the inflight buffer (SET_INFLIGHT_FD), or null: no tracking. */
    private InflightQueue inflightQueue;

    /** Bad chains seen since the ring started (under the crew's ringLock); the first few and every 1000th are logged. */
    private long badChains;
    private volatile boolean enabled;

    /**
     * A ReentrantLock, not a monitor: completions of different queue threads meet on it now and
     * then, which inflates a monitor for good, and under C1 an inflated monitor is a call into the
     * VM on every enter and exit.
     */
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when {@link #inflight} drops while {@link #draining}. */
    private final Condition drained = lock.newCondition();
    private SplitVirtqueue queue; // guarded by lock
    private int callFd = -1; // guarded by lock
    private int inflight; // guarded by lock
    /** stop() is waiting for {@link #inflight} to drain (guarded by lock); completions signal only then. */
    private boolean draining;

    Vring(int index, VirtioDevice device, BackendOptions options, Supplier<GuestMemory> memory) {
        this.index = index;
        this.device = device;
        this.threadsPerQueue = device.answersAtOnce(index) ? 1 : options.workersPerQueue();
        this.memory = memory;
        this.drainTimeoutNanos = options.drainTimeout().toNanos();
    }

    boolean isStarted() {
        return crew != null;
    }

    void setNum(int n, int max) throws VhostUserException {
        requireStopped("SET_VRING_NUM");
        if (n < 1 || n > max || Integer.bitCount(n) != 1) {
            throw new VhostUserException("queue " + index + ": ring size " + Integer.toUnsignedString(n)
                    + " is not a power of two between 1 and " + max);
        }
        num = n;
    }

    void setAddress(VringAddress a) throws VhostUserException {
        requireStopped("SET_VRING_ADDR");
        address = a;
    }

    void setBase(int b) throws VhostUserException {
        requireStopped("SET_VRING_BASE");
        if ((b & ~0xffff) != 0) {
            throw new VhostUserException("queue " + index + ": base " + b + " does not fit 16 bits");
        }
        base = b;
    }

    /** Attaches (or with null detaches) inflight tracking; only while the ring is stopped. */
    void setInflight(InflightQueue q) {
        if (isStarted()) {
            throw new IllegalStateException("queue " + index + ": inflight buffer changed while the ring runs");
        }
        inflightQueue = q;
    }

    void setErr(int fd) {
        EventFds.close(errFd);
        errFd = fd;
    }

    /**
     * Installs the call fd and signals it once. QEMU masks a guest's interrupt vector (the guest
     * does so whenever it moves the interrupt to another CPU) by pointing the call fd at a notifier
     * it looks at only when unmasking, then points it back. These messages are not synchronous: a
     * chain completed after QEMU looked but before we switched back signalled the masked notifier,
     * so the driver got no interrupt for it and never reclaimed it (a guest's umount hung on the
     * FORGETs of its high-priority queue). A spurious interrupt costs the driver one look at its
     * used ring; libvhost-user signals a new call fd for the same reason.
     */
    void setCall(int fd) {
        lock.lock();
        try {
            EventFds.close(callFd);
            callFd = fd;
            if (fd >= 0) {
                try {
                    EventFds.signal(fd);
                } catch (FsException e) {
                    LOG.warn("queue {}: new call fd {} cannot be signalled: {}", index, fd, e.getMessage());
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Installs the kick fd and starts the ring if it is fully set up (or just swaps the fd if running). */
    void setKick(int fd, boolean eventIdx, boolean indirect, boolean enableOnStart) throws VhostUserException {
        if (isStarted()) {
            stopCrew();
            EventFds.close(kickFd);
            kickFd = fd;
            startCrewOrStop();
            return;
        }
        EventFds.close(kickFd);
        kickFd = fd;
        if (num == 0 || address == null) {
            throw new VhostUserException("queue " + index + ": kick fd before size and addresses");
        }
        GuestMemory mem = memory.get();
        int resubmitted;
        try {
            long descGpa = mem.userToGuest(address.descUserAddr());
            long availGpa = mem.userToGuest(address.availUserAddr());
            long usedGpa = mem.userToGuest(address.usedUserAddr());
            if ((descGpa & 15) != 0 || (availGpa & 1) != 0 || (usedGpa & 3) != 0) {
                throw new BadDescriptorException("misaligned ring addresses " + address);
            }
            SplitVirtqueue q = new SplitVirtqueue(num,
                    mem.viewContiguous(descGpa, num * SplitVirtqueue.DESC_SIZE),
                    mem.viewContiguous(availGpa, SplitVirtqueue.availBytes(num)),
                    mem.viewContiguous(usedGpa, SplitVirtqueue.usedBytes(num)),
                    base, eventIdx, indirect);
            resubmitted = trackInflight(q);
            lock.lock();
            try {
                queue = q;
            } finally {
                lock.unlock();
            }
            ringMemory = mem;
        } catch (BadDescriptorException e) {
            mem.release();
            throw new VhostUserException("queue " + index + ": " + e.getMessage());
        }
        if (enableOnStart) {
            enabled = true;
        }
        startCrewOrStop();
        if (resubmitted > 0) {
            crew.wake(); // no kick will come for requests the driver already kicked us for
        }
        LOG.debug("queue {} started: size {}, base {}", index, num, base);
    }

    /** Starts inflight tracking on a new ring; returns how many chains it will resubmit. */
    private int trackInflight(SplitVirtqueue q) {
        if (inflightQueue == null) {
            return 0;
        }
        if (inflightQueue.descNum() < num) {
            LOG.warn("queue {}: inflight buffer tracks {} entries but the ring has {}; requests on this queue are "
                    + "not tracked and will not be resubmitted after a reconnect", index, inflightQueue.descNum(), num);
            return 0;
        }
        int n = q.trackInflight(inflightQueue);
        if (n > 0) {
            LOG.info("queue {}: resubmitting {} requests left in flight before this start (a reconnect or a ring "
                    + "restart); resuming at avail index {} (SET_VRING_BASE said {})", index, n, q.nextAvail(), base);
        }
        return n;
    }

    void setEnabled(boolean on) {
        enabled = on;
        if (on && isStarted()) {
            crew.wake(); // kicks that came while disabled were consumed without processing
        }
    }

    /** Stops the ring (GET_VRING_BASE): returns the next avail index. Idempotent. */
    int stop() {
        if (!isStarted()) {
            return base;
        }
        Crew stopped = stopCrew();
        EventFds.close(kickFd);
        kickFd = -1;
        long deadline = System.nanoTime() + drainTimeoutNanos;
        lock.lock();
        try {
            long left;
            draining = true;
            while (inflight > 0 && (left = deadline - System.nanoTime()) > 0) {
                try {
                    drained.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            draining = false;
            if (inflight > 0) {
                LOG.warn("queue {} stopped with {} requests still in flight; their replies will be dropped",
                        index, inflight);
            }
        } finally {
            lock.unlock();
        }
        stopped.awaitThreads(deadline); // they end once their requests are answered
        detachRing();
        LOG.debug("queue {} stopped at avail index {}", index, base);
        return base;
    }

    /** Stops the ring and closes every fd: back to the state of a fresh connection. */
    void reset() {
        stop();
        setCall(-1);
        setErr(-1);
        EventFds.close(kickFd);
        kickFd = -1;
        num = 0;
        address = null;
        base = 0;
        enabled = false;
    }

    private void requireStopped(String what) throws VhostUserException {
        if (isStarted()) {
            throw new VhostUserException(what + " on queue " + index + " while it runs");
        }
    }

    /** Starts the crew; if it cannot (a kick fd epoll refuses), the ring is left stopped at its position. */
    private void startCrewOrStop() throws VhostUserException {
        try {
            startCrew();
        } catch (VhostUserException e) {
            detachRing();
            throw e;
        }
    }

    /**
     * The ring is no longer served: keep its position as the base, drop the queue (a later
     * completion for it is discarded) and let go of its memory.
     */
    private void detachRing() {
        lock.lock();
        try {
            base = queue.nextAvail();
            queue = null;
            inflight = 0;
        } finally {
            lock.unlock();
        }
        ringMemory.release();
        ringMemory = null;
        enabled = false;
    }

    private void startCrew() throws VhostUserException {
        SplitVirtqueue q;
        lock.lock();
        try {
            q = queue;
        } finally {
            lock.unlock();
        }
        int wake = -1;
        try {
            wake = EventFds.create(true);
            crew = new Crew(q, kickFd, wake);
        } catch (FsException e) {
            EventFds.close(wake);
            throw new VhostUserException("queue " + index + ": " + e.getMessage());
        }
        badChains = 0;
        crew.start();
    }

    /** Stops the crew (see {@link Crew#stop}) and returns it, for waiting on its threads. */
    private Crew stopCrew() {
        Crew stopped = crew;
        stopped.stop();
        crew = null;
        return stopped;
    }

    /**
     * The threads serving one start of the ring. Each idle thread waits on the kick fd and the
     * crew's wake fd in its own epoll set with EPOLLEXCLUSIVE, so a kick wakes one idle thread, not
     * all of them; the sets are edge-triggered, so a wake-up reads no counter
     * ({@link EventFds#exclusiveWaiter}). The thread that wakes pops a chain and processes it
     * itself: a request costs no hand-off between threads. Right after each pop it re-arms the
     * driver's kick (EVENT_IDX), so a request that arrives while this one is processed kicks and
     * wakes another idle thread; chains already waiting get one woken through the wake fd. A slow
     * request thus holds back nothing while the crew has an idle thread, with no watchdog ticking.
     */
    final class Crew {
        private final SplitVirtqueue q;
        private final int kick;
        private final int wake;
        private final Thread[] threads;
        /**
         * Guards popping, notification state, and the fields below. A ReentrantLock rather than a
         * monitor: the crew's threads meet on it now and then, which inflates a monitor for good,
         * and an inflated monitor costs a call into the VM on every enter and exit under C1.
         */
        private final ReentrantLock ringLock = new ReentrantLock();
        /** Signalled when {@link #watching} drops while stopping. */
        private final Condition watchersLeft = ringLock.newCondition();
        private boolean stopping;
        /** Threads between releasing ringLock to wait on the fds and taking it again; stop() waits for 0. */
        private int watching;
        /** Threads not yet ended; the last one to end closes the wake fd. */
        private int alive;

        /** Makes every thread's epoll set here, on the connection thread, while the kick fd is surely open. */
        Crew(SplitVirtqueue q, int kick, int wake) throws FsException {
            this.q = q;
            this.kick = kick;
            this.wake = wake;
            this.threads = new Thread[threadsPerQueue];
            int[] waiters = new int[threads.length];
            Arrays.fill(waiters, -1);
            try {
                for (int i = 0; i < waiters.length; i++) {
                    waiters[i] = EventFds.exclusiveWaiter(kick, wake);
                }
            } catch (FsException e) {
                for (int w : waiters) {
                    EventFds.close(w);
                }
                throw e;
            }
            for (int i = 0; i < threads.length; i++) {
                int waiter = waiters[i];
                threads[i] = new Thread(() -> serve(waiter), "vfsgw-vq" + index + "-" + (i + 1));
                threads[i].setDaemon(true);
            }
            this.alive = threads.length;
        }

        void start() {
            for (Thread t : threads) {
                t.start();
            }
        }

        /** Wakes an idle thread to look at the ring (work the driver will not kick for). */
        void wake() {
            ringLock.lock();
            try {
                if (!stopping) {
                    signalWake();
                }
            } finally {
                ringLock.unlock();
            }
        }

        /** ringLock held. The wake fd is open while a thread is alive. */
        private void signalWake() {
            if (alive == 0) {
                return;
            }
            try {
                EventFds.signal(wake);
            } catch (FsException e) {
                LOG.error("queue {}: cannot wake the queue's threads", index, e);
            }
        }

        /**
         * Returns once no thread pops the ring or waits on the kick fd any more (so the caller may
         * close it); threads processing a chain finish it (stop() waits for them up to the drain
         * timeout) and then end.
         */
        void stop() {
            ringLock.lock();
            try {
                stopping = true;
                signalWake(); // each thread that sees it passes it on to the next waiting one
                while (watching > 0) {
                    try {
                        watchersLeft.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        LOG.warn("queue {}: interrupted while stopping; {} threads may still wait on its fds", index,
                                watching);
                        return;
                    }
                }
            } finally {
                ringLock.unlock();
            }
        }

        /** Waits until the crew's threads have ended or {@code deadline} (System.nanoTime) passes. */
        void awaitThreads(long deadline) {
            try {
                for (Thread t : threads) {
                    long left = deadline - System.nanoTime();
                    if (left > 0) {
                        t.join(Math.max(1, left / 1_000_000));
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** One thread's life: {@code waiter} is its own epoll set, closed when it ends. */
        private void serve(int waiter) {
            try {
                ByteBuffer events = EventFds.eventBuffer();
                DescriptorChain chain;
                while ((chain = next(waiter, events)) != null) {
                    process(q, chain);
                }
            } catch (FsException e) {
                LOG.error("queue {}: waiting for kicks failed; this thread no longer serves the queue", index, e);
            } catch (RuntimeException e) {
                LOG.error("queue {}: queue thread failed (a bug); it no longer serves the queue", index, e);
            } finally {
                EventFds.close(waiter);
                ringLock.lock();
                try {
                    if (--alive == 0) {
                        EventFds.close(wake);
                    }
                } finally {
                    ringLock.unlock();
                }
            }
        }

        /** The next chain to process, waiting for kicks while the ring is empty; null once stopping. */
        private DescriptorChain next(int waiter, ByteBuffer events) throws FsException {
            boolean waited = false;
            while (true) {
                ringLock.lock();
                try {
                    if (waited) {
                        waited = false;
                        watching--;
                        if (stopping) {
                            watchersLeft.signalAll();
                        }
                    }
                    if (stopping) {
                        if (watching > 0) {
                            signalWake(); // pass the stop on: EPOLLEXCLUSIVE woke only us
                        }
                        return null;
                    }
                    if (enabled) {
                        DescriptorChain chain = popValid();
                        if (chain != null) {
                            if (q.enableNotification()) {
                                signalWake(); // more were queued with it: an idle thread takes them
                            }
                            return chain;
                        }
                        if (q.enableNotification()) {
                            continue; // more arrived while notifications were off
                        }
                    }
                    watching++;
                    waited = true;
                } finally {
                    ringLock.unlock();
                }
                try {
                    // Edge-triggered: nothing to read back, the ring (or stopping) is looked at above.
                    EventFds.awaitExclusive(waiter, events);
                } catch (FsException | RuntimeException e) {
                    // This thread ends (epoll failed): stop() must not wait for it.
                    ringLock.lock();
                    try {
                        watching--;
                        watchersLeft.signalAll();
                    } finally {
                        ringLock.unlock();
                    }
                    throw e;
                }
            }
        }

        /** ringLock held: pops the next well-formed chain, returning bad ones empty; null when the ring is empty. */
        private DescriptorChain popValid() {
            while (true) {
                GuestMemory mem = memory.get();
                try {
                    DescriptorChain chain = q.pop(mem);
                    if (chain == null) {
                        mem.release();
                    }
                    return chain;
                } catch (SplitVirtqueue.BadChainException e) {
                    mem.release();
                    // A hostile guest can produce these as fast as it likes: keep the log readable.
                    if (++badChains <= 10 || badChains % 1000 == 0) {
                        LOG.warn("queue {}: dropping bad chain ({} so far): {}", index, badChains, e.getMessage());
                    }
                    if (e.head() >= 0) {
                        returnUsed(q, e.head(), 0, false);
                    }
                }
            }
        }
    }

    private void process(SplitVirtqueue q, DescriptorChain chain) {
        lock.lock();
        try {
            inflight++;
        } finally {
            lock.unlock();
        }
        Completion c = new Completion(q, chain);
        try {
            device.process(index, chain, c);
        } catch (RuntimeException e) {
            LOG.error("queue {}: device failed on chain {} (a bug); returning it empty", index, chain.head(), e);
            c.complete(0);
        }
    }

    /**
     * Pushes to the used ring and signals the call fd if the driver wants it; a chain counted in
     * {@link #inflight} is uncounted in the same lock hold (one lock per request, not two).
     */
    private void returnUsed(SplitVirtqueue q, int head, int len, boolean counted) {
        lock.lock();
        try {
            if (queue != q) {
                return; // the ring was stopped or restarted since this chain was popped
            }
            try {
                int before = q.nextUsed();
                q.pushUsed(head, len);
                if (callFd >= 0 && q.needsNotification(before)) {
                    try {
                        EventFds.signal(callFd);
                    } catch (FsException e) {
                        LOG.warn("queue {}: call fd signal failed: {}", index, e.getMessage());
                    }
                }
            } finally {
                if (counted && inflight > 0) {
                    inflight--;
                    if (draining) {
                        drained.signalAll();
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private static final AtomicIntegerFieldUpdater<Completion> DONE =
            AtomicIntegerFieldUpdater.newUpdater(Completion.class, "done");

    /** Exactly-once return of one chain; later calls are logged and ignored. */
    private final class Completion implements VirtioDevice.ChainCompletion {
        private final SplitVirtqueue q;
        private final DescriptorChain chain;
        /** 0 until completed, then 1; a field updated through {@link #DONE} rather than an AtomicBoolean per chain. */
        private volatile int done;

        Completion(SplitVirtqueue q, DescriptorChain chain) {
            this.q = q;
            this.chain = chain;
        }

        @Override
        public void complete(int usedLength) {
            if (!DONE.compareAndSet(this, 0, 1)) {
                LOG.error("queue {}: chain {} completed twice (a bug); second completion ignored", index, chain.head());
                return;
            }
            int len = usedLength;
            if (len < 0 || len > chain.writableLength()) {
                LOG.error("queue {}: chain {} completed with {} bytes but has {} writable (a bug); clamping",
                        index, chain.head(), usedLength, chain.writableLength());
                len = (int) Math.max(0, Math.min(len, chain.writableLength()));
            }
            try {
                returnUsed(q, chain.head(), len, true);
            } finally {
                chain.memory().release();
            }
        }
    }
}
