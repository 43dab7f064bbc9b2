package io.vfsgw.session;

import static io.vfsgw.session.SessionFixture.ROOT;
import static io.vfsgw.session.SessionFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.fuse.ForgetOne;
import io.vfsgw.fuse.InHeader;
import io.vfsgw.fuse.InitFlags;
import io.vfsgw.fuse.InitIn;
import io.vfsgw.fuse.InitOut;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.fuse.StatfsOut;
import io.vfsgw.spi.Errno;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** INIT negotiation, the state before INIT, and requests the session must drop or refuse. */
class SessionProtocolTest {
    private final SessionFixture fx = new SessionFixture();
    private final FuseHarness fuse = fx.fuse;

    @AfterEach
    void close() {
        fx.close();
    }

    /** Every flag a kernel can offer (FUSE_INIT_RESERVED is not a flag). */
    private static final long ALL = -1L & ~InitFlags.FUSE_INIT_RESERVED;

    @ParameterizedTest(name = "kernel 7.{0}: reply 7.{1}, {2} bytes")
    @CsvSource({"45,38,64", "38,38,64", "31,31,64", "22,22,24"})
    void initReplyFollowsTheKernelsVersion(int kernelMinor, int replyMinor, int replyBytes) throws Exception {
        // A kernel offers only what its version knows: flags2 and FUSE_INIT_EXT came with 7.36.
        long offered = kernelMinor >= 36 ? ALL : ALL & 0xFFFF_FFFFL & ~InitFlags.FUSE_INIT_EXT;
        ByteBuffer b = FuseHarness.buf(InitIn.SIZE);
        new InitIn(7, kernelMinor, 1 << 17, (int) offered, (int) (offered >>> 32)).encodeTo(b);
        FuseHarness.HarnessReply r = fuse.request(Opcode.INIT, 0, b.flip());
        assertTrue(r.ok());
        assertEquals(replyBytes, r.bodyLength());
        InitOut out = InitOut.decode(r.expectOk());
        assertEquals(7, out.major());
        assertEquals(replyMinor, out.minor());
        assertEquals(replyMinor, fx.session.protocol().minor());

        long got = out.flags64();
        assertEquals(0, got & ~offered, "only offered flags may be accepted");
        for (long want : new long[] {InitFlags.FUSE_ASYNC_READ, InitFlags.FUSE_POSIX_LOCKS, InitFlags.FUSE_FLOCK_LOCKS,
                InitFlags.FUSE_EXPORT_SUPPORT, InitFlags.FUSE_BIG_WRITES, InitFlags.FUSE_DO_READDIRPLUS,
                InitFlags.FUSE_AUTO_INVAL_DATA, InitFlags.FUSE_HANDLE_KILLPRIV_V2}) {
            assertEquals(want, got & want, "flag " + Long.toHexString(want));
        }
        for (long never : new long[] {InitFlags.FUSE_DONT_MASK, InitFlags.FUSE_SPLICE_READ, InitFlags.FUSE_SPLICE_WRITE,
                InitFlags.FUSE_SPLICE_MOVE, InitFlags.FUSE_POSIX_ACL, InitFlags.FUSE_HANDLE_KILLPRIV,
                InitFlags.FUSE_NO_OPEN_SUPPORT, InitFlags.FUSE_SECURITY_CTX, InitFlags.FUSE_EXPLICIT_INVAL_DATA}) {
            assertEquals(0, got & never, "flag " + Long.toHexString(never));
        }
        if (replyBytes == 64) {
            assertEquals(1 << 20, out.maxWrite());
            assertEquals(256, out.maxPages(), "FUSE_MAX_PAGES was offered");
            assertEquals(kernelMinor >= 36, (got & InitFlags.FUSE_INIT_EXT) != 0);
        } else {
            assertEquals(1 << 20, out.maxWrite());
            assertEquals(0, got >>> 32, "a 7.22 kernel has no flags2");
        }
        // The session serves after INIT at every version.
        assertTrue(fuse.getattr(ROOT).attr().mode() != 0);
    }

    @Test
    void nothingButInitBeforeInit() {
        assertErrno(Errno.EIO, fuse.request(Opcode.LOOKUP, ROOT, FuseHarness.args(FuseHarness.names("x"))));
        assertErrno(Errno.EIO, fuse.statfsReply(ROOT));
        assertErrno(Errno.EIO, fuse.request(Opcode.GETATTR, ROOT, FuseHarness.buf(0)));
        assertFalse(fuse.forget(ROOT, 1).replied(), "FORGET never gets a reply, even before INIT");
        assertFalse(fuse.batchForget(new ForgetOne(5, 1)).replied());
        assertNull(fx.session.protocol());
        fuse.init();
        assertNotNull(fx.session.protocol());
        assertEquals(1, fuse.getattr(ROOT).attr().ino());
    }

    @Test
    void unknownOpcodesGetEnosys() {
        fuse.init();
        for (int op : new int[] {7, 19, 39, 40, 52, 53, 54, 999, 4096, Integer.MAX_VALUE, -1}) {
            assertErrno(Errno.ENOSYS, fuse.request(op, ROOT, FuseHarness.buf(0), null));
        }
        assertEquals(1, fuse.getattr(ROOT).attr().ino());
        assertEquals(0, fx.session.bugCount());
    }

    @Test
    void requestsWhoseHeaderCannotBeTrustedAreDroppedAndTheSessionKeepsServing() {
        fuse.init();
        long before = fx.session.malformedCount();
        // Shorter than fuse_in_header.
        assertFalse(fuse.raw(new byte[39]).replied());
        assertFalse(fuse.raw(new byte[0]).replied());
        // len claims more than arrived.
        ByteBuffer h = fuse.header(100, Opcode.GETATTR.code(), ROOT);
        assertFalse(fuse.raw(h).replied());
        // len shorter than the header itself.
        assertFalse(fuse.raw(fuse.header(39, Opcode.GETATTR.code(), ROOT)).replied());
        assertFalse(fuse.raw(fuse.header(0, Opcode.GETATTR.code(), ROOT)).replied());
        // len negative as a signed int (over 2 GiB unsigned).
        assertFalse(fuse.raw(fuse.header(-8, Opcode.GETATTR.code(), ROOT)).replied());
        assertEquals(before + 6, fx.session.malformedCount());
        assertEquals(0, fx.session.bugCount());
        assertEquals(0, fuse.extraCompletions());
        assertEquals(1, fuse.getattr(ROOT).attr().ino(), "still serving");
    }

    @Test
    void headerSplitAcrossBuffersAndTrailingBytesAreAccepted() {
        fuse.init();
        ByteBuffer h = fuse.header(InHeader.SIZE, Opcode.GETATTR.code(), ROOT);
        ByteBuffer a = h.slice(0, 7);
        ByteBuffer b = h.slice(7, 20);
        ByteBuffer c = h.slice(27, 13);
        assertTrue(fuse.raw(a, b, c).ok());
        // Buffers larger than len (a virtio-fs chain may be): the tail is ignored.
        ByteBuffer big = FuseHarness.buf(200);
        big.put(fuse.header(InHeader.SIZE, Opcode.GETATTR.code(), ROOT)).position(200).flip();
        assertTrue(fuse.raw(big).ok());
    }

    @Test
    void statfsReplySizeFollowsTheProtocol() {
        fuse.init();
        assertEquals(StatfsOut.SIZE, fuse.statfsReply(ROOT).bodyLength());
        SessionFixture old = new SessionFixture();
        try {
            InitOut out = old.fuse.init(3, 0);
            assertEquals(3, out.minor());
            assertEquals(StatfsOut.COMPAT_SIZE, old.fuse.statfsReply(ROOT).bodyLength());
        } finally {
            old.close();
        }
    }

    @Test
    void initWithANewerMajorAsksTheKernelToRetry() throws Exception {
        ByteBuffer b = FuseHarness.buf(InitIn.SIZE);
        new InitIn(8, 1, 0, 0, 0).encodeTo(b);
        InitOut out = InitOut.decode(fuse.request(Opcode.INIT, 0, b.flip()).expectOk());
        assertEquals(7, out.major());
        assertNull(fx.session.protocol(), "still waiting for a 7.x INIT");
        assertErrno(Errno.EIO, fuse.statfsReply(ROOT));
        fuse.init();
        assertTrue(fuse.statfsReply(ROOT).ok());
    }

    @Test
    void initWithAnOlderMajorIsRefused() {
        ByteBuffer b = FuseHarness.buf(InitIn.SIZE);
        new InitIn(6, 1, 0, 0, 0).encodeTo(b);
        assertErrno(Errno.EPROTO, fuse.request(Opcode.INIT, 0, b.flip()));
        assertNull(fx.session.protocol());
    }
}
