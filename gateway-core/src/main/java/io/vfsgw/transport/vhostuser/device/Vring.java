package io.vfsgw.transport.vhostuser.device;

import io.vfsgw.nativeio.EventFds;
import io.vfsgw.spi.FsException;
import io.vfsgw.transport.vhostuser.protocol.VhostUserException;
import io.vfsgw.transport.vhostuser.protocol.VringAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One virtqueue's vhost-user state and its threads: the ring set-up the front end sends (num,
 * addresses, base, kick/call/err fds, enable), a kick thread that waits on the kick eventfd and
 * pops chains, and the hand-off of chains to the queue's worker pool.
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
 * the kick thread is woken for those, since the driver will not kick again for them.
 */
final class Vring {
    private static final Logger LOG = LoggerFactory.getLogger(Vring.class);

    private final int index;
    private final VirtioDevice device;
    private final ExecutorService workers;
    /** The current memory snapshot, already retained for the caller (who must release it). */
    private final Supplier<GuestMemory> memory;
    private final long drainTimeoutNanos;

    // Set-up state: connection thread only.
    private int num;
    private VringAddress address;
    private int base;
    private int kickFd = -1;
    private int errFd = -1;
    private int wakeFd = -1;
    private Thread kickThread;
    private GuestMemory ringMemory;
    /** This queue's region of the inflight buffer (SET_INFLIGHT_FD), or null: no tracking. */
    private InflightQueue inflightQueue;

    /** Bad chains seen since the ring started; only the first few and then every 1000th are logged. */
    private long badChains;
    private volatile boolean enabled;
    private volatile boolean stopping;

    private final Object lock = new Object();
    private SplitVirtqueue queue; // guarded by lock (and read by the kick thread it belongs to)
    private int callFd = -1; // guarded by lock
    private int inflight; // guarded by lock

    Vring(int index, VirtioDevice device, ExecutorService workers, Supplier<GuestMemory> memory, long drainTimeoutNanos) {
        this.index = index;
        this.device = device;
        this.workers = workers;
        this.memory = memory;
        this.drainTimeoutNanos = drainTimeoutNanos;
    }

    boolean isStarted() {
        return kickThread != null;
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
            stopKickThread();
            EventFds.close(kickFd);
            kickFd = fd;
            startKickThread();
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
        startKickThread();
        if (resubmitted > 0) {
            wake(); // no kick will come for requests the driver already kicked us for
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
            wake(); // kicks that came while disabled were consumed without processing
        }
    }

    /** Stops the ring (GET_VRING_BASE): returns the next avail index. Idempotent. */
    int stop() {
        if (!isStarted()) {
            return base;
        }
        stopKickThread();
        EventFds.close(kickFd);
        kickFd = -1;
        synchronized (lock) {
            long deadline = System.nanoTime() + drainTimeoutNanos;
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

    private void startKickThread() throws VhostUserException {
        try {
            wakeFd = EventFds.create(true);
        } catch (FsException e) {
            throw new VhostUserException("queue " + index + ": " + e.getMessage());
        }
        stopping = false;
        badChains = 0;
        int kick = kickFd;
        int wake = wakeFd;
        kickThread = new Thread(() -> kickLoop(kick, wake), "vfsgw-vq" + index + "-kick");
        kickThread.setDaemon(true);
        kickThread.start();
    }

    private void stopKickThread() {
        stopping = true;
        wake();
        boolean interrupted = false;
        while (true) {
            try {
                kickThread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        kickThread = null;
        EventFds.close(wakeFd);
        wakeFd = -1;
    }

    private void wake() {
        try {
            EventFds.signal(wakeFd);
        } catch (FsException e) {
            LOG.error("queue {}: cannot wake the kick thread", index, e);
        }
    }

    private void kickLoop(int kick, int wake) {
        try {
            while (true) {
                int ready = EventFds.awaitReadable(kick, wake, -1);
                if ((ready & 2) != 0) {
                    EventFds.read(wake);
                }
                if (stopping) {
                    return;
                }
                if ((ready & 1) != 0 && EventFds.read(kick) == 0 && (ready & 2) == 0) {
                    continue; // spurious: another reader or a hang-up with nothing to read
                }
                if (enabled) {
                    drain();
                }
            }
        } catch (FsException e) {
            LOG.error("queue {}: kick fd failed, queue no longer served until restarted", index, e);
        } catch (RuntimeException e) {
            LOG.error("queue {}: kick thread failed (a bug); queue no longer served until restarted", index, e);
        }
    }

    /** Pops every available chain and hands each to a worker; repeats until the ring stays empty. */
    private void drain() {
        SplitVirtqueue q;
        synchronized (lock) {
            q = queue;
        }
        if (q == null) {
            return;
        }
        do {
            while (!stopping) {
                GuestMemory mem = memory.get();
                DescriptorChain chain;
                try {
                    chain = q.pop(mem);
                } catch (SplitVirtqueue.BadChainException e) {
                    mem.release();
                    // A hostile guest can produce these as fast as it likes: keep the log readable.
                    if (++badChains <= 10 || badChains % 1000 == 0) {
                        LOG.warn("queue {}: dropping bad chain ({} so far): {}", index, badChains, e.getMessage());
                    }
                    if (e.head() >= 0) {
                        returnUsed(q, e.head(), 0);
                    }
                    continue;
                }
                if (chain == null) {
                    mem.release();
                    break;
                }
                dispatch(q, chain);
            }
        } while (!stopping && q.enableNotification());
    }

    private void dispatch(SplitVirtqueue q, DescriptorChain chain) {
        synchronized (lock) {
            inflight++;
        }
        Completion c = new Completion(q, chain);
        try {
            workers.execute(() -> {
                try {
                    device.process(index, chain, c);
                } catch (RuntimeException e) {
                    LOG.error("queue {}: device failed on chain {} (a bug); returning it empty", index, chain.head(), e);
                    c.complete(0);
                }
            });
        } catch (RejectedExecutionException e) {
            c.complete(0); // shutting down
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
