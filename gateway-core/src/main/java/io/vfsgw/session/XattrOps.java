package io.vfsgw.session;

import io.vfsgw.fuse.GetxattrIn;
import io.vfsgw.fuse.GetxattrOut;
import io.vfsgw.fuse.MalformedRequestException;
import io.vfsgw.fuse.SetxattrIn;
import io.vfsgw.fuse.WireStrings;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Extended attributes. A size of 0 asks only for the length, as getxattr(2) does. */
final class XattrOps {
    private final FuseSession s;

    XattrOps(FuseSession s) {
        this.s = s;
    }

    private static String xattrName(byte[] raw) throws FsException {
        if (raw.length == 0) {
            throw FsException.of(Errno.EINVAL, "empty xattr name");
        }
        if (raw.length > WireStrings.XATTR_NAME_MAX) {
            throw FsException.of(Errno.ERANGE, "xattr name of " + raw.length + " bytes");
        }
        return new String(raw, StandardCharsets.UTF_8);
    }

    private void replySized(byte[] value, int size, Reply reply) throws FsException {
        if (size == 0) {
            ByteBuffer b = Wire.buffer(GetxattrOut.SIZE);
            new GetxattrOut(value.length).encodeTo(b);
            b.flip();
            reply.ok(b);
        } else if (Integer.toUnsignedLong(size) < value.length) {
            throw FsException.of(Errno.ERANGE, value.length + " bytes do not fit in " + size);
        } else {
            reply.ok(ByteBuffer.wrap(value));
        }
    }

    void getxattr(Request req, Reply reply) throws FsException, MalformedRequestException {
        long node = s.requireNode(req.nodeid());
        GetxattrIn in = GetxattrIn.decode(req.body);
        String name = xattrName(WireStrings.readXattrName(req.body));
        replySized(s.backend.getxattr(req.ctx, node, name), in.size(), reply);
    }

    void listxattr(Request req, Reply reply) throws FsException, MalformedRequestException {
        long node = s.requireNode(req.nodeid());
        GetxattrIn in = GetxattrIn.decode(req.body);
        List<String> names = s.backend.listxattr(req.ctx, node);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (String n : names) {
            byte[] b = n.getBytes(StandardCharsets.UTF_8);
            all.write(b, 0, b.length);
            all.write(0);
        }
        replySized(all.toByteArray(), in.size(), reply);
    }

    void setxattr(Request req, Reply reply) throws FsException, MalformedRequestException {
        long node = s.requireNode(req.nodeid());
        SetxattrIn in = SetxattrIn.decode(req.body, s.protocol);
        String name = xattrName(WireStrings.readXattrName(req.body));
        int size = in.size();
        if (size < 0 || size > WireStrings.XATTR_SIZE_MAX) {
            throw FsException.of(Errno.E2BIG, "xattr value of " + Integer.toUnsignedString(size) + " bytes");
        }
        if (size > req.body.remaining()) {
            throw new MalformedRequestException("SETXATTR claims " + size + " value bytes, carries "
                    + req.body.remaining());
        }
        byte[] value = new byte[size];
        req.body.get(value);
        s.backend.setxattr(req.ctx, node, name, value, in.flags());
        reply.ok();
    }

    void removexattr(Request req, Reply reply) throws FsException, MalformedRequestException {
        long node = s.requireNode(req.nodeid());
        String name = xattrName(WireStrings.readXattrName(req.body));
        s.backend.removexattr(req.ctx, node, name);
        reply.ok();
    }
}
