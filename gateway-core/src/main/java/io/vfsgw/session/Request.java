package io.vfsgw.session;

import io.vfsgw.fuse.InHeader;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.spi.RequestContext;
import java.nio.ByteBuffer;

/**
 * One decoded request: its header, the caller's credentials, the argument bytes (a small,
 * contiguous copy: fixed structs and names) and, for WRITE, the data as views of the transport's
 * buffers.
 */
final class Request {
    final InHeader header;
    final Opcode opcode;
    final RequestContext ctx;
    /** The argument bytes after the header, LITTLE_ENDIAN, position 0. */
    final ByteBuffer body;
    /** WRITE only: the cursor over the request views positioned at the data. */
    final Segments data;

    Request(InHeader header, Opcode opcode, ByteBuffer body, Segments data) {
        this.header = header;
        this.opcode = opcode;
        this.ctx = new RequestContext(header.uid(), header.gid(), header.pid());
        this.body = body;
        this.data = data;
    }

    long nodeid() {
        return header.nodeid();
    }

    long unique() {
        return header.unique();
    }
}
