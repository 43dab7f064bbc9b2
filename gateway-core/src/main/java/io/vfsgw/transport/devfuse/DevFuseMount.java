package io.vfsgw.transport.devfuse;

import io.vfsgw.nativeio.FuseDevice;
import io.vfsgw.nativeio.FusermountHelper;
import io.vfsgw.nativeio.Mounts;
import io.vfsgw.nativeio.Processes;
import io.vfsgw.session.FuseNotifier;
import io.vfsgw.session.FuseRequestHandler;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A host mount served through /dev/fuse: mounts, runs the worker threads (one cloned fd each),
 * and takes the mount down again on {@link #close()}, on SIGINT/SIGTERM (shutdown hook) and, through
 * the {@link UnmountWatchdog}, even when the JVM is killed with SIGKILL.
 *
 * <pre>{@code
 * try (DevFuseMount m = DevFuseMount.mount(Path.of("/mnt/x"), MountOptions.defaults(), session)) {
 *     session.setNotifier(m.notifier());
 *     m.awaitUnmount();          // returns when someone runs umount /mnt/x, or close() is called
 * }
 * }</pre>
 *
 * <p>The session must announce {@code max_write <= options.maxWrite()} in its INIT reply and keep
 * {@code max_pages * 4096 <= options.maxWrite()}, since every buffer is {@link MountOptions#bufferSize()}.
 */
public final class DevFuseMount implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DevFuseMount.class);
    private static final Path FUSECTL = Path.of("/sys/fs/fuse/connections");

    private final String mountPoint;
    private final MountOptions options;
    private final List<FuseWorker> workers;
    private final List<Thread> threads;
    private final DevFuseNotifier notifier;
    private final Optional<MountTable.Entry> entry;
    private final UnmountWatchdog watchdog;
    private final Thread shutdownHook;
    private boolean closed;

    private DevFuseMount(String mountPoint, MountOptions options, List<FuseWorker> workers,
                         Optional<MountTable.Entry> entry, UnmountWatchdog watchdog) {
        this.mountPoint = mountPoint;
        this.options = options;
        this.workers = workers;
        this.entry = entry;
        this.watchdog = watchdog;
        this.notifier = new DevFuseNotifier(workers.get(0).device());
        this.threads = new ArrayList<>();
        for (FuseWorker w : workers) {
            Thread t = new Thread(w, "vfsgw-fuse-" + threads.size());
            t.setDaemon(true); // the owner decides how long to live, through awaitUnmount()
            threads.add(t);
        }
        this.shutdownHook = new Thread(this::close, "vfsgw-unmount-on-exit");
    }

    /**
     * Checks the mount point, mounts, and starts serving with {@code options.workerThreads()}
     * threads. The kernel queues INIT at once; the handler answers it like any other request.
     *
     * @throws FsException ENOENT, ENOTDIR, ENOTEMPTY, EBUSY, ENOTCONN from the mount point check
     *                     (messages say what to do); EPERM for mount method SYSCALL without root;
     *                     EIO when fusermount3 refused (its own message is on stderr); or the
     *                     errno of open(/dev/fuse) or mount(2)
     */
    public static DevFuseMount mount(Path mountPoint, MountOptions options, FuseRequestHandler handler)
            throws FsException {
        String target = MountPointCheck.check(mountPoint, options.allowNonEmpty());
        boolean viaFusermount = switch (options.mountMethod()) {
            case AUTO -> !Processes.isRoot();
            case SYSCALL -> false;
            case FUSERMOUNT -> true;
        };
        if (!viaFusermount && !Processes.isRoot()) {
            throw FsException.of(Errno.EPERM, "mounting " + target + " with mount(2) needs root (CAP_SYS_ADMIN); "
                    + "run as root or let vfsgw use fusermount3 (mount method AUTO or FUSERMOUNT)");
        }
        List<FuseDevice> devices = new ArrayList<>();
        boolean mounted = false;
        UnmountWatchdog watchdog = null;
        try {
            FuseDevice first = viaFusermount ? mountWithFusermount(target, options) : mountWithSyscall(target, options);
            devices.add(first);
            mounted = true;
            Optional<MountTable.Entry> entry = MountTable.topAt(target)
                    .filter(m -> m.fsType().equals(MountPointCheck.FS_TYPE));
            if (options.watchdog()) {
                try {
                    watchdog = UnmountWatchdog.start(lazyUnmountCommand(target));
                } catch (IOException e) {
                    throw FsException.wrap(Errno.EIO, e, "cannot start the unmount watchdog (/bin/sh): " + e.getMessage());
                }
            }
            // The first reply on a connection is INIT's; once the kernel has taken it, the bdi's
            // read-ahead can be raised (before that, INIT would set it back).
            Runnable afterInit = entry.<Runnable>map(en -> new OnceAfterInit(en, options.maxWrite())).orElse(() -> { });
            List<FuseWorker> workers = new ArrayList<>();
            workers.add(new FuseWorker(0, first, handler, options.bufferSize(), afterInit));
            for (int i = 1; i < options.workerThreads(); i++) {
                FuseDevice device = first;
                try {
                    device = first.cloneDevice();
                    devices.add(device);
                } catch (FsException e) {
                    // e.g. /dev/fuse is mode 0600 and we are not root: threads then share one fd, as libfuse
                    // does without clone_fd; the kernel still hands each request to one reader.
                    if (i == 1) {
                        LOG.warn("{}: cannot clone the /dev/fuse fd ({}); {} workers share one fd", target,
                                e.getMessage(), options.workerThreads());
                    }
                }
                workers.add(new FuseWorker(i, device, handler, options.bufferSize(), afterInit));
            }
            DevFuseMount m = new DevFuseMount(target, options, workers, entry, watchdog);
            m.start();
            LOG.info("mounted {} on {} with {} worker(s){}", options.fsName(), target, workers.size(),
                    viaFusermount ? " through fusermount3" : "");
            return m;
        } catch (FsException | RuntimeException e) {
            if (mounted) {
                detach(target);
            }
            if (watchdog != null) {
                watchdog.stop();
            }
            devices.forEach(FuseDevice::close);
            throw e;
        }
    }

    /**
     * A new FUSE mount's bdi reads ahead 128 KiB, so a cold sequential read costs one READ round trip
     * per 128 KiB; reading ahead max_write (1 MiB) makes it one per MiB, about 1.4x faster here
     * (docs/benchmarks.md). It must happen after the kernel has processed INIT (which sets the
     * window from max_readahead), so it runs once, right after the first reply was written. Best
     * effort: only root may write sysfs, and a failure only costs speed.
     */
    private static final class OnceAfterInit implements Runnable {
        private final Path knob;
        private final int maxWrite;
        private final java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();

        OnceAfterInit(MountTable.Entry entry, int maxWrite) {
            this.knob = Path.of("/sys/class/bdi", entry.major() + ":" + entry.minor(), "read_ahead_kb");
            this.maxWrite = maxWrite;
        }

        @Override
        public void run() {
            if (done.compareAndSet(false, true)) {
                try {
                    Files.writeString(knob, Integer.toString(maxWrite / 1024));
                } catch (IOException | RuntimeException e) {
                    LOG.debug("cannot raise read-ahead through {}: {}", knob, e.toString());
                }
            }
        }
    }

    private static FuseDevice mountWithSyscall(String target, MountOptions options) throws FsException {
        FuseDevice device = FuseDevice.open();
        long flags = Mounts.MS_NOSUID | Mounts.MS_NODEV | (options.readOnly() ? Mounts.MS_RDONLY : 0);
        try {
            Mounts.mount(options.fsName(), target, MountPointCheck.FS_TYPE, flags, mountData(device, options));
            return device;
        } catch (FsException e) {
            device.close();
            throw FsException.of(e.errno(), "cannot mount " + target + ": " + e.getMessage()
                    + (e.errno() == Errno.ENODEV ? "; is the fuse kernel module loaded (modprobe fuse)?" : ""));
        }
    }

    // fusermount3 adds fd, rootmode, user_id and group_id itself; subtype makes the type fuse.vfsgw.
    private static FuseDevice mountWithFusermount(String target, MountOptions options) throws FsException {
        StringBuilder o = new StringBuilder(options.readOnly() ? "ro" : "rw")
                .append(",nosuid,nodev,fsname=").append(options.fsName()).append(",subtype=vfsgw");
        if (options.defaultPermissions()) {
            o.append(",default_permissions");
        }
        if (options.allowOther()) {
            o.append(",allow_other"); // fusermount3 refuses it for non-root unless /etc/fuse.conf has user_allow_other
        }
        return FusermountHelper.mount(target, o.toString());
    }

    private static List<String> lazyUnmountCommand(String target) {
        return Processes.isRoot() ? List.of("umount", "-l", "--", target)
                : List.of(Objects.requireNonNullElse(FusermountHelper.findFusermount(), "fusermount3"),
                "-u", "-z", "--", target);
    }

    // The kernel's fuse mount options (fs/fuse/inode.c): fd, rootmode (octal), user_id, group_id.
    private static String mountData(FuseDevice device, MountOptions options) {
        StringBuilder data = new StringBuilder()
                .append("fd=").append(device.fd())
                .append(",rootmode=40000")
                .append(",user_id=").append(Integer.toUnsignedString(Processes.uid()))
                .append(",group_id=").append(Integer.toUnsignedString(Processes.gid()));
        if (options.defaultPermissions()) {
            data.append(",default_permissions");
        }
        if (options.allowOther()) {
            data.append(",allow_other");
        }
        return data.toString();
    }

    private void start() {
        threads.forEach(Thread::start);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** The canonical path mounted on. */
    public Path mountPoint() {
        return Path.of(mountPoint);
    }

    /** Sends FUSE_NOTIFY_* messages to the kernel through this mount's connection. */
    public FuseNotifier notifier() {
        return notifier;
    }

    /** The options this mount was made with (the session reads maxWrite from here). */
    public MountOptions options() {
        return options;
    }

    /** Number of worker threads (and /dev/fuse fds) serving this mount. */
    public int workerCount() {
        return workers.size();
    }

    /** Requests read so far by each worker, in worker order. */
    public long[] requestsPerWorker() {
        return workers.stream().mapToLong(FuseWorker::served).toArray();
    }

    /** True while at least one worker is still reading requests. */
    public boolean isServing() {
        return threads.stream().anyMatch(Thread::isAlive);
    }

    /**
     * Blocks until the filesystem is unmounted (by {@code umount} from outside or by {@link #close()})
     * and every worker has ended. Call {@link #close()} afterwards to release the fds.
     */
    public void awaitUnmount() throws InterruptedException {
        for (Thread t : threads) {
            t.join();
        }
    }

    /**
     * Unmounts (lazily if busy), waits up to {@code options.unmountGrace()} for the workers, aborts
     * the connection if they are still held (a lazily detached mount with open files), then closes
     * the fds. Idempotent; safe from the shutdown hook and any thread.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        unmount();
        if (watchdog != null) {
            watchdog.stop();
        }
        if (!joinWorkers(options.unmountGrace())) {
            LOG.warn("{}: still in use after unmount; aborting the FUSE connection", mountPoint);
            abortConnection();
            if (!joinWorkers(options.unmountGrace().plusSeconds(1))) {
                threads.forEach(Thread::interrupt);
            }
        }
        for (int i = 0; i < workers.size(); i++) {
            FuseDevice device = workers.get(i).device();
            boolean inUse = false;
            for (int j = 0; j < workers.size(); j++) {
                inUse |= threads.get(j).isAlive() && workers.get(j).device() == device;
            }
            if (inUse) {
                LOG.warn("{}: worker {} did not end; leaving its fd open", mountPoint, i);
            } else {
                device.close(); // idempotent: workers may share one fd
            }
        }
        if (Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down: the hook may be running close() right now
            }
        }
        LOG.info("unmounted {}", mountPoint);
    }

    /** Unmounts only if the topmost mount at the path is still ours, never someone mounted over us. */
    private void unmount() {
        Optional<MountTable.Entry> top = MountTable.topAt(mountPoint);
        if (top.isEmpty() || !top.get().fsType().equals(MountPointCheck.FS_TYPE)) {
            LOG.debug("{} is no longer mounted by us", mountPoint);
            return;
        }
        if (entry.isPresent() && top.get().id() != entry.get().id()) {
            LOG.warn("{}: another vfsgw mount is on top of ours; leaving it alone", mountPoint);
            return;
        }
        if (!Processes.isRoot()) {
            if (!runFusermountUnmount(mountPoint, false)) {
                LOG.info("{} is busy; detaching it lazily", mountPoint);
                runFusermountUnmount(mountPoint, true);
            }
            return;
        }
        try {
            Mounts.umount2(mountPoint, 0);
        } catch (FsException e) {
            if (e.errno() == Errno.EBUSY) {
                LOG.info("{} is busy; detaching it lazily", mountPoint);
                detach(mountPoint);
            } else {
                LOG.warn("cannot unmount {}: {}", mountPoint, e.getMessage());
            }
        }
    }

    /** Lazy unmount: umount2(MNT_DETACH) as root, fusermount3 -u -z otherwise. */
    private static void detach(String target) {
        if (!Processes.isRoot()) {
            runFusermountUnmount(target, true);
            return;
        }
        try {
            Mounts.umount2(target, Mounts.MNT_DETACH);
        } catch (FsException e) {
            LOG.warn("cannot detach {}: {}", target, e.getMessage());
        }
    }

    /** fusermount3 -u [-z] -- target; true if it succeeded. Only unprivileged users get here. */
    private static boolean runFusermountUnmount(String target, boolean lazy) {
        List<String> cmd = new ArrayList<>(List.of(
                Objects.requireNonNullElse(FusermountHelper.findFusermount(), "fusermount3"), "-u"));
        if (lazy) {
            cmd.add("-z");
        } else {
            cmd.add("-q"); // a busy mount is expected here; we retry lazily
        }
        cmd.addAll(List.of("--", target));
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            return p.waitFor() == 0;
        } catch (IOException e) {
            LOG.warn("cannot run {}: {}", cmd, e.getMessage());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private boolean joinWorkers(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
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
        return threads.stream().noneMatch(Thread::isAlive);
    }

    /**
     * Aborts the connection through fusectl (what `echo 1 > .../abort` does): pending and future
     * requests fail with ENOTCONN and our blocked reads return, so close() cannot hang on a
     * process that keeps a file open in the detached mount. Mounts fusectl if nobody has.
     */
    private void abortConnection() {
        if (entry.isEmpty()) {
            LOG.warn("{}: connection id unknown; cannot abort", mountPoint);
            return;
        }
        Path abort = FUSECTL.resolve(Long.toString(entry.get().connectionId())).resolve("abort");
        try {
            if (!Files.exists(abort) && MountTable.read().stream().noneMatch(m -> m.fsType().equals("fusectl"))) {
                Mounts.mount("fusectl", FUSECTL.toString(), "fusectl", 0, null);
            }
            Files.writeString(abort, "1", StandardCharsets.US_ASCII);
        } catch (IOException | FsException e) {
            LOG.warn("{}: cannot abort the FUSE connection through {}: {}", mountPoint, abort, e.getMessage());
        }
    }
}
