package io.vfsgw.guest;

import io.vfsgw.backend.mem.MemBackend;
import io.vfsgw.backend.mem.MemOptions;
import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.MetadataCache;
import io.vfsgw.fuse.InitPolicy;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.session.FuseRequestHandler;
import io.vfsgw.session.FuseSession;
import io.vfsgw.session.SessionConfig;
import io.vfsgw.spi.Attr;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenResult;
import io.vfsgw.spi.ReadSink;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import io.vfsgw.transport.vhostuser.VhostUserOptions;
import io.vfsgw.transport.vhostuser.VhostUserServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A real vfsgw in the test JVM, built as {@code vfsgw serve --backend mem} builds it: one
 * {@link MemBackend} behind one {@link MetadataCache}, served on one or more vhost-user sockets with
 * a fresh {@link FuseSession} per connection. The tests read the backend through the SPI to check
 * what the guest wrote really landed there.
 */
final class MemGateway implements AutoCloseable {
    private final MemBackend mem;
    private final MetadataCache cache;
    private final Path dir;
    private final List<VhostUserServer> servers = new ArrayList<>();
    private final List<TrackedSession> sessions = new CopyOnWriteArrayList<>();

    private MemGateway(Path dir, MemBackend mem, MetadataCache cache) {
        this.dir = dir;
        this.mem = mem;
        this.cache = cache;
    }

    /** A 1 GiB mem backend with the default cache (auto, 1 s), sockets created in {@code dir}. */
    static MemGateway start(Path dir) {
        MemBackend mem = new MemBackend(MemOptions.defaults());
        return new MemGateway(dir, mem, new MetadataCache(mem, CacheConfig.defaults()));
    }

    /** Starts a vhost-user server for {@code tag} on {@code dir/tag.sock} and returns the socket path. */
    Path serve(String tag) throws IOException {
        return serve(tag, 1);
    }

    /** As {@link #serve(String)}, offering {@code requestQueues} request queues (serve --queues). */
    Path serve(String tag, int requestQueues) throws IOException {
        Path socket = dir.resolve(tag + ".sock");
        servers.add(VhostUserServer.start(socket, VhostUserOptions.defaults(tag).withRequestQueues(requestQueues),
                () -> newSession(tag)));
        return socket;
    }

    private FuseRequestHandler newSession(String tag) {
        // As io.vfsgw.cli.Gateway.newSession does for `vfsgw serve`.
        SessionConfig base = SessionConfig.defaults("virtio-fs").withCache(cache.config());
        InitPolicy p = base.initPolicy().withMaxWrite(1 << 20, 256);
        TrackedSession s = new TrackedSession(tag, new FuseSession(cache, base.withInitPolicy(p)));
        sessions.add(s);
        return s;
    }

    /** Every session a front end got so far, in connection order. */
    List<TrackedSession> sessions() {
        return List.copyOf(sessions);
    }

    /** Waits (polling, never a fixed sleep) until {@code condition} holds; fails with {@code what} at the deadline. */
    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

    /** The attributes of {@code path} (relative to the share root) in the backend, if it exists. */
    Optional<Attr> stat(String path) throws FsException {
        Optional<Entry> e = resolve(path);
        e.ifPresent(entry -> mem.forget(entry.nodeId(), 1));
        return e.map(Entry::attr);
    }

    /** The whole content of the regular file {@code path}, read from the backend through the SPI. */
    byte[] read(String path) throws FsException {
        Entry e = resolve(path).orElseThrow(() -> new AssertionError("no file " + path + " in the backend"));
        try {
            OpenResult o = mem.open(RequestContext.ROOT, e.nodeId(), 0 /* O_RDONLY */);
            try {
                long size = mem.getattr(RequestContext.ROOT, e.nodeId(), o.fh()).size();
                ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(size));
                while (all.hasRemaining()) {
                    int before = all.position();
                    mem.read(RequestContext.ROOT, e.nodeId(), o.fh(), before, new BufferSink(all));
                    if (all.position() == before) {
                        break;        // EOF: the file shrank while we read
                    }
                }
                byte[] out = new byte[all.position()];
                all.flip().get(out);
                return out;
            } finally {
                mem.release(RequestContext.ROOT, e.nodeId(), o.fh(), 0, 0);
            }
        } finally {
            mem.forget(e.nodeId(), 1);
        }
    }

    /** The value of xattr {@code name} of {@code path} in the backend. */
    byte[] getxattr(String path, String name) throws FsException {
        Entry e = resolve(path).orElseThrow(() -> new AssertionError("no file " + path + " in the backend"));
        try {
            return mem.getxattr(RequestContext.ROOT, e.nodeId(), name);
        } finally {
            mem.forget(e.nodeId(), 1);
        }
    }

    /** Lowercase hex SHA-256 of {@code path}'s content in the backend. */
    String sha256(String path) throws FsException {
        return sha256(read(path));
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Looks each component up; the returned entry holds one lookup reference the caller forgets. */
    private Optional<Entry> resolve(String path) throws FsException {
        long node = StorageBackend.ROOT_ID;
        Entry entry = null;
        for (String part : path.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            Entry next;
            try {
                next = mem.lookup(RequestContext.ROOT, node, FileName.of(part));
            } catch (FsException e) {
                if (entry != null) {
                    mem.forget(entry.nodeId(), 1);
                }
                if (e.errno() == io.vfsgw.spi.Errno.ENOENT) {
                    return Optional.empty();
                }
                throw e;
            }
            if (entry != null) {
                mem.forget(entry.nodeId(), 1);
            }
            entry = next;
            node = next.nodeId();
        }
        if (entry == null) {
            throw new IllegalArgumentException("empty path");
        }
        return Optional.of(entry);
    }

    @Override
    public void close() throws Exception {
        for (VhostUserServer s : servers) {
            s.close();
        }
        cache.close();
        for (VhostUserServer s : servers) {
            Files.deleteIfExists(s.socketPath());
        }
    }

    /**
     * The FUSE session of one connection, with a latch that opens when the server closes it at
     * disconnect, and a count of the opcodes the guest sent (to prove a workload reached vfsgw and was
     * not answered by the guest kernel's caches).
     */
    static final class TrackedSession implements FuseRequestHandler, AutoCloseable {
        final String tag;
        private final FuseSession session;
        private final CountDownLatch closed = new CountDownLatch(1);
        private final java.util.concurrent.ConcurrentHashMap<Opcode, java.util.concurrent.atomic.LongAdder> opcodes =
                new java.util.concurrent.ConcurrentHashMap<>();

        TrackedSession(String tag, FuseSession session) {
            this.tag = tag;
            this.session = session;
        }

        @Override
        public void handle(ByteBuffer[] request, ByteBuffer[] reply, ReplyCompletion completion) {
            // fuse_in_header: len u32, opcode u32 at offset 4 (views are LITTLE_ENDIAN).
            if (request.length > 0 && request[0].limit() >= 8) {
                Opcode op = Opcode.fromCode(request[0].getInt(4));
                if (op != null) {
                    opcodes.computeIfAbsent(op, k -> new java.util.concurrent.atomic.LongAdder()).increment();
                }
            }
            session.handle(request, reply, completion);
        }

        /** The opcodes received so far, with how often. */
        java.util.Map<Opcode, Long> opcodes() {
            java.util.Map<Opcode, Long> m = new java.util.EnumMap<>(Opcode.class);
            opcodes.forEach((k, v) -> m.put(k, v.sum()));
            return m;
        }

        @Override
        public void close() {
            session.close();
            closed.countDown();
        }

        boolean isClosed() {
            return closed.getCount() == 0;
        }

        boolean awaitClosed(Duration timeout) throws InterruptedException {
            return closed.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        FuseSession session() {
            return session;
        }
    }

    /** A ReadSink over a heap buffer (test code: the data-path rule against byte[] is for main code). */
    private static final class BufferSink implements ReadSink {
        private final ByteBuffer dst;

        BufferSink(ByteBuffer dst) {
            this.dst = dst;
        }

        @Override
        public int remaining() {
            return dst.remaining();
        }

        @Override
        public void put(ByteBuffer src) {
            int n = Math.min(src.remaining(), dst.remaining());
            ByteBuffer part = src.slice(src.position(), n);
            dst.put(part);
            src.position(src.position() + n);
        }

        @Override
        public void putZeros(int count) {
            for (int i = 0; i < count; i++) {
                dst.put((byte) 0);
            }
        }

        @Override
        public ByteBuffer[] views(int max) {
            return new ByteBuffer[] {dst.slice(dst.position(), Math.min(max, dst.remaining()))};
        }

        @Override
        public void advance(int n) {
            dst.position(dst.position() + n);
        }
    }
}
