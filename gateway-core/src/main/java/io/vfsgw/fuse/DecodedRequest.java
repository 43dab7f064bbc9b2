package io.vfsgw.fuse;

import java.nio.ByteBuffer;

/**
 * One request after {@link RequestDecoder}: the validated header and views of its parts.
 *
 * @param header     the in-header as sent
 * @param opcode     the opcode, or null when vfsgw does not know the number (answer ENOSYS)
 * @param body       LITTLE_ENDIAN view of the bytes after the header and before the extensions:
 *                   position 0, limit = body length; shares the request's memory (no copy)
 * @param extensions LITTLE_ENDIAN view of the {@code totalExtlen * 8} extension bytes at the end of
 *                   the request (empty unless FUSE_SECURITY_CTX / FUSE_CREATE_SUPP_GROUP was negotiated)
 */
public record DecodedRequest(InHeader header, Opcode opcode, ByteBuffer body, ByteBuffer extensions) {
    public long unique() {
        return header.unique();
    }

    public long nodeid() {
        return header.nodeid();
    }
}
