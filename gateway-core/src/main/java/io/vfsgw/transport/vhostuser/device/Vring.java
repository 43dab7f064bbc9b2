package io.vfsgw.transport.vhostuser.device;

import io.vfsgw.nativeio.EventFds;
import io.vfsgw.spi.FsException;
import io.vfsgw.transport.vhostuser.protocol.VhostUserException;
import io.vfsgw.transport.vhostuser.protocol.VringAddress;
import java.util.concurrent.atomic.AtomicBoolean;
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
    private final long inlineBudgetNanos;
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

    /** Bad chains seen since the ring started (leader only); the first few and every 1000th are logged. */
    private long badChains;
    private volatile boolean enabled;

    private final Object lock = new Object();
    private SplitVirtqueue queue; // guarded by lock
    private int callFd = -1; // guarded by lock
    private int inflight; // guarded by lock

    Vring(int index, VirtioDevice device, BackendOptions options, Supplier<GuestMemory> memory) {
        this.index = index;
        this.device = device;
        this.threadsPerQueue = options.workersPerQueue();
        this.inlineBudgetNanos = options.inlineBudget().toNanos();
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

    void setCall(int fd) {
        synchronized (lock) {
            EventFds.close(callFd);
            callFd = fd;
        }
    }

    /** Installs the kick fd and starts the ring if it is fully set up (or just swaps the fd if running). */
    void setKick(int fd, boolean eventIdx, boolean indirect, boolean enableOnStart) throws VhostUserException {
        if (isStarted()) {
            stopCrew();
            EventFds.close(kickFd);
            kickFd = fd;
            startCrew();
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
            synchronized (lock) {
                queue = q;
            }
            ringMemory = mem;
        } catch (BadDescriptorException e) {
            mem.release();
            throw new VhostUserException("queue " + index + ": " + e.getMessage());
        }
        if (enableOnStart) {
            enabled = true;
        }
        startCrew();
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
        synchronized (lock) {
            long left;
            while (inflight > 0 && (left = deadline - System.nanoTime()) > 0) {
                try {
                    lock.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (inflight > 0) {
                LOG.warn("queue {} stopped with {} requests still in flight; their replies will be dropped",
                        index, inflight);
            }
            base = queue.nextAvail();
            queue = null;
            inflight = 0;
        }
        stopped.awaitThreads(deadline); // they end once their requests are answered
        ringMemory.release();
        ringMemory = null;
        enabled = false;
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

    private void startCrew() throws VhostUserException {
        int wake;
        try {
            wake = EventFds.create(true);
        } catch (FsException e) {
            throw new VhostUserException("queue " + index + ": " + e.getMessage());
        }
        SplitVirtqueue q;
        synchronized (lock) {
            q = queue;
        }
        badChains = 0;
        crew = new Crew(q, kickFd, wake);
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
     * The threads serving one start of the ring, as leader and followers. One thread at a time, the
     * leader, pops the ring or waits on the kick fd, and processes each chain it pops itself: a
     * request costs no thread hand-off. A request that takes longer than the inline budget must not
     * leave the ring unwatched, so the {@link StallWatch} then deposes the busy leader and wakes a
     * follower to take the ring over; the old leader finishes its request and becomes a follower.
     * With a budget of zero (backends whose requests wait on the network) the leader hands the ring
     * on before every request instead.
     */
    final class Crew {
        private final SplitVirtqueue q;
        private final int kick;
        private final int wake;
        private final Thread[] threads;
        private volatile boolean stopping;
        // Guarded by this:
        private Thread leader;
        /** The leader is processing a chain (not watching the ring) since {@link #busySince}. */
        private boolean busy;
        private long busySince;

        Crew(SplitVirtqueue q, int kick, int wake) {
            this.q = q;
            this.kick = kick;
            this.wake = wake;
            this.threads = new Thread[threadsPerQueue];
            for (int i = 0; i < threads.length; i++) {
                threads[i] = new Thread(this::serve, "vfsgw-vq" + index + "-" + (i + 1));
                threads[i].setDaemon(true);
            }
        }

        void start() {
            if (inlineBudgetNanos > 0) {
                StallWatch.INSTANCE.register(this);
            }
            for (Thread t : threads) {
                t.start();
            }
        }

        void wake() {
            try {
                EventFds.signal(wake);
            } catch (FsException e) {
                LOG.error("queue {}: cannot wake the queue's threads", index, e);
            }
        }

        /**
         * Returns once no thread watches the ring or the kick fd any more; threads still processing a
         * chain finish it (stop() waits for them up to the drain timeout) and then end.
         */
        void stop() {
            stopping = true;
            wake();
            StallWatch.INSTANCE.unregister(this);
            synchronized (this) {
                notifyAll();
                while (leader != null && !busy) {
                    waitForChange();
                }
                leader = null; // a busy leader is not at the ring: it ends after its request
            }
            EventFds.close(wake);
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

        /** Called by the {@link StallWatch}: deposes a leader busy beyond the budget. True if busy at all. */
        synchronized boolean checkStall(long now) {
            if (!busy) {
                return false;
            }
            if (now - busySince >= inlineBudgetNanos) {
                LOG.debug("queue {}: a request has run for over {} us; another thread takes the ring", index,
                        inlineBudgetNanos / 1000);
                depose();
            }
            return true;
        }

        private void depose() {
            leader = null;
            busy = false;
            notify();
        }

        /** Waits for a notify; an interrupt stops the crew (only shutdown interrupts these threads). */
        private void waitForChange() {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopping = true;
            }
        }

        private void serve() {
            Thread me = Thread.currentThread();
            try {
                while (true) {
                    synchronized (this) {
                        while (leader != null && !stopping) {
                            waitForChange();
                        }
                        if (stopping) {
                            return;
                        }
                        leader = me;
                    }
                    lead(me);
                }
            } catch (FsException e) {
                LOG.error("queue {}: kick fd failed, queue no longer served until restarted", index, e);
            } catch (RuntimeException e) {
                LOG.error("queue {}: queue thread failed (a bug); queue no longer served until restarted", index, e);
            } finally {
                synchronized (this) {
                    if (leader == me) {
                        leader = null;
                    }
                    notifyAll();
                }
            }
        }

        /** Serves the ring as its leader until deposed (returns) or stopping (returns, leader cleared). */
        private void lead(Thread me) throws FsException {
            while (true) {
                DescriptorChain chain = awaitChain();
                synchronized (this) {
                    if (chain == null) { // stopping
                        leader = null;
                        notifyAll();
                        return;
                    }
                    if (inlineBudgetNanos == 0) {
                        depose(); // the ring goes to a follower before this request starts
                    } else {
                        busy = true;
                        busySince = System.nanoTime();
                        if (stopping) {
                            // stop() waits for the ring to be free of a leader at it, and only
                            // stop(): waking the idle followers for every request cost three thread
                            // wake-ups per request, a third of a 4 KiB read's time on a virtualized host
                            notifyAll();
                        }
                    }
                }
                if (inlineBudgetNanos > 0) {
                    StallWatch.INSTANCE.requestStarted();
                }
                process(q, chain);
                synchronized (this) {
                    if (leader != me) {
                        return; // deposed while processing: someone else has the ring now
                    }
                    busy = false;
                }
            }
        }

        /** Leader only: the next chain, waiting for kicks while the ring is empty; null once stopping. */
        private DescriptorChain awaitChain() throws FsException {
            while (!stopping) {
                if (enabled) {
                    DescriptorChain chain = popValid();
                    if (chain != null) {
                        return chain;
                    }
                    if (q.enableNotification()) {
                        continue; // more arrived while notifications were off
                    }
                }
                int ready = EventFds.awaitReadable(kick, wake, -1);
                if ((ready & 2) != 0) {
                    EventFds.read(wake);
                }
                if ((ready & 1) != 0) {
                    EventFds.read(kick); // zero when spurious: the ring is looked at anyway
                }
            }
            return null;
        }

        /** Pops the next well-formed chain, returning bad ones empty; null when the ring is empty. */
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
                        returnUsed(q, e.head(), 0);
                    }
                }
            }
        }
    }

    private void process(SplitVirtqueue q, DescriptorChain chain) {
        synchronized (lock) {
            inflight++;
        }
        Completion c = new Completion(q, chain);
        try {
            device.process(index, chain, c);
        } catch (RuntimeException e) {
            LOG.error("queue {}: device failed on chain {} (a bug); returning it empty", index, chain.head(), e);
            c.complete(0);
        }
    }

    /** Pushes to the used ring and signals the call fd if the driver wants it. */
    private void returnUsed(SplitVirtqueue q, int head, int len) {
        synchronized (lock) {
            if (queue != q) {
                return; // the ring was stopped or restarted since this chain was popped
            }
            int before = q.nextUsed();
            q.pushUsed(head, len);
            if (callFd >= 0 && q.needsNotification(before)) {
                try {
                    EventFds.signal(callFd);
                } catch (FsException e) {
                    LOG.warn("queue {}: call fd signal failed: {}", index, e.getMessage());
                }
            }
        }
    }

    /** Exactly-once return of one chain; later calls are logged and ignored. */
    private final class Completion implements VirtioDevice.ChainCompletion {
        private final SplitVirtqueue q;
        private final DescriptorChain chain;
        private final AtomicBoolean done = new AtomicBoolean();

        Completion(SplitVirtqueue q, DescriptorChain chain) {
            this.q = q;
            this.chain = chain;
        }

        @Override
        public void complete(int usedLength) {
            if (!done.compareAndSet(false, true)) {
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
                returnUsed(q, chain.head(), len);
            } finally {
                synchronized (lock) {
                    if (queue == q && inflight > 0) {
                        inflight--;
                    }
                    lock.notifyAll();
                }
                chain.memory().release();
            }
        }
    }
}
