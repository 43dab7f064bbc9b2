package io.vfsgw.fuse;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Validates a request's {@link InHeader} against the bytes that actually arrived and splits the
 * request into header, body and extensions. Nothing after this needs to re-check the header's lengths.
 *
 * <p>Length rule: {@code len} must be at least 40 (the header) and at most the bytes received; bytes
 * after {@code len} are ignored. Over /dev/fuse one read returns exactly one request, so they are
 * equal; a virtio-fs chain may legitimately be handed over in buffers larger than the request, and a
 * request that claims more than arrived is rejected. The extensions ({@code totalExtlen * 8} bytes)
 * must fit inside {@code len - 40}. An unknown opcode is not malformed: it decodes with a null
 * {@link DecodedRequest#opcode()} so the session can answer ENOSYS with the right unique.
 */
public final class RequestDecoder {
    private RequestDecoder() {
    }

    /**
     * Decodes the request occupying {@code request}'s position..limit (LITTLE_ENDIAN). The input
     * buffer's position and limit are not changed; the returned views share its memory.
     */
    public static DecodedRequest decode(ByteBuffer request) throws MalformedRequestException {
        InHeader h = decodeHeader(request, request.remaining());
        int start = request.position();
        int extBytes = h.totalExtlen() * 8;
        int bodyLen = h.len() - InHeader.SIZE - extBytes;
        ByteBuffer body = request.slice(start + InHeader.SIZE, bodyLen).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer ext = request.slice(start + InHeader.SIZE + bodyLen, extBytes).order(ByteOrder.LITTLE_ENDIAN);
        return new DecodedRequest(h, Opcode.fromCode(h.opcode()), body, ext);
    }

    /**
     * Reads and validates the header at {@code first}'s position when the request arrived scattered
     * (virtio-fs puts the header and each argument in separate descriptors): {@code receivedBytes} is
     * the total over all readable buffers. Does not move {@code first}'s position.
     */
    public static InHeader decodeHeader(ByteBuffer first, long receivedBytes) throws MalformedRequestException {
        MalformedRequestException.requireRemaining(first, InHeader.SIZE, "fuse_in_header");
        InHeader h = InHeader.readAt(first, first.position());
        long len = Integer.toUnsignedLong(h.len());
        if (len < InHeader.SIZE) {
            throw new MalformedRequestException("fuse_in_header: len " + len + " is shorter than the header");
        }
        if (len > receivedBytes) {
            throw new MalformedRequestException("fuse_in_header: len " + len + " but only " + receivedBytes
                    + " bytes arrived (opcode " + Integer.toUnsignedString(h.opcode()) + ")");
        }
        if (h.totalExtlen() * 8L > len - InHeader.SIZE) {
            throw new MalformedRequestException("fuse_in_header: " + h.totalExtlen() * 8
                    + " extension bytes do not fit in len " + len);
        }
        return h;
    }
}
