package io.vfsgw.transport.vhostuser.protocol;

import io.vfsgw.nativeio.UnixSockets;
import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One front end's vhost-user socket: reads each message (header, payload, SCM_RIGHTS fds),
 * validates it, dispatches it to a {@link VhostUserBackendHandler} and writes the reply.
 *
 * <p>Failure rules: a refused request ({@link VhostUserException}) gets a failed REPLY_ACK when the
 * front end asked for one and the connection goes on; an unknown request likewise; a malformed
 * message ({@link MalformedMessageException}: bad version, size, index or fd count) or a socket
 * error ends {@link #serve()} with a log line. The caller then resets the device and closes the fd.
 */
public final class VhostUserConnection {
    private static final Logger LOG = LoggerFactory.getLogger(VhostUserConnection.class);

    /** Largest payload accepted; the biggest we serve is SET_MEM_TABLE with 8 regions (264 bytes). */
    public static final int MAX_PAYLOAD = 4096;
    /** Most regions SET_MEM_TABLE may carry (VHOST_MEMORY_BASELINE_NREGIONS). */
    public static final int MAX_MEM_TABLE_REGIONS = 8;
    /** Largest config-space access (struct VhostUserConfig's payload). */
    public static final int MAX_CONFIG_SIZE = 256;
    private static final int CONFIG_HEADER = 12;
    private static final long VRING_INDEX_MASK = 0xff;
    private static final long VRING_NOFD_MASK = 0x100;

    private final int fd;
    private final VhostUserBackendHandler handler;
    private final ByteBuffer in = ByteBuffer.allocateDirect(MessageHeader.SIZE + MAX_PAYLOAD).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer out = ByteBuffer.allocateDirect(MessageHeader.SIZE + MAX_PAYLOAD).order(ByteOrder.LITTLE_ENDIAN);
    private long ackedProtocolFeatures;

    /** {@code fd} is a connected socket; this object never closes it (the owner does). */
    public VhostUserConnection(int fd, VhostUserBackendHandler handler) {
        this.fd = fd;
        this.handler = handler;
    }

    /**
     * Serves messages until the front end hangs up, the socket fails or a malformed message arrives.
     * Returns normally in every case (after logging); never throws for anything the peer sends.
     */
    public void serve() {
        List<Integer> fds = new ArrayList<>();
        try {
            while (true) {
                fds.clear();
                MessageHeader h = readMessage(fds);
                if (h == null) {
                    LOG.info("vhost-user front end disconnected");
                    return;
                }
                handle(h, fds);
            }
        } catch (MalformedMessageException e) {
            LOG.warn("closing vhost-user connection: malformed message: {}", e.getMessage());
        } catch (FsException e) {
            LOG.warn("closing vhost-user connection: socket error: {}", e.getMessage());
        } finally {
            fds.forEach(UnixSockets::close);
        }
    }

    /** Reads one whole message into {@link #in}; null at a clean end of stream between messages. */
    private MessageHeader readMessage(List<Integer> fds) throws FsException, MalformedMessageException {
        in.clear().limit(MessageHeader.SIZE);
        if (!fill(fds, true)) {
            return null;
        }
        MessageHeader h = MessageHeader.decode(in);
        if ((h.flags() & MessageHeader.VERSION_MASK) != MessageHeader.VERSION) {
            throw new MalformedMessageException("bad version in flags 0x" + Integer.toHexString(h.flags()));
        }
        if (h.size() < 0 || h.size() > MAX_PAYLOAD) {
            throw new MalformedMessageException("payload of " + Integer.toUnsignedString(h.size())
                    + " bytes for request " + h.request() + " exceeds " + MAX_PAYLOAD);
        }
        in.limit(MessageHeader.SIZE + h.size());
        fill(fds, false);
        return h;
    }

    /** Reads until {@code in} is full; false only for end of stream before the first byte. */
    private boolean fill(List<Integer> fds, boolean eofAllowed) throws FsException, MalformedMessageException {
        boolean first = true;
        while (in.hasRemaining()) {
            UnixSockets.Received r = UnixSockets.recvmsg(fd, in);
            for (int f : r.fds()) {
                fds.add(f);
            }
            if (r.controlTruncated()) {
                throw new MalformedMessageException("more than " + UnixSockets.MAX_FDS + " fds in one message");
            }
            if (r.bytes() == 0) {
                if (first && eofAllowed) {
                    return false;
                }
                throw new MalformedMessageException("connection closed in the middle of a message");
            }
            first = false;
        }
        return true;
    }

    private void handle(MessageHeader h, List<Integer> fds) throws FsException, MalformedMessageException {
        FrontendRequest req = FrontendRequest.fromCode(h.request());
        if (req == null || req.size() == FrontendRequest.Size.UNSUPPORTED) {
            LOG.warn("unsupported vhost-user request {} ({}), {} fds; answering failure if a reply is wanted",
                    req != null ? req : "unknown", h.request(), fds.size());
            closeAll(fds);
            ackIfWanted(h, false);
            return;
        }
        if (!req.acceptsSize(h.size())) {
            throw new MalformedMessageException(req + " with a payload of " + h.size() + " bytes");
        }
        int p = MessageHeader.SIZE;
        boolean ok = true;
        boolean replied = false;
        try {
            switch (req) {
                case GET_FEATURES -> {
                    noFds(req, fds);
                    replyU64(h, handler.getFeatures());
                    replied = true;
                }
                case SET_FEATURES -> {
                    noFds(req, fds);
                    handler.setFeatures(in.getLong(p));
                }
                case GET_PROTOCOL_FEATURES -> {
                    noFds(req, fds);
                    replyU64(h, handler.getProtocolFeatures());
                    replied = true;
                }
                case SET_PROTOCOL_FEATURES -> {
                    noFds(req, fds);
                    handler.setProtocolFeatures(in.getLong(p));
                    ackedProtocolFeatures = in.getLong(p) & handler.getProtocolFeatures();
                }
                case SET_OWNER -> {
                    noFds(req, fds);
                    handler.setOwner();
                }
                case RESET_OWNER, RESET_DEVICE -> {
                    noFds(req, fds);
                    handler.resetDevice();
                }
                case SET_MEM_TABLE -> setMemTable(h, fds);
                case GET_MAX_MEM_SLOTS -> {
                    noFds(req, fds);
                    replyU64(h, handler.getMaxMemSlots());
                    replied = true;
                }
                case ADD_MEM_REG -> {
                    requireFds(req, fds, 1);
                    int f = fds.remove(0);
                    handler.addMemRegion(MemoryRegionDescriptor.decode(in, p + 8), f);
                }
                case REM_MEM_REG -> {
                    // QEMU sends the region's fd along with REM_MEM_REG; it is not needed to find it.
                    closeAll(fds);
                    handler.removeMemRegion(MemoryRegionDescriptor.decode(in, p + 8));
                }
                case GET_QUEUE_NUM -> {
                    noFds(req, fds);
                    replyU64(h, handler.getQueueNum());
                    replied = true;
                }
                case SET_VRING_NUM -> {
                    noFds(req, fds);
                    handler.setVringNum(vringState(p));
                }
                case SET_VRING_BASE -> {
                    noFds(req, fds);
                    handler.setVringBase(vringState(p));
                }
                case SET_VRING_ENABLE -> {
                    noFds(req, fds);
                    VringState s = vringState(p);
                    if (s.num() != 0 && s.num() != 1) {
                        throw new VhostUserException("SET_VRING_ENABLE with value " + s.num());
                    }
                    handler.setVringEnable(s.index(), s.num() == 1);
                }
                case GET_VRING_BASE -> {
                    noFds(req, fds);
                    VringState s = vringState(p);
                    VringState base;
                    try {
                        base = handler.getVringBase(s.index());
                    } catch (VhostUserException e) {
                        LOG.warn("GET_VRING_BASE {} failed: {}", s.index(), e.getMessage());
                        base = new VringState(s.index(), 0);
                    }
                    ByteBuffer o = replyBuffer(h, VringState.SIZE);
                    base.encodeTo(o, MessageHeader.SIZE);
                    send(o);
                    replied = true;
                }
                case SET_VRING_ADDR -> {
                    noFds(req, fds);
                    VringAddress a = VringAddress.decode(in, p);
                    checkIndex(req, a.index());
                    handler.setVringAddr(a);
                }
                case SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR -> vringFd(req, fds, in.getLong(p));
                case GET_CONFIG -> {
                    noFds(req, fds);
                    getConfig(h);
                    replied = true;
                }
                case SET_CONFIG -> {
                    noFds(req, fds);
                    int[] c = configHeader(h);
                    handler.setConfig(c[0], c[2], in.slice(p + CONFIG_HEADER, c[1]).order(ByteOrder.LITTLE_ENDIAN));
                }
                case SET_STATUS -> {
                    noFds(req, fds);
                    handler.setStatus((int) in.getLong(p));
                }
                case GET_STATUS -> {
                    noFds(req, fds);
                    replyU64(h, handler.getStatus() & 0xffL);
                    replied = true;
                }
                case SET_BACKEND_REQ_FD -> {
                    requireFds(req, fds, 1);
                    handler.setBackendReqFd(fds.remove(0));
                }
                case GET_INFLIGHT_FD -> {
                    noFds(req, fds);
                    getInflightFd(h);
                    replied = true;
                }
                case SET_INFLIGHT_FD -> {
                    requireFds(req, fds, 1);
                    requireProtocolFeature(req, VhostUserFeatures.PROTOCOL_F_INFLIGHT_SHMFD);
                    handler.setInflightFd(VhostUserInflight.decode(in, p), fds.remove(0));
                }
                default -> throw new IllegalStateException("size table lists " + req + " as served");
            }
        } catch (VhostUserException e) {
            ok = false;
            LOG.warn("vhost-user {} refused: {}", req, e.getMessage());
        } catch (RuntimeException e) {
            // A bug of ours, not the peer's: say so loudly, refuse the request, keep the connection.
            ok = false;
            LOG.error("vhost-user {} failed inside the back end", req, e);
        } finally {
            closeAll(fds);
        }
        if (!replied) {
            ackIfWanted(h, ok);
        }
    }

    private void setMemTable(MessageHeader h, List<Integer> fds) throws MalformedMessageException, VhostUserException {
        int p = MessageHeader.SIZE;
        if (h.size() < 8) {
            throw new MalformedMessageException("SET_MEM_TABLE shorter than its region count");
        }
        int n = in.getInt(p);
        if (n < 1 || n > MAX_MEM_TABLE_REGIONS || h.size() != 8 + n * MemoryRegionDescriptor.SIZE) {
            throw new MalformedMessageException("SET_MEM_TABLE with " + Integer.toUnsignedString(n)
                    + " regions in " + h.size() + " bytes");
        }
        requireFds(FrontendRequest.SET_MEM_TABLE, fds, n);
        List<MemoryRegionDescriptor> regions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            regions.add(MemoryRegionDescriptor.decode(in, p + 8 + i * MemoryRegionDescriptor.SIZE));
        }
        List<Integer> owned = List.copyOf(fds);
        fds.clear();
        handler.setMemTable(regions, owned);
    }

    private void vringFd(FrontendRequest req, List<Integer> fds, long value) throws MalformedMessageException,
            VhostUserException {
        if ((value & ~(VRING_INDEX_MASK | VRING_NOFD_MASK)) != 0) {
            throw new MalformedMessageException(req + " with reserved bits set: 0x" + Long.toHexString(value));
        }
        int index = (int) (value & VRING_INDEX_MASK);
        checkIndex(req, index);
        boolean noFd = (value & VRING_NOFD_MASK) != 0;
        requireFds(req, fds, noFd ? 0 : 1);
        int f = noFd ? -1 : fds.remove(0);
        switch (req) {
            case SET_VRING_KICK -> handler.setVringKick(index, f);
            case SET_VRING_CALL -> handler.setVringCall(index, f);
            default -> handler.setVringErr(index, f);
        }
    }

    private void getConfig(MessageHeader h) throws MalformedMessageException, FsException {
        int[] c = configHeader(h);
        ByteBuffer data;
        try {
            data = handler.getConfig(c[0], c[1], c[2]);
        } catch (VhostUserException e) {
            // The spec's failure reply is a payload that is only the config header, with size 0.
            LOG.warn("GET_CONFIG offset {} size {} refused: {}", c[0], c[1], e.getMessage());
            ByteBuffer o = replyBuffer(h, CONFIG_HEADER);
            o.putInt(MessageHeader.SIZE, c[0]).putInt(MessageHeader.SIZE + 4, 0).putInt(MessageHeader.SIZE + 8, c[2]);
            send(o);
            return;
        }
        ByteBuffer o = replyBuffer(h, CONFIG_HEADER + c[1]);
        int p = MessageHeader.SIZE;
        o.putInt(p, c[0]).putInt(p + 4, c[1]).putInt(p + 8, c[2]);
        o.put(p + CONFIG_HEADER, data, data.position(), Math.min(c[1], data.remaining()));
        send(o);
    }

    private void getInflightFd(MessageHeader h) throws FsException {
        VhostUserInflight request = VhostUserInflight.decode(in, MessageHeader.SIZE);
        VhostUserBackendHandler.InflightBuffer buffer;
        try {
            requireProtocolFeature(FrontendRequest.GET_INFLIGHT_FD, VhostUserFeatures.PROTOCOL_F_INFLIGHT_SHMFD);
            buffer = handler.getInflightFd(request);
        } catch (VhostUserException e) {
            // QEMU reads mmap_size 0 (and no fd) as "no inflight buffer"; it is the only failure reply.
            LOG.warn("GET_INFLIGHT_FD for {} queues of {} refused: {}", request.numQueues(), request.queueSize(),
                    e.getMessage());
            ByteBuffer o = replyBuffer(h, VhostUserInflight.SIZE);
            new VhostUserInflight(0, 0, request.numQueues(), request.queueSize()).encodeTo(o, MessageHeader.SIZE);
            send(o);
            return;
        }
        try {
            ByteBuffer o = replyBuffer(h, VhostUserInflight.SIZE);
            buffer.layout().encodeTo(o, MessageHeader.SIZE);
            o.position(0);
            UnixSockets.sendmsg(fd, o, buffer.fd());
        } finally {
            UnixSockets.close(buffer.fd());
        }
    }

    private void requireProtocolFeature(FrontendRequest req, long feature) throws VhostUserException {
        if ((ackedProtocolFeatures & feature) == 0) {
            throw new VhostUserException(req + " without the protocol feature 0x" + Long.toHexString(feature)
                    + " negotiated");
        }
    }

    /** offset, size, flags of a GET/SET_CONFIG payload, checked against the message size. */
    private int[] configHeader(MessageHeader h) throws MalformedMessageException {
        int p = MessageHeader.SIZE;
        if (h.size() < CONFIG_HEADER) {
            throw new MalformedMessageException("config message shorter than its header");
        }
        int size = in.getInt(p + 4);
        if (size < 0 || size > MAX_CONFIG_SIZE || h.size() != CONFIG_HEADER + size) {
            throw new MalformedMessageException("config message of " + h.size() + " bytes claims "
                    + Integer.toUnsignedString(size) + " bytes of config");
        }
        return new int[] {in.getInt(p), size, in.getInt(p + 8)};
    }

    private VringState vringState(int at) throws MalformedMessageException {
        VringState s = VringState.decode(in, at);
        checkIndex(null, s.index());
        return s;
    }

    private void checkIndex(FrontendRequest req, int index) throws MalformedMessageException {
        if (index < 0 || index >= handler.queueCount()) {
            throw new MalformedMessageException((req == null ? "" : req + ": ") + "queue index "
                    + Integer.toUnsignedString(index) + " >= " + handler.queueCount());
        }
    }

    private static void noFds(FrontendRequest req, List<Integer> fds) throws MalformedMessageException {
        requireFds(req, fds, 0);
    }

    private static void requireFds(FrontendRequest req, List<Integer> fds, int n) throws MalformedMessageException {
        if (fds.size() != n) {
            throw new MalformedMessageException(req + " carried " + fds.size() + " fds, expected " + n);
        }
    }

    private static void closeAll(List<Integer> fds) {
        fds.forEach(UnixSockets::close);
        fds.clear();
    }

    private void ackIfWanted(MessageHeader h, boolean ok) throws FsException {
        if (h.needsReply() && (ackedProtocolFeatures & VhostUserFeatures.PROTOCOL_F_REPLY_ACK) != 0) {
            replyU64(h, ok ? 0 : 1);
        }
    }

    private void replyU64(MessageHeader h, long value) throws FsException {
        ByteBuffer o = replyBuffer(h, 8);
        o.putLong(MessageHeader.SIZE, value);
        send(o);
    }

    private ByteBuffer replyBuffer(MessageHeader h, int payload) {
        out.clear();
        new MessageHeader(h.request(), MessageHeader.VERSION | MessageHeader.REPLY, payload).encodeTo(out);
        out.limit(MessageHeader.SIZE + payload);
        return out;
    }

    private void send(ByteBuffer o) throws FsException {
        o.position(0);
        UnixSockets.sendmsg(fd, o);
    }
}
