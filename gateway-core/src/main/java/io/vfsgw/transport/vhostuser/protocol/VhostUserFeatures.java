package io.vfsgw.transport.vhostuser.protocol;

/** Feature bits: virtio device features (virtio 1.x §6) and vhost-user protocol features. */
public final class VhostUserFeatures {
    private VhostUserFeatures() {
    }

    // Virtio feature bits (GET_FEATURES / SET_FEATURES).
    public static final long VIRTIO_RING_F_INDIRECT_DESC = 1L << 28;
    public static final long VIRTIO_RING_F_EVENT_IDX = 1L << 29;
    /** vhost-user's own bit in the virtio feature word: the front end may use GET_PROTOCOL_FEATURES. */
    public static final long VHOST_USER_F_PROTOCOL_FEATURES = 1L << 30;
    public static final long VIRTIO_F_VERSION_1 = 1L << 32;

    // Protocol feature bits (GET_PROTOCOL_FEATURES / SET_PROTOCOL_FEATURES).
    public static final long PROTOCOL_F_MQ = 1L << 0;
    public static final long PROTOCOL_F_LOG_SHMFD = 1L << 1;
    public static final long PROTOCOL_F_REPLY_ACK = 1L << 3;
    public static final long PROTOCOL_F_BACKEND_REQ = 1L << 5;
    public static final long PROTOCOL_F_CONFIG = 1L << 9;
    public static final long PROTOCOL_F_BACKEND_SEND_FD = 1L << 10;
    public static final long PROTOCOL_F_INFLIGHT_SHMFD = 1L << 12;
    public static final long PROTOCOL_F_RESET_DEVICE = 1L << 13;
    public static final long PROTOCOL_F_CONFIGURE_MEM_SLOTS = 1L << 15;
    public static final long PROTOCOL_F_STATUS = 1L << 16;
}
