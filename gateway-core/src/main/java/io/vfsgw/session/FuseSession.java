package io.vfsgw.session;

import io.vfsgw.cache.CacheMode;
import io.vfsgw.cache.ChangeOrigin;
import io.vfsgw.cache.MetadataCache;
import io.vfsgw.fuse.InHeader;
import io.vfsgw.fuse.MalformedRequestException;
import io.vfsgw.fuse.NegotiatedProtocol;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.fuse.RequestDecoder;
import io.vfsgw.fuse.WriteIn;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One FUSE connection (a host mount, or one guest's virtio-fs device): decodes each request,
 * dispatches it by opcode to the family that serves it, and writes the reply into the transport's
 * buffers. Safe for many transport threads at once; requests are served on the calling thread.
 *
 * <p>Failure channels (STYLE §6): an {@link FsException} becomes the errno reply; a
 * {@link MalformedRequestException} becomes EIO when the header could be read (or a dropped
 * request when not); any other exception is a vfsgw bug, logged once and answered EIO. Nothing
 * escapes {@link #handle}.
 */
public final class FuseSession implements FuseRequestHandler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FuseSession.class);
    private static final AtomicLong IDS = new AtomicLong();
    /** The largest non-WRITE request we accept (names, xattr values, batch forgets). */
    private static final int MAX_ARGUMENT_BYTES = 1 << 20;

    final long id = IDS.incrementAndGet();
    final MetadataCache backend;
    final SessionConfig config;
    final NodeTable nodes = new NodeTable(StorageBackend.ROOT_ID);
    final HandleTable handles = new HandleTable();
    final Interrupts interrupts = new Interrupts();
    /** Threads for contended SETLKW waits; each waits as long as the lock holder keeps the lock. */
    final ExecutorService lockWaiters = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "vfsgw-lock-wait");
        t.setDaemon(true);
        return t;
    });
    /** Kernel lock owners are only unique per connection; the shared backend needs global ones. */
    private final Map<Long, Long> lockOwners = new ConcurrentHashMap<>();
    private static final AtomicLong LOCK_OWNERS = new AtomicLong();
    volatile NegotiatedProtocol protocol;
    private volatile boolean destroyed;
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong bugs = new AtomicLong();

    private final SessionOps sessionOps;
    private final EntryOps entryOps;
    private final FileOps fileOps;
    private final DirOps dirOps;
    private final XattrOps xattrOps;
    private final LockOps lockOps;
    private final KernelInvalidator changeListener;
    private volatile FuseNotifier notifier;

    public FuseSession(MetadataCache backend, SessionConfig config) {
        this.backend = backend;
        this.config = config;
        this.sessionOps = new SessionOps(this);
        this.entryOps = new EntryOps(this);
        this.fileOps = new FileOps(this);
        this.dirOps = new DirOps(this);
        this.xattrOps = new XattrOps(this);
        this.lockOps = new LockOps(this);
        this.changeListener = new KernelInvalidator(this);
        backend.addListener(changeListener);
    }

    /**
     * Lets the session tell its kernel about changes other sessions make (over /dev/fuse). Without
     * one, other sessions' changes are seen when this kernel's cache timeouts expire.
     */
    public void setNotifier(FuseNotifier notifier) {
        this.notifier = notifier;
    }

    FuseNotifier notifier() {
        return notifier;
    }

    public long id() {
        return id;
    }

    /** The protocol INIT settled, or null before INIT. */
    public NegotiatedProtocol protocol() {
        return protocol;
    }

    /** Requests rejected as malformed since start. */
    public long malformedCount() {
        return malformed.get();
    }

    /** Requests that hit a vfsgw bug (unexpected exception) since start. */
    public long bugCount() {
        return bugs.get();
    }

    public int openHandleCount() {
        return handles.size();
    }

    public int knownNodeCount() {
        return nodes.size();
    }

    @Override
    public void handle(ByteBuffer[] request, ByteBuffer[] reply, ReplyCompletion completion) {
        int total = Segments.totalLength(request);
        InHeader h;
        try {
            h = decodeHeader(request, total);
        } catch (MalformedRequestException e) {
            // Without a trustworthy header there is no unique to answer: return the buffers unanswered.
            malformed.incrementAndGet();
            LOG.warn("dropping malformed request: {}", e.getMessage());
            completion.complete(0);
            return;
        } catch (RuntimeException e) {
            bugs.incrementAndGet();
            LOG.error("bug decoding a request header; dropping it", e);
            completion.complete(0);
            return;
        }
        try (Reply r = new Reply(reply, h.unique(), completion)) {
            Request req;
            try {
                req = decodeArguments(h, request, total);
            } catch (MalformedRequestException e) {
                // The header is sound, so the kernel waits for this unique: answer it (STYLE section 6).
                malformed.incrementAndGet();
                LOG.warn("malformed {} request (unique={}): {}", Opcode.fromCode(h.opcode()), h.unique(), e.getMessage());
                answerMalformed(Opcode.fromCode(h.opcode()), r);
                return;
            } catch (RuntimeException e) {
                bugs.incrementAndGet();
                LOG.error("bug decoding the arguments of opcode {} (unique={}); answering EIO", h.opcode(), h.unique(), e);
                answerMalformed(Opcode.fromCode(h.opcode()), r);
                return;
            }
            serve(req, r);
        }
    }

    /** EIO, except for the requests the kernel expects no reply to (FORGET, BATCH_FORGET, INTERRUPT...). */
    private static void answerMalformed(Opcode op, Reply reply) {
        if (reply.isDone()) {
            return;
        }
        if (op != null && !op.expectsReply()) {
            reply.none();
        } else {
            reply.error(Errno.EIO);
        }
    }

    private void serve(Request req, Reply reply) {
        ChangeOrigin.set(id);
        if (LOG.isTraceEnabled()) {
            LOG.trace("request {} node {} (unique={})", req.opcode, req.nodeid(), req.unique());
        }
        try {
            dispatch(req, reply);
        } catch (FsException e) {
            if (!reply.isDone()) {
                if (e.errno() == Errno.EIO) {
                    // The message names the cause (an S3 error, a host errno); its stack, which for a
                    // failing remote store repeats on every retry of the guest, only at debug.
                    LOG.warn("{} node {}: {}", req.opcode, req.nodeid(), e.getMessage(),
                            LOG.isDebugEnabled() ? e.getCause() : null);
                } else if (LOG.isDebugEnabled()) {
                    LOG.debug("{} node {}: {}", req.opcode, req.nodeid(), e.getMessage());
                }
                reply.error(e.errno());
            }
        } catch (MalformedRequestException e) {
            malformed.incrementAndGet();
            LOG.warn("malformed {} request (unique={}): {}", req.opcode, req.unique(), e.getMessage());
            answerMalformed(req.opcode, reply);
        } catch (OutOfMemoryError e) {
            // The heap is full (a mem backend past what the JVM can hold): this request fails, the
            // daemon keeps serving everyone else.
            LOG.error("out of memory serving {} node {} (unique={}); answering ENOMEM", req.opcode, req.nodeid(),
                    req.unique());
            if (!reply.isDone()) {
                reply.error(Errno.ENOMEM);
            }
        } catch (RuntimeException | Error e) {
            bugs.incrementAndGet();
            LOG.error("bug serving {} node {} (unique={}); answering EIO", req.opcode, req.nodeid(), req.unique(), e);
            if (!reply.isDone()) {
                reply.error(Errno.EIO);
            }
            if (e instanceof Error err && !(e instanceof StackOverflowError)) {
                throw err;
            }
        } finally {
            ChangeOrigin.clear();
        }
    }

    /** Reads and checks the in-header against the bytes that arrived (it may span several views). */
    private static InHeader decodeHeader(ByteBuffer[] request, int total) throws MalformedRequestException {
        if (total < InHeader.SIZE) {
            throw new MalformedRequestException("request of " + total + " bytes is shorter than fuse_in_header");
        }
        ByteBuffer first = request[0];
        if (first.position() == 0 && first.limit() >= InHeader.SIZE && first.order() == ByteOrder.LITTLE_ENDIAN) {
            return RequestDecoder.decodeHeader(first, total); // the usual case: read in place, no copy
        }
        ByteBuffer hdr = ByteBuffer.allocate(InHeader.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        Segments.copy(request, 0, hdr, InHeader.SIZE);
        hdr.flip();
        return RequestDecoder.decodeHeader(hdr, total);
    }

    /** Copies the arguments out of the transport views; WRITE data stays a view. */
    private Request decodeArguments(InHeader h, ByteBuffer[] request, int total) throws MalformedRequestException {
        Opcode op = Opcode.fromCode(h.opcode());
        int argLen = h.len() - InHeader.SIZE;
        if (op == null) {
            return new Request(h, null, ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN), null);  // ENOSYS
        }
        if (op == Opcode.WRITE) {
            NegotiatedProtocol p = protocol;
            int fixed = (p != null && p.compatReadWriteIn()) ? WriteIn.COMPAT_SIZE : WriteIn.SIZE;
            if (argLen < fixed) {
                throw new MalformedRequestException("WRITE of " + argLen + " argument bytes is shorter than fuse_write_in");
            }
            ByteBuffer body = ByteBuffer.allocate(fixed).order(ByteOrder.LITTLE_ENDIAN);
            Segments.copy(request, InHeader.SIZE, body, fixed);
            body.flip();
            Segments data = new Segments(request, h.len());
            data.skip(InHeader.SIZE + fixed);
            return new Request(h, op, body, data);
        }
        if (argLen > MAX_ARGUMENT_BYTES) {
            throw new MalformedRequestException(op + " carries " + argLen + " argument bytes; the limit is "
                    + MAX_ARGUMENT_BYTES);
        }
        // A copy, not a view: the guest may rewrite its buffers while we validate and use them.
        ByteBuffer body = ByteBuffer.allocate(argLen).order(ByteOrder.LITTLE_ENDIAN);
        Segments.copy(request, InHeader.SIZE, body, argLen);
        body.flip();
        return new Request(h, op, body, null);
    }

    private void dispatch(Request req, Reply reply) throws FsException, MalformedRequestException {
        Opcode op = req.opcode;
        if (op == null) {
            reply.error(Errno.ENOSYS);
            return;
        }
        if (protocol == null && op != Opcode.INIT) {
            // Nothing but INIT is valid before INIT; FORGETs get no reply at all.
            if (op == Opcode.FORGET || op == Opcode.BATCH_FORGET) {
                reply.none();
            } else {
                reply.error(Errno.EIO);
            }
            return;
        }
        switch (op) {
            case INIT -> sessionOps.init(req, reply);
            case DESTROY -> sessionOps.destroy(req, reply);
            case STATFS -> sessionOps.statfs(req, reply);
            case SYNCFS -> sessionOps.syncfs(req, reply);
            case INTERRUPT -> sessionOps.interrupt(req, reply);
            case LOOKUP -> entryOps.lookup(req, reply);
            case FORGET -> entryOps.forget(req, reply);
            case BATCH_FORGET -> entryOps.batchForget(req, reply);
            case GETATTR -> entryOps.getattr(req, reply);
            case SETATTR -> entryOps.setattr(req, reply);
            case READLINK -> entryOps.readlink(req, reply);
            case SYMLINK -> entryOps.symlink(req, reply);
            case MKNOD -> entryOps.mknod(req, reply);
            case MKDIR -> entryOps.mkdir(req, reply);
            case UNLINK -> entryOps.unlink(req, reply);
            case RMDIR -> entryOps.rmdir(req, reply);
            case RENAME -> entryOps.rename(req, reply, false);
            case RENAME2 -> entryOps.rename(req, reply, true);
            case LINK -> entryOps.link(req, reply);
            case ACCESS -> entryOps.access(req, reply);
            case OPEN -> fileOps.open(req, reply);
            case CREATE -> fileOps.create(req, reply);
            case TMPFILE -> fileOps.tmpfile(req, reply);
            case READ -> fileOps.read(req, reply);
            case WRITE -> fileOps.write(req, reply);
            case FLUSH -> fileOps.flush(req, reply);
            case RELEASE -> fileOps.release(req, reply);
            case FSYNC -> fileOps.fsync(req, reply);
            case FALLOCATE -> fileOps.fallocate(req, reply);
            case LSEEK -> fileOps.lseek(req, reply);
            case COPY_FILE_RANGE -> fileOps.copyFileRange(req, reply);
            case OPENDIR -> dirOps.opendir(req, reply);
            case READDIR -> dirOps.readdir(req, reply, false);
            case READDIRPLUS -> dirOps.readdir(req, reply, true);
            case RELEASEDIR -> dirOps.releasedir(req, reply);
            case FSYNCDIR -> dirOps.fsyncdir(req, reply);
            case GETXATTR -> xattrOps.getxattr(req, reply);
            case LISTXATTR -> xattrOps.listxattr(req, reply);
            case SETXATTR -> xattrOps.setxattr(req, reply);
            case REMOVEXATTR -> xattrOps.removexattr(req, reply);
            case GETLK -> lockOps.getlk(req, reply);
            case SETLK -> lockOps.setlk(req, reply, false);
            case SETLKW -> lockOps.setlk(req, reply, true);
            // No DAX window on this connection: the guest only asks when it was offered one.
            case SETUPMAPPING, REMOVEMAPPING -> reply.error(Errno.EOPNOTSUPP);
            case NOTIFY_REPLY -> reply.none();
            // IOCTL, POLL, BMAP, STATX and anything newer: not served.
            default -> reply.error(Errno.ENOSYS);
        }
    }

    /** This connection's lock owner as a backend-wide unique value (0 stays 0: "no owner"). */
    long lockOwner(long kernelOwner) {
        if (kernelOwner == 0) {
            return 0;
        }
        return lockOwners.computeIfAbsent(kernelOwner, k -> LOCK_OWNERS.incrementAndGet());
    }

    /** Fails with ESTALE unless the kernel was given this node (or it is the root). */
    long requireNode(long nodeid) throws FsException {
        if (!nodes.isKnown(nodeid)) {
            throw FsException.of(Errno.ESTALE, "node " + nodeid + " was never looked up on this connection");
        }
        return nodeid;
    }

    static FileName name(byte[] raw) throws FsException {
        return FileName.of(raw);
    }

    /** The kernel holds no reference to {@code node} any more: drop per-node state kept for it. */
    void nodeForgotten(long node) {
        fileOps.forgetNode(node);
    }

    /** Nodes whose close-to-open data version is remembered (tests: bounded by the known nodes). */
    int trackedOpenVersions() {
        return fileOps.trackedVersions();
    }

    boolean isDestroyed() {
        return destroyed;
    }

    void markDestroyed() {
        destroyed = true;
    }

    void clearDestroyed() {
        destroyed = false;
    }

    CacheMode cacheMode() {
        return config.cacheMode();
    }

    /**
     * Tears the connection down (guest gone, unmounted): releases every open handle and returns every
     * lookup reference to the backend, so nothing this guest held leaks into the shared backend; a
     * request blocked in SETLKW is woken and answers EINTR.
     */
    @Override
    public void close() {
        backend.removeListener(changeListener);
        changeListener.close();
        // A SETLKW still waiting would hang its worker thread: nobody is left to unlock or INTERRUPT.
        interrupts.interruptAll();
        lockWaiters.shutdown();
        releaseAll();
    }

    /**
     * Releases every open handle and returns every lookup reference to the backend: at teardown, and
     * when a new INIT starts a new mount on this connection (the old mount's node ids and handles mean
     * nothing to the new one). Handle numbers are never reused, so an old handle stays EBADF.
     */
    void releaseAll() {
        for (HandleTable.OpenHandle h : handles.drain()) {
            try {
                if (h.directory()) {
                    backend.releasedir(RequestContext.ROOT, h.node(), h.backendFh());
                } else {
                    // A vanished guest never sends FLUSH: drop the POSIX locks its owners hold here.
                    // A flush that fails (an S3 upload) must not keep the other owners' locks or the handle.
                    for (long owner : lockOwners.values()) {
                        try {
                            backend.flush(RequestContext.ROOT, h.node(), h.backendFh(), owner);
                        } catch (FsException e) {
                            LOG.warn("flush of node {} at teardown failed: {}", h.node(), e.getMessage());
                        }
                    }
                    backend.release(RequestContext.ROOT, h.node(), h.backendFh(), h.flags(), 0);
                }
            } catch (FsException e) {
                LOG.warn("release of node {} at teardown failed: {}", h.node(), e.getMessage());
            }
        }
        nodes.drain((node, count) -> {
            nodeForgotten(node);
            backend.forget(node, count);
        });
    }
}
