package io.vfsgw.transport.vhostuser;

import io.vfsgw.nativeio.UnixSockets;
import io.vfsgw.session.FuseRequestHandler;
import io.vfsgw.spi.FsException;
import io.vfsgw.transport.vhostuser.device.VhostUserBackend;
import io.vfsgw.transport.vhostuser.protocol.VhostUserConnection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listens on a vhost-user socket and serves one front end (QEMU's vhost-user-fs-pci) at a time as
 * a virtio-fs device; another that connects meanwhile is refused. When a front end disconnects, every
 * piece of its state (rings, memory, fds, worker threads) is dropped and the next connection starts
 * fresh, unless exit-on-disconnect is set.
 */
public final class VhostUserServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VhostUserServer.class);
    private static final long SECOND_CONNECTION_GRACE_NS = TimeUnit.SECONDS.toNanos(2);

    private final Path socketPath;      // null for an adopted socket bound to no path
    private final boolean ownsSocketFile;
    private final String where;         // for logs: the path, or the inherited fd
    private final VhostUserOptions options;
    private final java.util.function.Supplier<? extends FuseRequestHandler> handlers;
    private final int listenFd;
    private final Thread acceptThread;
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private volatile boolean closing;
    private volatile int connectionFd = -1;
    private boolean attached;   // guarded by this: a front end is connected and being served
    private volatile VhostUserBackend currentBackend;

    private VhostUserServer(Path socketPath, boolean ownsSocketFile, String where, VhostUserOptions options,
                            java.util.function.Supplier<? extends FuseRequestHandler> handlers, int listenFd) {
        this.socketPath = socketPath;
        this.ownsSocketFile = ownsSocketFile;
        this.where = where;
        this.options = options;
        this.handlers = handlers;
        this.listenFd = listenFd;
        this.acceptThread = new Thread(this::acceptLoop, "vfsgw-vhost-user-accept");
    }

    /**
     * Binds {@code socket} (replacing a stale socket file nobody listens on), listens, and serves
     * front ends on a background thread. Returns once the socket accepts connections.
     *
     * @throws IOException when the path is in use by a live server, is not a socket, or cannot be bound
     */
    public static VhostUserServer start(Path socket, VhostUserOptions options, FuseRequestHandler handler)
            throws IOException {
        return start(socket, options, () -> handler);
    }

    /**
     * As {@link #start(Path, VhostUserOptions, FuseRequestHandler)}, with a fresh handler (a new FUSE
     * session) for each front end that connects; a handler that is {@link AutoCloseable} is closed
     * when its front end disconnects, so a rebooted guest starts from a clean session.
     */
    public static VhostUserServer start(Path socket, VhostUserOptions options,
                                        java.util.function.Supplier<? extends FuseRequestHandler> handlers)
            throws IOException {
        validate(options);
        Path dir = socket.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new IOException("cannot listen on " + socket + ": the directory " + dir + " does not exist");
        }
        Optional<GroupPrincipal> group = socketGroup(socket, options);
        removeStaleSocket(socket);
        int fd;
        try {
            fd = UnixSockets.socket();
        } catch (FsException e) {
            throw new IOException(e.getMessage(), e);
        }
        try {
            UnixSockets.bind(fd, socket);
            if (group.isPresent()) {
                Files.setAttribute(socket, "posix:group", group.get(), LinkOption.NOFOLLOW_LINKS);
                Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
            } else {
                Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            }
            UnixSockets.listen(fd, 1);
        } catch (FsException | IOException | RuntimeException e) {
            UnixSockets.close(fd);
            Files.deleteIfExists(socket);
            if (e instanceof IOException io) {
                throw io;
            }
            String why = !(e instanceof FsException fe) ? e.getMessage() : switch (fe.errno()) {
                case EACCES -> "no permission to create it in " + dir;
                case ENAMETOOLONG -> "the path is longer than the 107 bytes a Unix socket address holds";
                default -> fe.getMessage();
            };
            throw new IOException("cannot listen on " + socket + ": " + why, e);
        }
        VhostUserServer s = new VhostUserServer(socket, true, socket.toString(), options, handlers, fd);
        s.acceptThread.start();
        LOG.info("vhost-user-fs tag '{}' listening on {}", options.tag(), socket);
        return s;
    }

    /**
     * Serves on a listening socket this process inherited as {@code listenFd}, the way libvirt starts
     * a virtiofsd: it binds the socket itself and passes the fd ({@code --fd=N}). The socket file
     * stays the parent's: {@link #close()} closes the fd but removes no file.
     *
     * @throws IOException when the fd is not an open, listening AF_UNIX stream socket
     */
    public static VhostUserServer adopt(int listenFd, VhostUserOptions options,
                                        java.util.function.Supplier<? extends FuseRequestHandler> handlers)
            throws IOException {
        validate(options);
        Optional<Path> bound;
        try {
            bound = UnixSockets.adoptListening(listenFd);
        } catch (FsException e) {
            String why = switch (e.errno()) {
                case EBADF -> "it is not open in this process (did the parent pass it?)";
                case ENOTSOCK -> "it is not a socket";
                case EINVAL -> "it is not a listening Unix stream socket";
                default -> e.getMessage();
            };
            throw new IOException("cannot serve on fd " + listenFd + ": " + why, e);
        }
        String where = "fd " + listenFd + bound.map(p -> " (" + p + ")").orElse("");
        VhostUserServer s = new VhostUserServer(bound.orElse(null), false, where, options, handlers, listenFd);
        s.acceptThread.start();
        LOG.info("vhost-user-fs tag '{}' listening on {}", options.tag(), where);
        return s;
    }

    /** Tag and queue count are checked at start, not at the first connection. */
    private static void validate(VhostUserOptions options) {
        new VirtioFsDevice(options.tag(), options.numRequestQueues(), (rq, rp, c) -> c.complete(0));
    }

    private static Optional<GroupPrincipal> socketGroup(Path socket, VhostUserOptions options) throws IOException {
        if (options.socketGroup().isEmpty()) {
            return Optional.empty();
        }
        String name = options.socketGroup().get();
        try {
            return Optional.of(socket.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(name));
        } catch (UserPrincipalNotFoundException e) {
            throw new IOException("cannot give " + socket + " to group '" + name + "': there is no such group", e);
        }
    }

    private static void removeStaleSocket(Path socket) throws IOException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther()) {
            throw new IOException(socket + " exists and is not a socket; refusing to replace it");
        }
        try {
            int probe = UnixSockets.socket();
            try {
                UnixSockets.connect(probe, socket);
                throw new IOException(socket + " is in use by a running server");
            } catch (FsException refused) {
                LOG.info("removing stale socket {}", socket);
                Files.delete(socket);
            } finally {
                UnixSockets.close(probe);
            }
        } catch (FsException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * The connected front end's back-end request channel (SET_BACKEND_REQ_FD), for DAX's
     * SHMEM_MAP / SHMEM_UNMAP; empty when no front end is connected or it sent none. The fd is
     * owned by the connection and closed when it ends.
     */
    public OptionalInt backendRequestFd() {
        VhostUserBackend b = currentBackend;
        return b == null ? OptionalInt.empty() : b.backendRequestFd();
    }

    /** The socket's path; null for an inherited socket bound to none (abstract or unnamed). */
    public Path socketPath() {
        return socketPath;
    }

    /** Where this server listens, for messages: the path, or the inherited fd and its path. */
    public String where() {
        return where;
    }

    /** Completes when the server has stopped (after {@link #close()}, or the first disconnect with exit-on-disconnect). */
    public CompletableFuture<Void> terminated() {
        return terminated;
    }

    private void acceptLoop() {
        Thread serving = null;
        try {
            while (!closing) {
                int c;
                try {
                    c = UnixSockets.accept(listenFd);
                } catch (FsException e) {
                    if (!closing) {
                        LOG.error("accept on {} failed; server stops", where, e);
                    }
                    return;
                }
                if (!awaitDetached()) {
                    // A second VM on a busy socket would wait for our first reply forever, and its QEMU
                    // with it; closing makes its start-up fail at once instead.
                    UnixSockets.close(c);
                    if (!closing) {
                        LOG.warn("a second front end connected to {} while a VM is attached; refused (one VM"
                                + " per socket: give each VM its own socket)", where);
                    }
                    continue;
                }
                if (serving != null) {
                    joinQuietly(serving);   // the previous front end's state is dropped before the next starts
                }
                synchronized (this) {
                    if (closing) {
                        UnixSockets.close(c);
                        return;
                    }
                    connectionFd = c;
                    attached = true;
                }
                serving = new Thread(() -> serve(c), "vfsgw-vhost-user-connection");
                serving.start();
            }
        } finally {
            if (serving != null) {
                joinQuietly(serving);
            }
            terminated.complete(null);
        }
    }

    /**
     * Whether the current front end (if any) has gone, waiting a little: a killed QEMU's successor
     * may connect before its old connection's end of stream has been read.
     */
    private synchronized boolean awaitDetached() {
        long deadline = System.nanoTime() + SECOND_CONNECTION_GRACE_NS;
        try {
            for (long left = SECOND_CONNECTION_GRACE_NS; attached && !closing && left > 0;
                    left = deadline - System.nanoTime()) {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return !attached && !closing;
    }

    /** Serves one front end until it disconnects, then drops everything it held. */
    private void serve(int c) {
        LOG.info("vhost-user front end connected on {}", where);
        FuseRequestHandler handler = handlers.get();
        VirtioFsDevice device = new VirtioFsDevice(options.tag(), options.numRequestQueues(), handler);
        try (VhostUserBackend backend = new VhostUserBackend(device, options.backend())) {
            currentBackend = backend;
            new VhostUserConnection(c, backend).serve();
        } catch (RuntimeException e) {
            LOG.error("vhost-user connection failed (a bug); dropping it", e);
        } finally {
            currentBackend = null;
            synchronized (this) { // close() must never shut down a recycled fd number
                connectionFd = -1;
                UnixSockets.close(c);
                attached = false;
                if (options.exitOnDisconnect() && !closing) {
                    LOG.info("front end gone and exit-on-disconnect is set: stopping");
                    closing = true;
                    UnixSockets.shutdown(listenFd);
                }
                notifyAll();
            }
            if (handler instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    LOG.warn("closing the session of a disconnected front end failed", e);
                }
            }
        }
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops accepting, disconnects the current front end, resets its device, removes the socket file
     * (one this server bound; an adopted socket's file is its parent's).
     */
    @Override
    public void close() {
        closing = true;
        UnixSockets.shutdown(listenFd);
        synchronized (this) {
            if (connectionFd >= 0) {
                UnixSockets.shutdown(connectionFd);
            }
            notifyAll();
        }
        try {
            acceptThread.join(TimeUnit.SECONDS.toMillis(30));
            terminated.get(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
            LOG.warn("vhost-user server did not stop cleanly", e);
        }
        UnixSockets.close(listenFd);
        if (ownsSocketFile) {
            try {
                Files.deleteIfExists(socketPath);
            } catch (IOException e) {
                LOG.warn("cannot remove {}: {}", socketPath, e.getMessage());
            }
        }
    }
}
