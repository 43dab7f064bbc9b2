package io.vfsgw.fuse;

import static io.vfsgw.fuse.InitFlags.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** INIT against kernels from 7.4 to 7.45 and impossible majors. */
class InitNegotiationTest {
    /** What a 6.18 host kernel offers over /dev/fuse (fuse_send_init), plus DAX and submount bits. */
    private static final long HOST_OFFER = FUSE_ASYNC_READ | FUSE_POSIX_LOCKS | FUSE_ATOMIC_O_TRUNC
            | FUSE_EXPORT_SUPPORT | FUSE_BIG_WRITES | FUSE_DONT_MASK | FUSE_SPLICE_WRITE | FUSE_SPLICE_MOVE
            | FUSE_SPLICE_READ | FUSE_FLOCK_LOCKS | FUSE_HAS_IOCTL_DIR | FUSE_AUTO_INVAL_DATA
            | FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO | FUSE_ASYNC_DIO | FUSE_WRITEBACK_CACHE
            | FUSE_NO_OPEN_SUPPORT | FUSE_PARALLEL_DIROPS | FUSE_HANDLE_KILLPRIV | FUSE_POSIX_ACL
            | FUSE_ABORT_ERROR | FUSE_MAX_PAGES | FUSE_CACHE_SYMLINKS | FUSE_NO_OPENDIR_SUPPORT
            | FUSE_EXPLICIT_INVAL_DATA | FUSE_MAP_ALIGNMENT | FUSE_SUBMOUNTS | FUSE_HANDLE_KILLPRIV_V2
            | FUSE_SETXATTR_EXT | FUSE_INIT_EXT | FUSE_SECURITY_CTX | FUSE_HAS_INODE_DAX
            | FUSE_CREATE_SUPP_GROUP | FUSE_HAS_EXPIRE_ONLY | FUSE_DIRECT_IO_ALLOW_MMAP | FUSE_PASSTHROUGH
            | FUSE_NO_EXPORT_SUPPORT | FUSE_HAS_RESEND | FUSE_ALLOW_IDMAP | FUSE_OVER_IO_URING
            | FUSE_REQUEST_TIMEOUT;

    /** Bits a 5.10 guest (7.32, no flags2) offers to virtio-fs with DAX. */
    private static final long GUEST_731_OFFER = HOST_OFFER & 0x7FFF_FFFFL & ~FUSE_SETXATTR_EXT & ~FUSE_INIT_EXT;

    private static final InitPolicy ALL_ON = InitPolicy.defaults().withWritebackCache(true).withDax(true, 21)
            .withLocks(true, true).withExportSupport(true).withHandleKillprivV2(true);

    private static InitIn kernel(int major, int minor, long flags64) {
        return new InitIn(major, minor, 128 * 1024, (int) flags64, (int) (flags64 >>> 32));
    }

    @Test
    void kernel745OfferingEverythingGetsTheServerSetAt738() throws Exception {
        InitNegotiation.Result r = InitNegotiation.negotiate(kernel(7, 45, HOST_OFFER), InitPolicy.defaults());
        NegotiatedProtocol p = r.protocol().orElseThrow();
        long expected = InitNegotiation.ALWAYS | FUSE_NO_EXPORT_SUPPORT | FUSE_DIRECT_IO_ALLOW_MMAP
                | InitFlags.FUSE_DO_READDIRPLUS | InitFlags.FUSE_READDIRPLUS_AUTO;
        assertEquals(InitFlags.describe(expected), InitFlags.describe(p.flags()));
        assertEquals(expected, r.reply().flags64());
        assertEquals(7, r.reply().major());
        assertEquals(38, r.reply().minor());
        assertEquals(38, p.minor());
        assertEquals(45, p.kernelMinor());
        assertEquals(64, r.replySize());
        assertEquals(256, r.reply().maxPages());
        assertEquals(1 << 20, r.reply().maxWrite());
        assertEquals(128 * 1024, r.reply().maxReadahead());
        assertEquals(1, r.reply().timeGran());
        assertEquals(0, r.reply().mapAlignment());
        assertTrue(p.setxattrExt());
        assertFalse(p.compatReadWriteIn());
        assertTrue(p.kernelOffers(FUSE_HAS_EXPIRE_ONLY), "capabilities stay visible");
        assertFalse(p.has(FUSE_HAS_EXPIRE_ONLY), "capabilities are not echoed");
        for (long never : new long[] {FUSE_DONT_MASK, FUSE_SPLICE_READ, FUSE_SPLICE_WRITE, FUSE_SPLICE_MOVE,
                FUSE_HANDLE_KILLPRIV, FUSE_POSIX_ACL, FUSE_EXPLICIT_INVAL_DATA, FUSE_NO_OPEN_SUPPORT,
                FUSE_NO_OPENDIR_SUPPORT, FUSE_SECURITY_CTX, FUSE_CREATE_SUPP_GROUP, FUSE_HAS_INODE_DAX,
                FUSE_PASSTHROUGH, FUSE_OVER_IO_URING, FUSE_WRITEBACK_CACHE, FUSE_POSIX_LOCKS, FUSE_FLOCK_LOCKS,
                FUSE_EXPORT_SUPPORT, FUSE_MAP_ALIGNMENT, FUSE_HANDLE_KILLPRIV_V2}) {
            assertFalse(p.has(never), InitFlags.describe(never) + " must not be set by default");
        }
    }

    @Test
    void policyOptionsTurnOnTheirFlags() throws Exception {
        InitNegotiation.Result r = InitNegotiation.negotiate(kernel(7, 38, HOST_OFFER), ALL_ON);
        NegotiatedProtocol p = r.protocol().orElseThrow();
        for (long f : new long[] {FUSE_WRITEBACK_CACHE, FUSE_MAP_ALIGNMENT, FUSE_POSIX_LOCKS, FUSE_FLOCK_LOCKS,
                FUSE_EXPORT_SUPPORT, FUSE_HANDLE_KILLPRIV_V2}) {
            assertTrue(p.has(f), InitFlags.describe(f));
        }
        assertFalse(p.has(FUSE_NO_EXPORT_SUPPORT), "export support and its negation are exclusive");
        assertFalse(p.has(FUSE_HANDLE_KILLPRIV), "never v1");
        assertEquals(21, r.reply().mapAlignment());
        assertEquals(21, p.mapAlignment());
        assertEquals(38, r.reply().minor());
    }

    @Test
    void readdirplusIsAPolicy() throws Exception {
        long both = InitFlags.FUSE_DO_READDIRPLUS | InitFlags.FUSE_READDIRPLUS_AUTO;
        NegotiatedProtocol on = InitNegotiation.negotiate(kernel(7, 38, HOST_OFFER), InitPolicy.defaults())
                .protocol().orElseThrow();
        assertTrue(on.has(both), InitFlags.describe(on.flags()));
        NegotiatedProtocol off = InitNegotiation.negotiate(kernel(7, 38, HOST_OFFER),
                InitPolicy.defaults().withReaddirplus(false)).protocol().orElseThrow();
        assertFalse(off.has(InitFlags.FUSE_DO_READDIRPLUS) || off.has(InitFlags.FUSE_READDIRPLUS_AUTO),
                InitFlags.describe(off.flags()));
    }

    @Test
    void posixAclComesWithDontMaskOrNotAtAll() throws Exception {
        InitPolicy acl = InitPolicy.defaults().withPosixAcl(true);
        NegotiatedProtocol p = InitNegotiation.negotiate(kernel(7, 38, HOST_OFFER), acl).protocol().orElseThrow();
        assertTrue(p.has(FUSE_POSIX_ACL | FUSE_DONT_MASK), InitFlags.describe(p.flags()));
        NegotiatedProtocol noAcl = InitNegotiation.negotiate(kernel(7, 38, HOST_OFFER & ~FUSE_POSIX_ACL), acl)
                .protocol().orElseThrow();
        assertFalse(noAcl.has(FUSE_POSIX_ACL));
        assertFalse(noAcl.has(FUSE_DONT_MASK), "an unmasked mode without ACLs would skip the umask");
        NegotiatedProtocol off = InitNegotiation.negotiate(kernel(7, 38, HOST_OFFER), ALL_ON).protocol().orElseThrow();
        assertFalse(off.has(FUSE_POSIX_ACL) || off.has(FUSE_DONT_MASK), "off unless asked");
    }

    @Test
    void guestKernel731WithoutInitExtGetsNoFlags2() throws Exception {
        InitNegotiation.Result r = InitNegotiation.negotiate(kernel(7, 31, GUEST_731_OFFER | 1L << 35), ALL_ON);
        NegotiatedProtocol p = r.protocol().orElseThrow();
        assertEquals(31, r.reply().minor());
        assertEquals(64, r.replySize());
        assertEquals(0, r.reply().flags2(), "flags2 needs INIT_EXT");
        assertFalse(p.has(FUSE_INIT_EXT));
        assertFalse(p.setxattrExt(), "7.31 sends 8-byte fuse_setxattr_in");
        assertFalse(p.has(FUSE_DIRECT_IO_ALLOW_MMAP));
        assertTrue(p.has(FUSE_MAP_ALIGNMENT | FUSE_MAX_PAGES | FUSE_DO_READDIRPLUS));
    }

    @Test
    void kernel722GetsA24ByteReply() throws Exception {
        InitNegotiation.Result r = InitNegotiation.negotiate(
                kernel(7, 22, FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS), InitPolicy.defaults());
        assertEquals(24, r.replySize());
        assertEquals(22, r.reply().minor());
        assertEquals(0, r.reply().maxPages(), "MAX_PAGES not offered");
        assertEquals(32, r.protocol().orElseThrow().effectiveMaxPages());
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        r.reply().encodeTo(b);
        assertEquals(24, b.position());
        assertEquals((int) (FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS), b.getInt(12));
        assertEquals(1 << 20, b.getInt(20));
    }

    @Test
    void kernel74GetsAn8ByteReplyAndCompatLayouts() throws Exception {
        InitNegotiation.Result r = InitNegotiation.negotiate(new InitIn(7, 4, 0, 0, 0), InitPolicy.defaults());
        assertEquals(8, r.replySize());
        NegotiatedProtocol p = r.protocol().orElseThrow();
        assertEquals(4, p.minor());
        assertTrue(p.compatReadWriteIn());
        assertEquals(0, p.flags());
    }

    @Test
    void majorAbove7AsksTheKernelToRetryWith738() throws Exception {
        InitNegotiation.Result r = InitNegotiation.negotiate(kernel(8, 0, HOST_OFFER), InitPolicy.defaults());
        assertTrue(r.protocol().isEmpty());
        assertEquals(new InitOut(7, 38, 0, 0, 0, 0, 0, 0, 0, 0, 0), r.reply());
        assertEquals(64, r.replySize());
        assertTrue(InitNegotiation.negotiate(kernel(-1, 0, 0), InitPolicy.defaults()).protocol().isEmpty(),
                "u32 major 0xffffffff is above 7, not below");
    }

    @Test
    void majorBelow7IsEproto() {
        FsException e = assertThrows(FsException.class,
                () -> InitNegotiation.negotiate(kernel(6, 99, HOST_OFFER), InitPolicy.defaults()));
        assertEquals(Errno.EPROTO, e.errno());
    }

    @Test
    void limitsAreClamped() throws Exception {
        InitPolicy big = InitPolicy.defaults().withMaxWrite(8 << 20, 4096);
        InitNegotiation.Result r = InitNegotiation.negotiate(new InitIn(7, 38, -1, (int) FUSE_MAX_PAGES, 0), big);
        assertEquals(256, r.reply().maxPages());
        assertEquals(-1, r.reply().maxReadahead(), "policy -1 and kernel 0xffffffff: unsigned max");
        assertEquals(8 << 20, r.reply().maxWrite());
        assertThrows(IllegalArgumentException.class, () -> InitPolicy.defaults().withDax(true, 22));
        assertThrows(IllegalArgumentException.class, () -> InitPolicy.defaults().withMaxWrite(100, 1));
    }

    @Test
    void neverSetsAFlagTheKernelDidNotOffer() throws Exception {
        Random rnd = new Random(738);
        for (int i = 0; i < 2000; i++) {
            long offered = rnd.nextLong();
            int minor = rnd.nextInt(50);
            InitIn in = kernel(7, minor, offered);
            InitPolicy policy = rnd.nextBoolean() ? ALL_ON : InitPolicy.defaults();
            InitNegotiation.Result r = InitNegotiation.negotiate(in, policy);
            NegotiatedProtocol p = r.protocol().orElseThrow();
            assertEquals(0, p.flags() & ~in.flags64(), "offered " + Long.toHexString(in.flags64()));
            assertEquals(p.flags(), r.reply().flags64());
            assertEquals(Math.min(minor, 38), r.reply().minor());
            if (!p.has(FUSE_INIT_EXT)) {
                assertEquals(0, r.reply().flags2());
            }
        }
    }
}
