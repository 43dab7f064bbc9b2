package io.vfsgw.session;

import io.vfsgw.fuse.AttrOut;
import io.vfsgw.fuse.BatchForgetIn;
import io.vfsgw.fuse.CreateIn;
import io.vfsgw.fuse.Dirent;
import io.vfsgw.fuse.Direntplus;
import io.vfsgw.fuse.EntryOut;
import io.vfsgw.fuse.FileLock;
import io.vfsgw.fuse.ForgetIn;
import io.vfsgw.fuse.ForgetOne;
import io.vfsgw.fuse.GetattrIn;
import io.vfsgw.fuse.GetxattrIn;
import io.vfsgw.fuse.GetxattrOut;
import io.vfsgw.fuse.InHeader;
import io.vfsgw.fuse.InitFlags;
import io.vfsgw.fuse.InitIn;
import io.vfsgw.fuse.InitOut;
import io.vfsgw.fuse.InterruptIn;
import io.vfsgw.fuse.Kstatfs;
import io.vfsgw.fuse.LkIn;
import io.vfsgw.fuse.MalformedRequestException;
import io.vfsgw.fuse.MkdirIn;
import io.vfsgw.fuse.OpenIn;
import io.vfsgw.fuse.OpenOut;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.fuse.OutHeader;
import io.vfsgw.fuse.ReadIn;
import io.vfsgw.fuse.ReleaseIn;
import io.vfsgw.fuse.Rename2In;
import io.vfsgw.fuse.SetxattrIn;
import io.vfsgw.fuse.WriteIn;
import io.vfsgw.fuse.WriteOut;
import io.vfsgw.spi.Errno;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-memory FUSE peer for a {@link FuseRequestHandler} (Netty's EmbeddedChannel idea): plays the
 * kernel, encodes requests with the wire records, hands them over in one buffer (/dev/fuse) or split
 * like virtio-fs descriptors (header, arguments, data pages), and decodes the reply. Checks every
 * request is completed exactly once and that the out-header matches what was completed.
 *
 * <p>The typed helpers ({@link #lookup}, {@link #read}, ...) throw {@link FuseError} on an error
 * reply, so a test reads like the system calls it mimics; {@link #request} returns the raw
 * {@link HarnessReply} for tests that look at errors or sizes.
 */
public final class FuseHarness {
    /** What came back for one request. */
    public record HarnessReply(int error, ByteBuffer body, int length, boolean replied) {
        /** The errno of an error reply, or null on success or no reply. */
        public Errno errno() {
            return error < 0 ? Errno.fromCode(-error) : null;
        }

        public boolean ok() {
            return replied && error == 0;
        }

        /** The body, after checking the reply is a success. */
        public ByteBuffer expectOk() {
            if (!replied) {
                throw new AssertionError("no reply, expected a success");
            }
            if (error != 0) {
                throw new FuseError(error);
            }
            return body.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        }

        public int bodyLength() {
            return body.remaining();
        }
    }

    /** An error reply where the helper expected success; carries the errno. */
    public static final class FuseError extends RuntimeException {
        private final int error;

        FuseError(int error) {
            super("FUSE error " + error + " (" + Errno.fromCode(-error) + ")");
            this.error = error;
        }

        public Errno errno() {
            return Errno.fromCode(-error);
        }
    }

    /** CREATE's answer: the entry and the open handle. */
    public record Created(EntryOut entry, OpenOut open) {
        public long nodeid() {
            return entry.nodeid();
        }

        public long fh() {
            return open.fh();
        }
    }

    /**
     * How buffers are laid out. {@code pageSize 0} is the /dev/fuse layout (one request buffer, one
     * reply buffer); otherwise virtio-fs: the in-header alone, the arguments in one buffer, the data
     * in pages of {@code pageSize}; the out-header alone, then the reply body in pages of {@code pageSize}.
     * Each view is a slice at an odd offset of a larger direct buffer, as guest memory is.
     */
    public record Layout(int pageSize, int replyCapacity) {
        /** Reply room by default: 128 KiB of data plus headers (set more for larger READs). */
        public static final int DEFAULT_REPLY_CAPACITY = (128 << 10) + 4096;

        public static Layout devFuse() {
            return new Layout(0, DEFAULT_REPLY_CAPACITY);
        }

        public static Layout virtio(int pageSize) {
            return new Layout(pageSize, DEFAULT_REPLY_CAPACITY);
        }

        public Layout withReplyCapacity(int bytes) {
            return new Layout(pageSize, bytes);
        }
    }

    private static final long TIMEOUT_SECONDS = 10;

    private final FuseRequestHandler handler;
    private final AtomicLong unique = new AtomicLong(100);
    private final AtomicInteger extraCompletions = new AtomicInteger();
    private volatile Layout layout = Layout.devFuse();
    private volatile int uid;
    private volatile int gid;
    private volatile int pid = 4242;
    private volatile int minor = 38;
    private volatile long flags;

    private FuseHarness(FuseRequestHandler handler) {
        this.handler = handler;
    }

    public static FuseHarness over(FuseRequestHandler handler) {
        return new FuseHarness(handler);
    }

    /** The next request carries unique {@code first} (harnesses sharing one handler keep theirs apart). */
    public FuseHarness uniquesFrom(long first) {
        unique.set(first);
        return this;
    }

        public FuseHarness layout(Layout l) {
        this.layout = l;
        return this;
    }

    public Layout layout() {
        return layout;
    }

    public FuseHarness credentials(int uid, int gid, int pid) {
        this.uid = uid;
        this.gid = gid;
        this.pid = pid;
        return this;
    }

    /** Times the handler completed a request more than once (must stay 0). */
    public int extraCompletions() {
        return extraCompletions.get();
    }

    /** The unique the next request will carry. */
    public long peekUnique() {
        return unique.get();
    }

    // ---- raw requests ------------------------------------------------------------------------

    /** Sends {@code args} (position..limit) and optional {@code data} after a fresh in-header. */
    public HarnessReply request(int opcode, long nodeid, ByteBuffer args, ByteBuffer data) {
        return await(requestAsync(opcode, nodeid, args, data, false));
    }

    public HarnessReply request(Opcode op, long nodeid, ByteBuffer args) {
        return request(op.code(), nodeid, args, null);
    }

    public HarnessReply request(Opcode op, long nodeid, ByteBuffer args, ByteBuffer data) {
        return request(op.code(), nodeid, args, data);
    }

    /** Like {@link #request} but the handler runs on a new thread (for requests that block). */
    public CompletableFuture<HarnessReply> requestOnThread(Opcode op, long nodeid, ByteBuffer args) {
        return requestAsync(op.code(), nodeid, args, null, true);
    }

    /** Hands exactly these request views to the handler, with a reply of the layout's capacity. */
    public HarnessReply raw(ByteBuffer... requestViews) {
        return await(dispatch(requestViews, -1, false));
    }

    /** One request buffer holding these bytes. */
    public HarnessReply raw(byte[] bytes) {
        ByteBuffer b = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(bytes).flip();
        return raw(b);
    }

    /** An in-header with a fresh unique, encoded; for tests that forge requests. */
    public ByteBuffer header(int len, int opcode, long nodeid) {
        ByteBuffer b = buf(InHeader.SIZE);
        new InHeader(len, opcode, unique.getAndIncrement(), nodeid, uid, gid, pid, 0).encodeTo(b);
        return b.flip();
    }

    private CompletableFuture<HarnessReply> requestAsync(int opcode, long nodeid, ByteBuffer args, ByteBuffer data,
                                                         boolean onThread) {
        int argLen = args == null ? 0 : args.remaining();
        int dataLen = data == null ? 0 : data.remaining();
        long u = unique.getAndIncrement();
        ByteBuffer hdr = buf(InHeader.SIZE);
        new InHeader(InHeader.SIZE + argLen + dataLen, opcode, u, nodeid, uid, gid, pid, 0).encodeTo(hdr);
        hdr.flip();
        List<ByteBuffer> views = new ArrayList<>();
        Layout l = layout;
        if (l.pageSize() == 0) {
            ByteBuffer all = guestMemory(InHeader.SIZE + argLen + dataLen);
            all.put(hdr);
            if (args != null) {
                all.put(args.duplicate());
            }
            if (data != null) {
                all.put(data.duplicate());
            }
            views.add(all.flip());
        } else {
            views.add(guestMemory(InHeader.SIZE).put(hdr).flip());
            if (argLen > 0) {
                views.add(guestMemory(argLen).put(args.duplicate()).flip());
            }
            addPages(views, data, l.pageSize());
        }
        return dispatch(views.toArray(new ByteBuffer[0]), u, onThread);
    }

    private static void addPages(List<ByteBuffer> views, ByteBuffer data, int pageSize) {
        if (data == null) {
            return;
        }
        ByteBuffer d = data.duplicate();
        while (d.hasRemaining()) {
            int n = Math.min(pageSize, d.remaining());
            ByteBuffer part = d.slice(d.position(), n);
            views.add(guestMemory(n).put(part).flip());
            d.position(d.position() + n);
        }
    }

    private ByteBuffer[] replyViews() {
        Layout l = layout;
        int cap = l.replyCapacity();
        if (l.pageSize() == 0 || cap <= OutHeader.SIZE) {
            return new ByteBuffer[] {guestMemory(cap)};
        }
        List<ByteBuffer> views = new ArrayList<>();
        views.add(guestMemory(OutHeader.SIZE));
        for (int left = cap - OutHeader.SIZE; left > 0; left -= l.pageSize()) {
            views.add(guestMemory(Math.min(left, l.pageSize())));
        }
        return views.toArray(new ByteBuffer[0]);
    }

    private CompletableFuture<HarnessReply> dispatch(ByteBuffer[] request, long expectedUnique, boolean onThread) {
        ByteBuffer[] reply = replyViews();
        CompletableFuture<HarnessReply> result = new CompletableFuture<>();
        AtomicInteger calls = new AtomicInteger();
        FuseRequestHandler.ReplyCompletion completion = length -> {
            if (calls.incrementAndGet() > 1) {
                extraCompletions.incrementAndGet();
                return;
            }
            try {
                result.complete(parse(reply, length, expectedUnique));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        };
        Runnable call = () -> {
            try {
                handler.handle(request, reply, completion);
            } catch (Throwable t) {
                result.completeExceptionally(new AssertionError("handle() threw", t));
            }
        };
        if (onThread) {
            Thread t = new Thread(call, "harness-request");
            t.setDaemon(true);
            t.start();
        } else {
            call.run();
        }
        return result;
    }

    private static HarnessReply parse(ByteBuffer[] views, int length, long expectedUnique) {
        if (length == 0) {
            return new HarnessReply(0, buf(0), 0, false);
        }
        ByteBuffer all = buf(length);
        for (ByteBuffer v : views) {
            if (!all.hasRemaining()) {
                break;
            }
            int n = Math.min(v.limit(), all.remaining());
            all.put(v.slice(0, n));
        }
        if (all.hasRemaining()) {
            throw new AssertionError("completed with " + length + " bytes but the reply buffers hold fewer");
        }
        all.flip();
        OutHeader h;
        try {
            h = OutHeader.decode(all);
        } catch (MalformedRequestException e) {
            throw new AssertionError("reply of " + length + " bytes has no out-header", e);
        }
        if (h.len() != length) {
            throw new AssertionError("out-header len " + h.len() + " but completed with " + length);
        }
        if (expectedUnique >= 0 && h.unique() != expectedUnique) {
            throw new AssertionError("reply unique " + h.unique() + " for request " + expectedUnique);
        }
        if (h.error() > 0 || (h.error() != 0 && length != OutHeader.SIZE)) {
            throw new AssertionError("bad error reply: error " + h.error() + ", len " + length);
        }
        return new HarnessReply(h.error(), all.slice().order(ByteOrder.LITTLE_ENDIAN), length, true);
    }

    private HarnessReply await(CompletableFuture<HarnessReply> f) {
        try {
            return f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("no completion within " + TIMEOUT_SECONDS + " s");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof AssertionError a) {
                throw a;
            }
            throw new AssertionError(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Waits (at most 10 s) for the reply of a request sent with {@link #requestOnThread}. */
    public HarnessReply join(CompletableFuture<HarnessReply> f) {
        return await(f);
    }

    // ---- encoding helpers ---------------------------------------------------------------------

    public static ByteBuffer buf(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * A LITTLE_ENDIAN view of {@code size} bytes at an odd offset of a larger buffer, as guest memory
     * is. Direct up to 64 KiB; larger areas are heap buffers, because allocating many large direct
     * buffers makes the JDK stall in System.gc() (the session treats both kinds alike).
     */
    static ByteBuffer guestMemory(int size) {
        ByteBuffer backing = size <= 65536 ? ByteBuffer.allocateDirect(size + 24) : ByteBuffer.allocate(size + 24);
        return backing.slice(7, size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** NUL-terminated names, one after the other. */
    public static byte[] names(String... names) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (String n : names) {
            out.writeBytes(n.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }

    /**
     * Concatenates raw bytes and encoded structs (any protocol record with an
     * {@code encodeTo(ByteBuffer)} and a {@code SIZE}) into one argument buffer.
     */
    public static ByteBuffer args(Object... parts) {
        ByteBuffer b = buf(argsSize(parts));
        for (Object p : parts) {
            if (p instanceof byte[] raw) {
                b.put(raw);
            } else if (p instanceof ByteBuffer bb) {
                b.put(bb.duplicate());
            } else {
                try {
                    p.getClass().getMethod("encodeTo", ByteBuffer.class).invoke(p, b);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalArgumentException("cannot encode " + p.getClass(), e);
                }
            }
        }
        return b.flip();
    }

    private static int argsSize(Object[] parts) {
        int n = 0;
        for (Object p : parts) {
            if (p instanceof byte[] raw) {
                n += raw.length;
            } else if (p instanceof ByteBuffer bb) {
                n += bb.remaining();
            } else {
                try {
                    n += p.getClass().getField("SIZE").getInt(null);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalArgumentException(p.getClass() + " has no SIZE", e);
                }
            }
        }
        return n;
    }

    // ---- typed helpers ------------------------------------------------------------------------

    /** INIT as a 7.{@code kernelMinor} kernel offering {@code flags64}; remembers the settled minor and flags. */
    public InitOut init(int kernelMinor, long flags64) {
        ByteBuffer b = buf(InitIn.SIZE);
        new InitIn(7, kernelMinor, 128 * 1024, (int) flags64, (int) (flags64 >>> 32)).encodeTo(b);
        HarnessReply r = request(Opcode.INIT, 0, b.flip());
        ByteBuffer body = r.expectOk();
        try {
            InitOut out = InitOut.decode(body);
            if (body.hasRemaining()) {
                throw new AssertionError("INIT reply of " + r.bodyLength() + " bytes for minor " + out.minor());
            }
            minor = out.minor();
            flags = out.flags64();
            return out;
        } catch (MalformedRequestException e) {
            throw new AssertionError(e);
        }
    }

    /** INIT as a current kernel offering every flag vfsgw knows. */
    public InitOut init() {
        return init(38, -1L & ~InitFlags.FUSE_INIT_RESERVED);
    }

    public EntryOut lookup(long parent, String name) {
        return entry(request(Opcode.LOOKUP, parent, args(names(name))));
    }

    public AttrOut getattr(long node) {
        ByteBuffer body = request(Opcode.GETATTR, node, args(new GetattrIn(0, 0))).expectOk();
        return decode(() -> AttrOut.decode(body));
    }

    public EntryOut mkdir(long parent, String name, int mode) {
        return entry(request(Opcode.MKDIR, parent, args(new MkdirIn(mode, 0), names(name))));
    }

    public Created create(long parent, String name, int mode, int flags) {
        ByteBuffer body = request(Opcode.CREATE, parent, args(new CreateIn(flags, mode, 0, 0), names(name))).expectOk();
        return decode(() -> new Created(EntryOut.decode(body), OpenOut.decode(body)));
    }

    public OpenOut open(long node, int flags) {
        ByteBuffer body = request(Opcode.OPEN, node, args(new OpenIn(flags, 0))).expectOk();
        return decode(() -> OpenOut.decode(body));
    }

    public OpenOut opendir(long node) {
        ByteBuffer body = request(Opcode.OPENDIR, node, args(new OpenIn(0, 0))).expectOk();
        return decode(() -> OpenOut.decode(body));
    }

    public ByteBuffer readIn(long fh, long offset, int size) {
        ByteBuffer b = buf(ReadIn.SIZE);
        new ReadIn(fh, offset, size, 0, 0, 0).encodeTo(b);
        b.flip();
        if (minor < 9) {
            b.limit(ReadIn.COMPAT_SIZE);
        }
        return b;
    }

    /** READ; returns the data (may be short at EOF). */
    public ByteBuffer read(long node, long fh, long offset, int size) {
        return request(Opcode.READ, node, readIn(fh, offset, size)).expectOk();
    }

    public HarnessReply writeReply(long node, long fh, long offset, ByteBuffer data) {
        ByteBuffer b = buf(WriteIn.SIZE);
        new WriteIn(fh, offset, data.remaining(), 0, 0, 0).encodeTo(b);
        b.flip();
        if (minor < 9) {
            b.limit(WriteIn.COMPAT_SIZE);
        }
        return request(Opcode.WRITE, node, b, data);
    }

    /** WRITE; returns the count the session reports written. */
    public int write(long node, long fh, long offset, ByteBuffer data) {
        ByteBuffer body = writeReply(node, fh, offset, data).expectOk();
        return decode(() -> WriteOut.decode(body)).size();
    }

    public void release(long node, long fh) {
        request(Opcode.RELEASE, node, args(new ReleaseIn(fh, 0, 0, 0))).expectOk();
    }

    public void releasedir(long node, long fh) {
        request(Opcode.RELEASEDIR, node, args(new ReleaseIn(fh, 0, 0, 0))).expectOk();
    }

    public List<Dirent> readdir(long node, long fh, long offset, int size) {
        ByteBuffer body = request(Opcode.READDIR, node, readIn(fh, offset, size)).expectOk();
        List<Dirent> out = new ArrayList<>();
        while (body.hasRemaining()) {
            out.add(decode(() -> Dirent.decode(body)));
        }
        return out;
    }

    public List<Direntplus> readdirplus(long node, long fh, long offset, int size) {
        ByteBuffer body = request(Opcode.READDIRPLUS, node, readIn(fh, offset, size)).expectOk();
        List<Direntplus> out = new ArrayList<>();
        while (body.hasRemaining()) {
            out.add(decode(() -> Direntplus.decode(body)));
        }
        return out;
    }

    public void unlink(long parent, String name) {
        request(Opcode.UNLINK, parent, args(names(name))).expectOk();
    }

    public HarnessReply rename2(long parent, String name, long newParent, String newName, int flags) {
        return request(Opcode.RENAME2, parent, args(new Rename2In(newParent, flags), names(name, newName)));
    }

    /** FORGET; returns the (expected absent) reply. */
    public HarnessReply forget(long node, long nlookup) {
        return request(Opcode.FORGET, node, args(new ForgetIn(nlookup)));
    }

    public HarnessReply batchForget(ForgetOne... items) {
        Object[] parts = new Object[items.length + 1];
        parts[0] = new BatchForgetIn(items.length);
        System.arraycopy(items, 0, parts, 1, items.length);
        return request(Opcode.BATCH_FORGET, 0, args(parts));
    }

    /** SETXATTR in the layout INIT settled (16-byte struct only with FUSE_SETXATTR_EXT). */
    public HarnessReply setxattr(long node, String name, ByteBuffer value, int flags) {
        ByteBuffer s = buf(SetxattrIn.SIZE);
        new SetxattrIn(value.remaining(), flags, 0).encodeTo(s);
        s.flip();
        if ((this.flags & InitFlags.FUSE_SETXATTR_EXT) == 0) {
            s.limit(SetxattrIn.COMPAT_SIZE);
        }
        return request(Opcode.SETXATTR, node, args(s, names(name), value));
    }

    /** GETXATTR: with size 0 the body is a fuse_getxattr_out, else the value. */
    public HarnessReply getxattr(long node, String name, int size) {
        return request(Opcode.GETXATTR, node, args(new GetxattrIn(size), names(name)));
    }

    public static int getxattrSize(HarnessReply r) {
        ByteBuffer body = r.expectOk();
        return decode(() -> GetxattrOut.decode(body)).size();
    }

    public HarnessReply statfsReply(long node) {
        return request(Opcode.STATFS, node, buf(0));
    }

    public Kstatfs statfs(long node) {
        ByteBuffer body = statfsReply(node).expectOk();
        return decode(() -> Kstatfs.decode(body));
    }

    public HarnessReply lock(Opcode op, long node, long fh, long owner, FileLock lk, int lkFlags) {
        return request(op, node, args(new LkIn(fh, owner, lk, lkFlags)));
    }

    public CompletableFuture<HarnessReply> lockOnThread(Opcode op, long node, long fh, long owner, FileLock lk) {
        return requestOnThread(op, node, args(new LkIn(fh, owner, lk, 0)));
    }

    public HarnessReply interrupt(long targetUnique) {
        return request(Opcode.INTERRUPT, 0, args(new InterruptIn(targetUnique)));
    }

    private static EntryOut entry(HarnessReply r) {
        ByteBuffer body = r.expectOk();
        return decode(() -> EntryOut.decode(body));
    }

    private interface Decoder<T> {
        T decode() throws MalformedRequestException;
    }

    private static <T> T decode(Decoder<T> d) {
        try {
            return d.decode();
        } catch (MalformedRequestException e) {
            throw new AssertionError("undecodable reply: " + e.getMessage(), e);
        }
    }
}
