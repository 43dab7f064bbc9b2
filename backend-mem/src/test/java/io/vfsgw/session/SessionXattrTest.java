package io.vfsgw.session;

import static io.vfsgw.session.SessionFixture.O_RDWR;
import static io.vfsgw.session.SessionFixture.ROOT;
import static io.vfsgw.session.SessionFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.fuse.GetxattrIn;
import io.vfsgw.fuse.InitFlags;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.spi.Errno;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** SETXATTR/GETXATTR/LISTXATTR: size probes, ERANGE, E2BIG, and both SETXATTR layouts. */
class SessionXattrTest {
    private final SessionFixture fx = new SessionFixture();
    private final FuseHarness fuse = fx.fuse;

    @AfterEach
    void close() {
        fx.close();
    }

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private void probeAndRange(long node) {
        assertTrue(fuse.setxattr(node, "user.color", bytes("ultramarine"), 0).ok());
        assertEquals(11, FuseHarness.getxattrSize(fuse.getxattr(node, "user.color", 0)), "size 0 asks for the length");
        assertErrno(Errno.ERANGE, fuse.getxattr(node, "user.color", 10));
        FuseHarness.HarnessReply exact = fuse.getxattr(node, "user.color", 11);
        assertEquals("ultramarine", StandardCharsets.UTF_8.decode(exact.expectOk()).toString());
        assertEquals(11, fuse.getxattr(node, "user.color", 4096).bodyLength(), "a larger buffer gets the value only");
        assertErrno(Errno.ENODATA, fuse.getxattr(node, "user.none", 0));

        assertTrue(fuse.setxattr(node, "user.b", bytes("x"), 0).ok());
        FuseHarness.HarnessReply list = fuse.request(Opcode.LISTXATTR, node, FuseHarness.args(new GetxattrIn(0)));
        int need = FuseHarness.getxattrSize(list);
        assertEquals("user.color\0user.b\0".length(), need);
        assertErrno(Errno.ERANGE, fuse.request(Opcode.LISTXATTR, node, FuseHarness.args(new GetxattrIn(need - 1))));
        String names = StandardCharsets.UTF_8.decode(fuse.request(Opcode.LISTXATTR, node,
                FuseHarness.args(new GetxattrIn(need))).expectOk()).toString();
        assertTrue(names.contains("user.color\0") && names.contains("user.b\0"), names);

        // An empty value is a value.
        assertTrue(fuse.setxattr(node, "user.empty", ByteBuffer.allocate(0), 0).ok());
        assertEquals(0, FuseHarness.getxattrSize(fuse.getxattr(node, "user.empty", 0)));
        // XATTR_CREATE on an existing name, XATTR_REPLACE on a missing one.
        assertErrno(Errno.EEXIST, fuse.setxattr(node, "user.b", bytes("y"), 1));
        assertErrno(Errno.ENODATA, fuse.setxattr(node, "user.missing", bytes("y"), 2));
        assertTrue(fuse.request(Opcode.REMOVEXATTR, node, FuseHarness.args(FuseHarness.names("user.b"))).ok());
        assertErrno(Errno.ENODATA, fuse.getxattr(node, "user.b", 0));
    }

    @Test
    void sizeProbeRangeAndListWithSetxattrExt() {
        fuse.init();
        assertTrue(fx.session.protocol().setxattrExt());
        probeAndRange(fuse.create(ROOT, "f", 0644, O_RDWR).nodeid());
        probeAndRange(ROOT);
    }

    @Test
    void sizeProbeRangeAndListWithTheCompatLayout() {
        fuse.init(38, (-1L & ~InitFlags.FUSE_INIT_RESERVED) & ~InitFlags.FUSE_SETXATTR_EXT);
        assertTrue(!fx.session.protocol().setxattrExt());
        probeAndRange(fuse.create(ROOT, "f", 0644, O_RDWR).nodeid());
    }

    @Test
    void valuesOver64KiBAreE2big() {
        fuse.init();
        long f = fuse.create(ROOT, "f", 0644, O_RDWR).nodeid();
        assertTrue(fuse.setxattr(f, "user.max", ByteBuffer.allocate(65536), 0).ok(), "64 KiB is the limit, allowed");
        assertEquals(65536, FuseHarness.getxattrSize(fuse.getxattr(f, "user.max", 0)));
        assertEquals(65536, fuse.getxattr(f, "user.max", 65536).bodyLength());
        assertErrno(Errno.E2BIG, fuse.setxattr(f, "user.big", ByteBuffer.allocate(65537), 0));
        assertErrno(Errno.ENODATA, fuse.getxattr(f, "user.big", 0));
    }

    @Test
    void badNamesAreRefused() {
        fuse.init();
        long f = fuse.create(ROOT, "f", 0644, O_RDWR).nodeid();
        // The kernel answers ERANGE itself for names over XATTR_NAME_MAX, so one on the wire is malformed.
        assertErrno(Errno.EIO, fuse.setxattr(f, "user." + "n".repeat(251), bytes("v"), 0));
        assertErrno(Errno.EIO, fuse.getxattr(f, "user." + "n".repeat(251), 0));
        assertTrue(fuse.setxattr(f, "user." + "n".repeat(250), bytes("v"), 0).ok(), "255 bytes is the limit");
        assertErrno(Errno.EINVAL, fuse.setxattr(f, "", bytes("v"), 0));
    }
}
