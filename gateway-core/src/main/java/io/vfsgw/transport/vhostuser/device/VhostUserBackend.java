package io.vfsgw.transport.vhostuser.device;

import static io.vfsgw.transport.vhostuser.protocol.VhostUserFeatures.*;

import io.vfsgw.nativeio.UnixSockets;
import io.vfsgw.transport.vhostuser.protocol.MemoryRegionDescriptor;
import io.vfsgw.transport.vhostuser.protocol.VhostUserBackendHandler;
import io.vfsgw.transport.vhostuser.protocol.VhostUserException;
import io.vfsgw.transport.vhostuser.protocol.VhostUserInflight;
import io.vfsgw.transport.vhostuser.protocol.VringAddress;
import io.vfsgw.transport.vhostuser.protocol.VringState;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The vhost-user back end for one front-end connection: memory table, rings, features, status, the
 * inflight-tracking buffer (GET/SET_INFLIGHT_FD) and the back-end request channel, around a
 * {@link VirtioDevice}. One instance per connection; {@link #close()} when the connection ends stops
 * every ring, unmaps memory (once no request uses it) and closes every fd, so the next front end
 * starts from nothing (the inflight buffer's contents live on in the front end's copy of the memfd).
 */
public final class VhostUserBackend implements VhostUserBackendHandler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VhostUserBackend.class);

    /** Virtio features offered besides the device's own. VIRTIO_F_IOMMU_PLATFORM is not: no IOTLB. */
    public static final long FRAMEWORK_FEATURES = VIRTIO_F_VERSION_1 | VIRTIO_RING_F_INDIRECT_DESC
            | VIRTIO_RING_F_EVENT_IDX | VHOST_USER_F_PROTOCOL_FEATURES;
    /**
     * Protocol features offered (plus CONFIG when {@link BackendOptions#offerConfig()}). LOG_SHMFD is
     * not: no migration.
     */
    public static final long PROTOCOL_FEATURES = PROTOCOL_F_MQ | PROTOCOL_F_REPLY_ACK | PROTOCOL_F_BACKEND_REQ
            | PROTOCOL_F_BACKEND_SEND_FD | PROTOCOL_F_RESET_DEVICE | PROTOCOL_F_CONFIGURE_MEM_SLOTS
            | PROTOCOL_F_STATUS | PROTOCOL_F_INFLIGHT_SHMFD;

    private final VirtioDevice device;
    private final BackendOptions options;
    private final Vring[] vrings;
    private volatile GuestMemory memory = GuestMemory.empty();
    private long ackedFeatures;
    private long ackedProtocolFeatures;
    private int status;
    private int backendReqFd = -1;
    /** The inflight buffer rings track into (GET/SET_INFLIGHT_FD), or null. Connection thread only. */
    private InflightRegion inflight;

    public VhostUserBackend(VirtioDevice device, BackendOptions options) {
        this.device = device;
        this.options = options;
        int n = device.queueCount();
        this.vrings = new Vring[n];
        for (int i = 0; i < n; i++) {
            vrings[i] = new Vring(i, device, options, this::retainMemory);
        }
    }

    /** The current snapshot, retained for the caller; retries if it is being replaced right now. */
    private GuestMemory retainMemory() {
        while (true) {
            GuestMemory m = memory;
            if (m.tryRetain()) {
                return m;
            }
        }
    }

    private void replaceMemory(GuestMemory next) {
        GuestMemory old = memory;
        memory = next;
        old.release();
    }

    /** The back-end request channel socket, if the front end sent one (SET_BACKEND_REQ_FD); for DAX. */
    public OptionalInt backendRequestFd() {
        return backendReqFd >= 0 ? OptionalInt.of(backendReqFd) : OptionalInt.empty();
    }

    /** Virtio features the driver accepted (SET_FEATURES). */
    public long ackedFeatures() {
        return ackedFeatures;
    }

    /** Protocol features the front end accepted (SET_PROTOCOL_FEATURES): BACKEND_REQ, BACKEND_SEND_FD for DAX. */
    public long ackedProtocolFeatures() {
        return ackedProtocolFeatures;
    }

    @Override
    public int queueCount() {
        return vrings.length;
    }

    @Override
    public long getFeatures() {
        return FRAMEWORK_FEATURES | device.deviceFeatures();
    }

    @Override
    public void setFeatures(long features) {
        long unknown = features & ~getFeatures();
        if (unknown != 0) {
            // QEMU sends SET_FEATURES without waiting for an ack, so refusing would leave us with no
            // features while the guest uses them; keep the offered subset and say so.
            LOG.warn("SET_FEATURES acks features we did not offer (0x{}); ignoring those bits", Long.toHexString(unknown));
        }
        ackedFeatures = features & getFeatures();
    }

    @Override
    public long getProtocolFeatures() {
        return PROTOCOL_FEATURES | (options.offerConfig() ? PROTOCOL_F_CONFIG : 0);
    }

    @Override
    public void setProtocolFeatures(long features) {
        long unknown = features & ~getProtocolFeatures();
        if (unknown != 0) {
            LOG.warn("SET_PROTOCOL_FEATURES with unoffered bits 0x{}; ignoring those bits", Long.toHexString(unknown));
        }
        ackedProtocolFeatures = features & getProtocolFeatures();
    }

    @Override
    public void setOwner() {
        // Nothing to claim: one back end serves one connection.
    }

    @Override
    public void resetDevice() {
        for (Vring v : vrings) {
            v.reset();
        }
        replaceMemory(GuestMemory.empty());
        attachInflight(null); // every ring is stopped: nothing touches the buffer any more
        ackedFeatures = 0;
        status = 0;
    }

    @Override
    public void setMemTable(List<MemoryRegionDescriptor> regions, List<Integer> fds) throws VhostUserException {
        List<GuestMemory.Region> mapped = new ArrayList<>();
        try {
            for (int i = 0; i < regions.size(); i++) {
                int fd = fds.get(i);
                try {
                    mapped.add(GuestMemory.map(regions.get(i), fd));
                } catch (BadDescriptorException e) {
                    for (int j = i + 1; j < fds.size(); j++) {
                        UnixSockets.close(fds.get(j));
                    }
                    throw new VhostUserException("SET_MEM_TABLE: " + e.getMessage());
                }
            }
            replaceMemory(GuestMemory.of(mapped));
            LOG.info("memory table: {}", regions);
        } catch (BadDescriptorException e) {
            throw new VhostUserException("SET_MEM_TABLE: " + e.getMessage());
        } finally {
            mapped.forEach(GuestMemory.Region::release); // the snapshot holds its own references
        }
    }

    @Override
    public int getMaxMemSlots() {
        return options.maxMemSlots();
    }

    @Override
    public void addMemRegion(MemoryRegionDescriptor region, int fd) throws VhostUserException {
        if (memory.regionCount() >= options.maxMemSlots()) {
            UnixSockets.close(fd);
            throw new VhostUserException("ADD_MEM_REG beyond " + options.maxMemSlots() + " slots");
        }
        GuestMemory.Region r;
        try {
            r = GuestMemory.map(region, fd);
        } catch (BadDescriptorException e) {
            throw new VhostUserException("ADD_MEM_REG: " + e.getMessage());
        }
        try {
            replaceMemory(memory.with(r));
        } catch (BadDescriptorException e) {
            throw new VhostUserException("ADD_MEM_REG: " + e.getMessage());
        } finally {
            r.release();
        }
    }

    @Override
    public void removeMemRegion(MemoryRegionDescriptor region) throws VhostUserException {
        try {
            replaceMemory(memory.without(region));
        } catch (BadDescriptorException e) {
            throw new VhostUserException("REM_MEM_REG: " + e.getMessage());
        }
    }

    @Override
    public int getQueueNum() {
        return vrings.length;
    }

    @Override
    public void setVringNum(VringState state) throws VhostUserException {
        vrings[state.index()].setNum(state.num(), options.maxQueueSize());
    }

    @Override
    public void setVringAddr(VringAddress address) throws VhostUserException {
        vrings[address.index()].setAddress(address);
    }

    @Override
    public void setVringBase(VringState state) throws VhostUserException {
        vrings[state.index()].setBase(state.num());
    }

    @Override
    public VringState getVringBase(int index) {
        return new VringState(index, vrings[index].stop());
    }

    @Override
    public void setVringKick(int index, int fd) throws VhostUserException {
        if (fd < 0) {
            throw new VhostUserException("queue " + index + ": polling mode (no kick fd) is not supported");
        }
        // Rings start enabled even when VHOST_USER_F_PROTOCOL_FEATURES was negotiated (the spec says
        // disabled): QEMU before commit 4daa5054c5 (7.2) never sends SET_VRING_ENABLE for
        // vhost-user-fs, and virtiofsd enables on start for that reason. A later SET_VRING_ENABLE
        // is still obeyed; a virtio-fs guest only kicks queues it uses, so nothing runs early.
        vrings[index].setKick(fd, (ackedFeatures & VIRTIO_RING_F_EVENT_IDX) != 0,
                (ackedFeatures & VIRTIO_RING_F_INDIRECT_DESC) != 0, true);
    }

    @Override
    public void setVringCall(int index, int fd) {
        vrings[index].setCall(fd);
    }

    @Override
    public void setVringErr(int index, int fd) {
        vrings[index].setErr(fd);
    }

    @Override
    public void setVringEnable(int index, boolean enable) {
        vrings[index].setEnabled(enable);
    }

    @Override
    public ByteBuffer getConfig(int offset, int size, int flags) throws VhostUserException {
        ByteBuffer config = device.configSpace();
        if (offset < 0 || size < 0 || offset > config.remaining() || size > config.remaining() - offset) {
            throw new VhostUserException("config range " + offset + " +" + size + " outside "
                    + config.remaining() + " bytes");
        }
        return config.slice(config.position() + offset, size);
    }

    @Override
    public void setConfig(int offset, int flags, ByteBuffer data) throws VhostUserException {
        throw new VhostUserException("device config space is read-only");
    }

    @Override
    public void setStatus(int status) {
        // Recorded for GET_STATUS only: rings are driven by SET_VRING_* and QEMU sends status 0
        // before GET_VRING_BASE, which must still find the rings intact.
        this.status = status & 0xff;
    }

    @Override
    public int getStatus() {
        return status;
    }

    @Override
    public void setBackendReqFd(int fd) {
        UnixSockets.close(backendReqFd);
        backendReqFd = fd;
    }

    @Override
    public InflightBuffer getInflightFd(VhostUserInflight request) throws VhostUserException {
        requireRingsStopped("GET_INFLIGHT_FD");
        InflightRegion.Created c = InflightRegion.create(request.numQueues(), request.queueSize(), vrings.length,
                options.maxQueueSize());
        // Track into it right away; SET_INFLIGHT_FD with the same fd (QEMU sends it next) replaces it.
        attachInflight(c.region());
        LOG.info("inflight buffer created: {}", c.region().layout());
        return new InflightBuffer(c.region().layout(), c.fd());
    }

    @Override
    public void setInflightFd(VhostUserInflight layout, int fd) throws VhostUserException {
        try {
            requireRingsStopped("SET_INFLIGHT_FD");
        } catch (VhostUserException e) {
            UnixSockets.close(fd);
            throw e;
        }
        attachInflight(InflightRegion.map(layout, fd, vrings.length, options.maxQueueSize()));
        LOG.info("inflight buffer set: {}", layout);
    }

    private void requireRingsStopped(String what) throws VhostUserException {
        for (int i = 0; i < vrings.length; i++) {
            if (vrings[i].isStarted()) {
                throw new VhostUserException(what + " while queue " + i + " runs");
            }
        }
    }

    /** Points every ring at its region of {@code r} (null: none) and unmaps the previous buffer. */
    private void attachInflight(InflightRegion r) {
        for (int i = 0; i < vrings.length; i++) {
            vrings[i].setInflight(r == null ? null : r.queue(i));
        }
        if (inflight != null) {
            inflight.close();
        }
        inflight = r;
    }

    /**
     * Ends this connection's device: stops rings (each waits up to the drain timeout for its requests
     * in flight), releases everything.
     */
    @Override
    public void close() {
        resetDevice();
        UnixSockets.close(backendReqFd);
        backendReqFd = -1;
    }
}
