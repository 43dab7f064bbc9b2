package io.vfsgw.transport.vhostuser.protocol;

/**
 * Front-end request codes (QEMU docs/interop/vhost-user.rst, "Front-end message types"), with the
 * payload size each must carry. Names follow the spec; codes we do not serve are listed so logs
 * can name them.
 */
public enum FrontendRequest {
    GET_FEATURES(1, Size.EMPTY),
    SET_FEATURES(2, Size.U64),
    SET_OWNER(3, Size.EMPTY),
    RESET_OWNER(4, Size.EMPTY),
    SET_MEM_TABLE(5, Size.VARIABLE),
    SET_LOG_BASE(6, Size.UNSUPPORTED),
    SET_LOG_FD(7, Size.UNSUPPORTED),
    SET_VRING_NUM(8, Size.VRING_STATE),
    SET_VRING_ADDR(9, Size.VRING_ADDR),
    SET_VRING_BASE(10, Size.VRING_STATE),
    GET_VRING_BASE(11, Size.VRING_STATE),
    SET_VRING_KICK(12, Size.U64),
    SET_VRING_CALL(13, Size.U64),
    SET_VRING_ERR(14, Size.U64),
    GET_PROTOCOL_FEATURES(15, Size.EMPTY),
    SET_PROTOCOL_FEATURES(16, Size.U64),
    GET_QUEUE_NUM(17, Size.EMPTY),
    SET_VRING_ENABLE(18, Size.VRING_STATE),
    SEND_RARP(19, Size.UNSUPPORTED),
    NET_SET_MTU(20, Size.UNSUPPORTED),
    SET_BACKEND_REQ_FD(21, Size.EMPTY_OR_U64),
    IOTLB_MSG(22, Size.UNSUPPORTED),
    SET_VRING_ENDIAN(23, Size.UNSUPPORTED),
    GET_CONFIG(24, Size.VARIABLE),
    SET_CONFIG(25, Size.VARIABLE),
    CREATE_CRYPTO_SESSION(26, Size.UNSUPPORTED),
    CLOSE_CRYPTO_SESSION(27, Size.UNSUPPORTED),
    POSTCOPY_ADVISE(28, Size.UNSUPPORTED),
    POSTCOPY_LISTEN(29, Size.UNSUPPORTED),
    POSTCOPY_END(30, Size.UNSUPPORTED),
    GET_INFLIGHT_FD(31, Size.INFLIGHT),
    SET_INFLIGHT_FD(32, Size.INFLIGHT),
    GPU_SET_SOCKET(33, Size.UNSUPPORTED),
    RESET_DEVICE(34, Size.EMPTY),
    VRING_KICK(35, Size.UNSUPPORTED),
    GET_MAX_MEM_SLOTS(36, Size.EMPTY),
    ADD_MEM_REG(37, Size.SINGLE_MEM_REGION),
    REM_MEM_REG(38, Size.SINGLE_MEM_REGION),
    SET_STATUS(39, Size.U64),
    GET_STATUS(40, Size.EMPTY);

    /** How the payload size of a request is checked before dispatch. */
    enum Size {
        EMPTY, U64, EMPTY_OR_U64, VRING_STATE, VRING_ADDR, SINGLE_MEM_REGION, INFLIGHT,
        /** Checked by the decoder (SET_MEM_TABLE, GET/SET_CONFIG). */
        VARIABLE,
        /** We do not serve it: answered as an unknown request. */
        UNSUPPORTED
    }

    private static final FrontendRequest[] BY_CODE = new FrontendRequest[64];

    static {
        for (FrontendRequest r : values()) {
            BY_CODE[r.code] = r;
        }
    }

    private final int code;
    private final Size size;

    FrontendRequest(int code, Size size) {
        this.code = code;
        this.size = size;
    }

    public int code() {
        return code;
    }

    Size size() {
        return size;
    }

    /** The request for a wire code, or null when the code is not one we know. */
    public static FrontendRequest fromCode(int code) {
        return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** Whether {@code payloadSize} is acceptable for this request before decoding. */
    boolean acceptsSize(int payloadSize) {
        return switch (size) {
            case EMPTY -> payloadSize == 0;
            case U64 -> payloadSize == 8;
            case EMPTY_OR_U64 -> payloadSize == 0 || payloadSize == 8;
            case VRING_STATE -> payloadSize == VringState.SIZE;
            case VRING_ADDR -> payloadSize == VringAddress.SIZE;
            case SINGLE_MEM_REGION -> payloadSize == 8 + MemoryRegionDescriptor.SIZE;
            case INFLIGHT -> payloadSize == VhostUserInflight.SIZE;
            case VARIABLE, UNSUPPORTED -> true;
        };
    }
}
