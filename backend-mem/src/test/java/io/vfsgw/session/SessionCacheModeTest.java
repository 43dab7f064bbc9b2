package io.vfsgw.session;

import static io.vfsgw.session.SessionFixture.O_RDWR;
import static io.vfsgw.session.SessionFixture.ROOT;
import static io.vfsgw.session.SessionFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.CacheMode;
import io.vfsgw.fuse.AttrOut;
import io.vfsgw.fuse.EntryOut;
import io.vfsgw.fuse.OpenOutFlags;
import io.vfsgw.spi.Errno;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What each cache mode tells the kernel, and coherency between two sessions over one cache. */
class SessionCacheModeTest {
    private static CacheConfig mode(CacheMode m) {
        return new CacheConfig(m, Duration.ofSeconds(1), 10_000);
    }

    private static boolean has(int flags, int flag) {
        return (flags & flag) != 0;
    }

    @Test
    void modeNoneMeansDirectIoAndZeroTimeouts() {
        try (SessionFixture fx = new SessionFixture(mode(CacheMode.NONE)).initialized()) {
            FuseHarness fuse = fx.fuse;
            FuseHarness.Created c = fuse.create(ROOT, "f", 0644, O_RDWR);
            assertTrue(has(c.open().openFlags(), OpenOutFlags.FOPEN_DIRECT_IO));
            assertTrue(!has(c.open().openFlags(), OpenOutFlags.FOPEN_KEEP_CACHE));
            assertEquals(0, c.entry().entryValid());
            assertEquals(0, c.entry().attrValid());
            assertEquals(0, c.entry().entryValidNsec() + c.entry().attrValidNsec());
            fuse.release(c.nodeid(), c.fh());
            int reopen = fuse.open(c.nodeid(), 0).openFlags();
            assertTrue(has(reopen, OpenOutFlags.FOPEN_DIRECT_IO) && !has(reopen, OpenOutFlags.FOPEN_KEEP_CACHE));
            EntryOut e = fuse.lookup(ROOT, "f");
            assertEquals(0, e.entryValid() + e.attrValid());
            AttrOut a = fuse.getattr(c.nodeid());
            assertEquals(0, a.attrValid() + a.attrValidNsec());
            // No negative entries either: a missing name is a plain ENOENT.
            assertErrno(Errno.ENOENT, () -> fuse.lookup(ROOT, "missing"));
        }
    }

    @Test
    void modeAutoGivesOneSecondAndKeepCacheOnlyWhileUnchanged() {
        try (SessionFixture fx = new SessionFixture(mode(CacheMode.AUTO)).initialized()) {
            FuseHarness fuse = fx.fuse;
            FuseHarness.Created c = fuse.create(ROOT, "f", 0644, O_RDWR);
            long n = c.nodeid();
            assertEquals(1, c.entry().entryValid());
            assertEquals(1, c.entry().attrValid());
            assertEquals(1, fuse.getattr(n).attrValid());
            assertTrue(!has(c.open().openFlags(), OpenOutFlags.FOPEN_DIRECT_IO));
            assertTrue(!has(c.open().openFlags(), OpenOutFlags.FOPEN_KEEP_CACHE), "first open: nothing cached yet");
            fuse.write(n, c.fh(), 0, ByteBuffer.wrap(new byte[10]));
            fuse.release(n, c.fh());

            long fh1 = fuse.open(n, 0).fh();
            fuse.release(n, fh1);
            long fh2;
            int flags = fuse.open(n, 0).openFlags();
            assertTrue(has(flags, OpenOutFlags.FOPEN_KEEP_CACHE), "unchanged since the last open: keep the cache");
            // Changed through another guest: the next open must drop the page cache.
            try (SessionFixture other = fx.sibling().initialized()) {
                long on = other.fuse.lookup(ROOT, "f").nodeid();
                long ofh = other.fuse.open(on, O_RDWR).fh();
                other.fuse.write(on, ofh, 0, ByteBuffer.wrap(new byte[] {1}));
                other.fuse.release(on, ofh);
            }
            assertTrue(!has(fuse.open(n, 0).openFlags(), OpenOutFlags.FOPEN_KEEP_CACHE), "changed: drop the cache");
            fh2 = fuse.open(n, 0).fh();
            assertTrue(fh2 > 0);
            assertTrue(has(fuse.open(n, 0).openFlags(), OpenOutFlags.FOPEN_KEEP_CACHE), "unchanged again");
            // A negative entry carries the entry timeout.
            EntryOut neg = fuse.lookup(ROOT, "missing");
            assertEquals(0, neg.nodeid());
            assertEquals(1, neg.entryValid());
            assertEquals(0, fx.session.nodes.lookupCount(0));
        }
    }

    @Test
    void aChangeBySessionAIsSeenBySessionBAtOnce() {
        try (SessionFixture a = new SessionFixture(mode(CacheMode.AUTO)).initialized();
             SessionFixture b = a.sibling().initialized()) {
            FuseHarness.Created c = a.fuse.create(ROOT, "shared", 0644, O_RDWR);
            long bn = b.fuse.lookup(ROOT, "shared").nodeid();
            assertEquals(0, b.fuse.getattr(bn).attr().size());   // now in the shared cache
            assertEquals(0, b.fuse.getattr(bn).attr().size());

            a.fuse.write(c.nodeid(), c.fh(), 0, ByteBuffer.allocate(5000));
            assertEquals(5000, b.fuse.getattr(bn).attr().size(), "the cache was invalidated by A's write");
            long bfh = b.fuse.open(bn, 0).fh();
            assertEquals(5000, b.fuse.read(bn, bfh, 0, 8192).remaining());

            a.fuse.unlink(ROOT, "shared");
            assertEquals(0, b.fuse.lookup(ROOT, "shared").nodeid(), "B gets a negative entry at once");
            assertEquals(0, b.fuse.getattr(bn).attr().nlink(), "B still holds the node; it is unlinked");
            a.fuse.mkdir(ROOT, "shared", 0755);
            assertEquals(040000, b.fuse.lookup(ROOT, "shared").attr().mode() & 0170000,
                    "B sees the new directory, not a cached negative entry");
        }
    }
}
