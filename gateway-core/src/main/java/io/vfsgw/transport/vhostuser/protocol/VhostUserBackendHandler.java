package io.vfsgw.transport.vhostuser.protocol;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * One method per front-end request. {@link VhostUserConnection} has already checked the version,
 * the payload size, the queue index (against {@link #queueCount()}) and the number of fds, so an
 * implementation only judges meaning.
 *
 * <p>File descriptors passed in are owned by the handler from the moment the method is called,
 * even when it throws. Throwing {@link VhostUserException} means "refused": the front end gets a
 * failed REPLY_ACK if it asked for one, and the connection carries on.
 */
public interface VhostUserBackendHandler {
    /** How many virtqueues the device has; indices at or above it are malformed. */
    int queueCount();

    long getFeatures();

    void setFeatures(long features) throws VhostUserException;

    long getProtocolFeatures();

    void setProtocolFeatures(long features) throws VhostUserException;

    void setOwner() throws VhostUserException;

    /** RESET_OWNER (deprecated) and RESET_DEVICE: stop every ring and forget device state. */
    void resetDevice();

    /** Replaces the whole memory table; {@code fds.get(i)} backs {@code regions.get(i)}. */
    void setMemTable(List<MemoryRegionDescriptor> regions, List<Integer> fds) throws VhostUserException;

    int getMaxMemSlots();

    void addMemRegion(MemoryRegionDescriptor region, int fd) throws VhostUserException;

    void removeMemRegion(MemoryRegionDescriptor region) throws VhostUserException;

    int getQueueNum();

    void setVringNum(VringState state) throws VhostUserException;

    void setVringAddr(VringAddress address) throws VhostUserException;

    void setVringBase(VringState state) throws VhostUserException;

    /** Stops the ring and returns the index of the next available entry it would have processed. */
    VringState getVringBase(int index) throws VhostUserException;

    /** {@code fd} is -1 when the front end set VHOST_USER_VRING_NOFD_MASK (polling mode). */
    void setVringKick(int index, int fd) throws VhostUserException;

    void setVringCall(int index, int fd) throws VhostUserException;

    void setVringErr(int index, int fd) throws VhostUserException;

    void setVringEnable(int index, boolean enable) throws VhostUserException;

    /** Bytes {@code [offset, offset+size)} of the device config space; throws when out of range. */
    ByteBuffer getConfig(int offset, int size, int flags) throws VhostUserException;

    void setConfig(int offset, int flags, ByteBuffer data) throws VhostUserException;

    void setStatus(int status) throws VhostUserException;

    int getStatus();

    /** The back-end request channel (a connected socket) the front end gives us for SHMEM_MAP etc. */
    void setBackendReqFd(int fd) throws VhostUserException;

    /**
     * GET_INFLIGHT_FD: a new, zeroed inflight-tracking buffer for {@code request.numQueues()} queues of
     * {@code request.queueSize()} entries. The returned fd belongs to the connection, which sends it
     * and closes its copy. Only called once PROTOCOL_F_INFLIGHT_SHMFD was negotiated.
     */
    InflightBuffer getInflightFd(VhostUserInflight request) throws VhostUserException;

    /** SET_INFLIGHT_FD: track inflight requests in (and resubmit those found in) this buffer. */
    void setInflightFd(VhostUserInflight layout, int fd) throws VhostUserException;

    /** A GET_INFLIGHT_FD answer: the buffer's layout and the memfd holding it. */
    record InflightBuffer(VhostUserInflight layout, int fd) {
    }
}
