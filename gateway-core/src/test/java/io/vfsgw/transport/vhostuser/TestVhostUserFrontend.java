package io.vfsgw.transport.vhostuser;

import io.vfsgw.nativeio.EventFds;
import io.vfsgw.nativeio.MemoryMaps;
import io.vfsgw.nativeio.UnixSockets;
import io.vfsgw.spi.FsException;
import io.vfsgw.transport.vhostuser.protocol.FrontendRequest;
import io.vfsgw.transport.vhostuser.protocol.MemoryRegionDescriptor;
import io.vfsgw.transport.vhostuser.protocol.MessageHeader;
import io.vfsgw.transport.vhostuser.protocol.VhostUserFeatures;
import io.vfsgw.transport.vhostuser.protocol.VhostUserInflight;
import io.vfsgw.transport.vhostuser.protocol.VringAddress;
import io.vfsgw.transport.vhostuser.protocol.VringState;
import java.io.IOException;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A small vhost-user front end playing QEMU's part in tests: guest RAM in a memfd, split rings built
 * in it, the protocol spoken over the socket, kick and call eventfds. It also lets tests write
 * arbitrary (hostile) descriptors and messages.
 */
public final class TestVhostUserFrontend implements AutoCloseable {
    /** Guest-physical base of the RAM region (not 0, so translation bugs show). */
    public static final long GPA_BASE = 0x10_0000L;
    /** The "VMM virtual address" of the RAM, as QEMU would report it. */
    public static final long UVA_BASE = 0x7f12_3400_0000L;

    public static final long FEATURES = VhostUserFeatures.VIRTIO_F_VERSION_1 | VhostUserFeatures.VIRTIO_RING_F_INDIRECT_DESC
            | VhostUserFeatures.VIRTIO_RING_F_EVENT_IDX | VhostUserFeatures.VHOST_USER_F_PROTOCOL_FEATURES;
    public static final long PROTOCOL_FEATURES = VhostUserFeatures.PROTOCOL_F_MQ | VhostUserFeatures.PROTOCOL_F_REPLY_ACK
            | VhostUserFeatures.PROTOCOL_F_CONFIGURE_MEM_SLOTS
            | VhostUserFeatures.PROTOCOL_F_STATUS | VhostUserFeatures.PROTOCOL_F_BACKEND_REQ;

    private int sock;
    private final int memfd;
    private final long memSize;
    private final MemoryMaps.Mapping mapping;
    /** The whole guest RAM, index = gpa - GPA_BASE. */
    public final ByteBuffer ram;
    private long nextFree = 0;
    private boolean replyAck;
    private final List<Queue> queues = new ArrayList<>();

    public record Reply(MessageHeader header, ByteBuffer payload) {
        public long u64() {
            return payload.getLong(0);
        }
    }

    public record Used(int id, int len) {
    }

    private TestVhostUserFrontend(int sock, long memSize) throws FsException {
        this.sock = sock;
        this.memSize = memSize;
        this.memfd = MemoryMaps.memfdCreate("guest-ram", memSize);
        this.mapping = MemoryMaps.map(memfd, 0, memSize, true);
        this.ram = mapping.view(0, (int) memSize);
    }

    public static TestVhostUserFrontend connect(Path socket, long memSize) throws FsException {
        int s = UnixSockets.socket();
        try {
            UnixSockets.connect(s, socket);
        } catch (FsException e) {
            UnixSockets.close(s);
            throw e;
        }
        return new TestVhostUserFrontend(s, memSize);
    }

    /**
     * Drops the connection and opens a new one to {@code socket}, keeping guest memory and the
     * driver side of every ring: what QEMU does when its back end went away and came back.
     */
    public void reconnect(Path socket) throws FsException {
        UnixSockets.close(sock);
        sock = -1;
        int s = UnixSockets.socket();
        try {
            UnixSockets.connect(s, socket);
        } catch (FsException e) {
            UnixSockets.close(s);
            throw e;
        }
        sock = s;
        replyAck = false;
    }

    /** Allocates {@code len} bytes of guest memory aligned to {@code align}; returns the gpa. */
    public long alloc(int len, int align) {
        nextFree = (nextFree + align - 1) & -align;
        long gpa = GPA_BASE + nextFree;
        nextFree += len;
        if (nextFree > memSize) {
            throw new IllegalStateException("test guest memory exhausted");
        }
        return gpa;
    }

    public int off(long gpa) {
        return (int) (gpa - GPA_BASE);
    }

    // ---- raw protocol ----

    /** Sends a message whose payload is {@code payload} (position 0 to limit). */
    public void send(int request, int flags, ByteBuffer payload, int... fds) throws FsException {
        int n = payload == null ? 0 : payload.limit();
        ByteBuffer b = ByteBuffer.allocateDirect(MessageHeader.SIZE + n).order(ByteOrder.LITTLE_ENDIAN);
        new MessageHeader(request, flags, n).encodeTo(b);
        if (payload != null) {
            b.put(MessageHeader.SIZE, payload, 0, n);
        }
        UnixSockets.sendmsg(sock, b, fds);
    }

    /** Sends just a header claiming {@code size} bytes of payload, and {@code actual} bytes of zeros. */
    public void sendRawHeader(int request, int flags, int size, int actual) throws FsException {
        ByteBuffer b = ByteBuffer.allocateDirect(MessageHeader.SIZE + actual).order(ByteOrder.LITTLE_ENDIAN);
        new MessageHeader(request, flags, size).encodeTo(b);
        UnixSockets.sendmsg(sock, b);
    }

    public Reply readReply() throws FsException, IOException {
        return readReply(null);
    }

    /** Reads a reply; fds that came with it are added to {@code fds} (or closed when it is null). */
    public Reply readReply(List<Integer> fds) throws FsException, IOException {
        ByteBuffer h = ByteBuffer.allocateDirect(MessageHeader.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        readFully(h, fds);
        MessageHeader hdr = MessageHeader.decode(h);
        ByteBuffer p = ByteBuffer.allocateDirect(hdr.size()).order(ByteOrder.LITTLE_ENDIAN);
        readFully(p, fds);
        return new Reply(hdr, p);
    }

    private void readFully(ByteBuffer b, List<Integer> fds) throws FsException, IOException {
        while (b.hasRemaining()) {
            UnixSockets.Received r = UnixSockets.recvmsg(sock, b);
            for (int fd : r.fds()) {
                if (fds != null) {
                    fds.add(fd);
                } else {
                    UnixSockets.close(fd);
                }
            }
            if (r.bytes() == 0) {
                throw new IOException("server closed the connection");
            }
        }
    }

    /** True when the server has closed the socket (a read returns end of stream). */
    public boolean isClosedByServer() throws FsException {
        ByteBuffer b = ByteBuffer.allocateDirect(1);
        return UnixSockets.recvmsg(sock, b).bytes() == 0;
    }

    private int flags() {
        return MessageHeader.VERSION | (replyAck ? MessageHeader.NEED_REPLY : 0);
    }

    /** Reads the REPLY_ACK when negotiated; returns its value (0 = success), or 0 when not negotiated. */
    private long ack(FrontendRequest req) throws FsException, IOException {
        if (!replyAck) {
            return 0;
        }
        Reply r = readReply();
        if (r.header().request() != req.code() || (r.header().flags() & MessageHeader.REPLY) == 0) {
            throw new IOException("expected ack for " + req + ", got " + r.header());
        }
        return r.u64();
    }

    private static ByteBuffer u64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v);
    }

    private static ByteBuffer state(int index, int num) {
        ByteBuffer b = ByteBuffer.allocate(VringState.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        new VringState(index, num).encodeTo(b, 0);
        return b;
    }

    public long getU64(FrontendRequest req) throws FsException, IOException {
        send(req.code(), MessageHeader.VERSION, null);
        Reply r = readReply();
        if (r.header().request() != req.code() || r.header().size() != 8) {
            throw new IOException("bad reply to " + req + ": " + r.header());
        }
        return r.u64();
    }

    public long setU64(FrontendRequest req, long value) throws FsException, IOException {
        send(req.code(), flags(), u64(value));
        return ack(req);
    }

    /** The usual opening: features, protocol features with REPLY_ACK, owner. */
    public void negotiate() throws FsException, IOException {
        negotiate(0);
    }

    /** As {@link #negotiate()}, also accepting {@code extraProtocolFeatures} when offered (e.g. INFLIGHT_SHMFD). */
    public void negotiate(long extraProtocolFeatures) throws FsException, IOException {
        long offered = getU64(FrontendRequest.GET_FEATURES);
        if ((offered & FEATURES) != FEATURES) {
            throw new IOException("server lacks features: 0x" + Long.toHexString(offered));
        }
        long proto = getU64(FrontendRequest.GET_PROTOCOL_FEATURES) & (PROTOCOL_FEATURES | extraProtocolFeatures);
        send(FrontendRequest.SET_PROTOCOL_FEATURES.code(), MessageHeader.VERSION, u64(proto));
        replyAck = (proto & VhostUserFeatures.PROTOCOL_F_REPLY_ACK) != 0;
        send(FrontendRequest.SET_OWNER.code(), flags(), null);
        check(ack(FrontendRequest.SET_OWNER), "SET_OWNER");
        check(setU64(FrontendRequest.SET_FEATURES, FEATURES), "SET_FEATURES");
    }

    public long setMemTable() throws FsException, IOException {
        ByteBuffer p = ByteBuffer.allocate(8 + MemoryRegionDescriptor.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        p.putInt(0, 1);
        new MemoryRegionDescriptor(GPA_BASE, memSize, UVA_BASE, 0).encodeTo(p, 8);
        send(FrontendRequest.SET_MEM_TABLE.code(), flags(), p, memfd);
        return ack(FrontendRequest.SET_MEM_TABLE);
    }

    /** ADD_MEM_REG of the whole test RAM (CONFIGURE_MEM_SLOTS style). */
    public long addMemRegion() throws FsException, IOException {
        return singleRegion(FrontendRequest.ADD_MEM_REG);
    }

    /** REM_MEM_REG of the whole test RAM; QEMU sends the fd along, so do we. */
    public long remMemRegion() throws FsException, IOException {
        return singleRegion(FrontendRequest.REM_MEM_REG);
    }

    private long singleRegion(FrontendRequest req) throws FsException, IOException {
        ByteBuffer p = ByteBuffer.allocate(8 + MemoryRegionDescriptor.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        new MemoryRegionDescriptor(GPA_BASE, memSize, UVA_BASE, 0).encodeTo(p, 8);
        send(req.code(), flags(), p, memfd);
        return ack(req);
    }

    public long vringState(FrontendRequest req, int index, int num) throws FsException, IOException {
        send(req.code(), flags(), state(index, num));
        return ack(req);
    }

    public int getVringBase(int index) throws FsException, IOException {
        send(FrontendRequest.GET_VRING_BASE.code(), MessageHeader.VERSION, state(index, 0));
        Reply r = readReply();
        return r.payload().getInt(4);
    }

    public long vringFd(FrontendRequest req, int index, int fd) throws FsException, IOException {
        send(req.code(), flags(), u64(index), fd);
        return ack(req);
    }

    public Reply getConfig(int offset, int size) throws FsException, IOException {
        ByteBuffer p = ByteBuffer.allocate(12 + size).order(ByteOrder.LITTLE_ENDIAN);
        p.putInt(0, offset).putInt(4, size).putInt(8, 0);
        send(FrontendRequest.GET_CONFIG.code(), MessageHeader.VERSION, p);
        return readReply();
    }

    /** A GET_INFLIGHT_FD answer: the layout replied and the fd that came with it (-1 for none). */
    public record Inflight(VhostUserInflight layout, int fd) {
    }

    /** GET_INFLIGHT_FD for {@code numQueues} queues of {@code queueSize}, as QEMU sends it (no NEED_REPLY). */
    public Inflight getInflightFd(int numQueues, int queueSize) throws FsException, IOException {
        ByteBuffer p = ByteBuffer.allocate(VhostUserInflight.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        new VhostUserInflight(0, 0, numQueues, queueSize).encodeTo(p, 0);
        send(FrontendRequest.GET_INFLIGHT_FD.code(), MessageHeader.VERSION, p);
        List<Integer> fds = new ArrayList<>();
        Reply r = readReply(fds);
        if (r.header().request() != FrontendRequest.GET_INFLIGHT_FD.code() || r.header().size() != VhostUserInflight.SIZE
                || fds.size() > 1) {
            fds.forEach(UnixSockets::close);
            throw new IOException("bad reply to GET_INFLIGHT_FD: " + r.header() + " with " + fds.size() + " fds");
        }
        return new Inflight(VhostUserInflight.decode(r.payload(), 0), fds.isEmpty() ? -1 : fds.get(0));
    }

    /** SET_INFLIGHT_FD of {@code layout} in {@code fd} (which stays ours); returns the ack (0 = success). */
    public long setInflightFd(VhostUserInflight layout, int fd) throws FsException, IOException {
        ByteBuffer p = ByteBuffer.allocate(VhostUserInflight.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        layout.encodeTo(p, 0);
        send(FrontendRequest.SET_INFLIGHT_FD.code(), flags(), p, fd);
        return ack(FrontendRequest.SET_INFLIGHT_FD);
    }

    private static void check(long ack, String what) throws IOException {
        if (ack != 0) {
            throw new IOException(what + " refused");
        }
    }

    // ---- rings ----

    /** Builds a ring of {@code size} entries in guest memory and sets it up on the server, enabled. */
    public Queue setUpQueue(int index, int size) throws FsException, IOException {
        return setUpQueue(index, size, true);
    }

    /** As {@link #setUpQueue(int, int)}, optionally without SET_VRING_ENABLE (QEMU before 7.2 style). */
    public Queue setUpQueue(int index, int size, boolean sendEnable) throws FsException, IOException {
        Queue q = new Queue(index, size);
        startQueue(q, 0, sendEnable);
        queues.add(q);
        return q;
    }

    /**
     * Sets an existing ring up again on the (new) connection, starting at avail index {@code base}:
     * after a back-end crash QEMU cannot ask for the base and sends the used idx instead.
     */
    public void resumeQueue(Queue q, int base) throws FsException, IOException {
        startQueue(q, base, true);
    }

    private void startQueue(Queue q, int base, boolean sendEnable) throws FsException, IOException {
        int index = q.index;
        int size = q.size;
        check(vringState(FrontendRequest.SET_VRING_NUM, index, size), "SET_VRING_NUM");
        check(vringState(FrontendRequest.SET_VRING_BASE, index, base), "SET_VRING_BASE");
        ByteBuffer a = ByteBuffer.allocate(VringAddress.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        new VringAddress(index, 0, uva(q.desc), uva(q.used), uva(q.avail), 0).encodeTo(a, 0);
        send(FrontendRequest.SET_VRING_ADDR.code(), flags(), a);
        check(ack(FrontendRequest.SET_VRING_ADDR), "SET_VRING_ADDR");
        check(vringFd(FrontendRequest.SET_VRING_CALL, index, q.callFd), "SET_VRING_CALL");
        check(vringFd(FrontendRequest.SET_VRING_KICK, index, q.kickFd), "SET_VRING_KICK");
        if (sendEnable) {
            check(vringState(FrontendRequest.SET_VRING_ENABLE, index, 1), "SET_VRING_ENABLE");
        }
    }

    public static long uva(long gpa) {
        return gpa - GPA_BASE + UVA_BASE;
    }

    /** One driver-side split ring in test guest memory. */
    public final class Queue {
        public final int index;
        public final int size;
        public final long desc;
        public final long avail;
        public final long used;
        public final int kickFd;
        public final int callFd;
        private int nextDesc;
        private int availIdx;
        private int lastUsed;

        Queue(int index, int size) throws FsException {
            this.index = index;
            this.size = size;
            this.desc = alloc(16 * size, 16);
            this.avail = alloc(6 + 2 * size, 2);
            this.used = alloc(6 + 8 * size, 4);
            this.kickFd = EventFds.create(true);
            this.callFd = EventFds.create(true);
        }

        /** Writes descriptor {@code i} of the table verbatim. */
        public void writeDesc(int i, long addr, int len, int flags, int next) {
            int o = off(desc) + 16 * i;
            ram.putLong(o, addr).putInt(o + 8, len).putShort(o + 12, (short) flags).putShort(o + 14, (short) next);
        }

        /** Writes a descriptor into an arbitrary table at {@code tableGpa}. */
        public void writeDescAt(long tableGpa, int i, long addr, int len, int flags, int next) {
            int o = off(tableGpa) + 16 * i;
            ram.putLong(o, addr).putInt(o + 8, len).putShort(o + 12, (short) flags).putShort(o + 14, (short) next);
        }

        /** Reserves {@code n} consecutive descriptor slots (wrapping) and returns the first. */
        public int takeDescs(int n) {
            int first = nextDesc;
            nextDesc = (nextDesc + n) % size;
            return first;
        }

        /** A chain of buffers: {@code bufs[i]} at gpa with len, writable per {@code writable[i]}. */
        public int submitChain(long[] gpas, int[] lens, boolean[] writable) {
            int first = takeDescs(gpas.length);
            for (int k = 0; k < gpas.length; k++) {
                int i = (first + k) % size;
                int flags = (writable[k] ? 2 : 0) | (k + 1 < gpas.length ? 1 : 0);
                writeDesc(i, gpas[k], lens[k], flags, (first + k + 1) % size);
            }
            publish(first);
            return first;
        }

        /**
         * Puts {@code head} in the avail ring and advances avail idx (after a release fence). Safe
         * against {@link #awaitUsed} on another thread: both write used_event.
         */
        public synchronized void publish(int head) {
            ram.putShort(off(avail) + 4 + 2 * (availIdx % size), (short) head);
            // used_event: wake us for the next used entry we have not seen (EVENT_IDX)
            ram.putShort(off(avail) + 4 + 2 * size, (short) lastUsed);
            VarHandle.releaseFence();
            availIdx = (availIdx + 1) & 0xffff;
            ram.putShort(off(avail) + 2, (short) availIdx);
            VarHandle.fullFence();
        }

        /** Publishes a raw head value (may be out of range) in the avail ring. */
        public void publishRawHead(int head) {
            publish(head);
        }

        public void kick() throws FsException {
            EventFds.signal(kickFd);
        }

        public int usedIdx() {
            VarHandle.acquireFence();
            return ram.getShort(off(used) + 2) & 0xffff;
        }

        /**
         * Waits (on the call eventfd, up to {@code timeout}) for the next used entry and returns it;
         * null on timeout. The call eventfd must fire: a used entry without a signal is not accepted.
         */
        public Used awaitUsed(Duration timeout) throws FsException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                Used u = takeUsed();
                if (u != null) {
                    return u;
                }
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return null;
                }
                if ((EventFds.awaitReadable(callFd, callFd, (int) Math.min(left, 100)) & 1) != 0) {
                    EventFds.read(callFd);
                    synchronized (this) {
                        signalled = true;
                    }
                }
            }
        }

        private boolean signalled;

        /** The next used entry, if one is there and the call eventfd has fired; null otherwise. */
        private synchronized Used takeUsed() {
            if (usedIdx() == lastUsed || !signalled) {
                return null;
            }
            int o = off(used) + 4 + 8 * (lastUsed % size);
            Used u = new Used(ram.getInt(o), ram.getInt(o + 4));
            lastUsed = (lastUsed + 1) & 0xffff;
            ram.putShort(off(avail) + 4 + 2 * size, (short) lastUsed);
            VarHandle.fullFence();
            if (usedIdx() == lastUsed) {
                signalled = false;
            }
            return u;
        }

        public int availIdx() {
            return availIdx;
        }
    }

    @Override
    public void close() {
        UnixSockets.close(sock);
        for (Queue q : queues) {
            EventFds.close(q.kickFd);
            EventFds.close(q.callFd);
        }
        mapping.close();
        UnixSockets.close(memfd);
    }
}
