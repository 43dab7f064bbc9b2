package io.vfsgw.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vfsgw.backend.mem.MemBackend;
import io.vfsgw.backend.mem.MemOptions;
import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.MetadataCache;
import io.vfsgw.spi.Errno;
import org.junit.jupiter.api.function.Executable;

/** A FuseSession over a real MemBackend (through the metadata cache), driven by a {@link FuseHarness}. */
final class SessionFixture implements AutoCloseable {
    static final long ROOT = 1;
    static final int O_RDWR = 2;

    final MemBackend mem;
    final MetadataCache cache;
    final FuseSession session;
    final FuseHarness fuse;

    SessionFixture() {
        this(CacheConfig.defaults());
    }

    SessionFixture(CacheConfig config) {
        this(new MetadataCache(new MemBackend(MemOptions.ofCapacity(256L << 20)), config), config);
    }

    private SessionFixture(MetadataCache cache, CacheConfig config) {
        this.cache = cache;
        this.mem = (MemBackend) cache.delegate();
        this.session = new FuseSession(cache, SessionConfig.defaults("test").withCache(config));
        this.fuse = FuseHarness.over(session);
    }

    /** A second session (another guest) over the same backend and cache. */
    SessionFixture sibling() {
        return new SessionFixture(cache, cache.config());
    }

    SessionFixture initialized() {
        fuse.init();
        return this;
    }

    static void assertErrno(Errno expected, FuseHarness.HarnessReply r) {
        assertEquals(true, r.replied(), "expected a reply");
        assertEquals(expected, r.errno(), "reply error " + r.error());
    }

    static void assertErrno(Errno expected, Executable call) {
        FuseHarness.FuseError e = assertThrows(FuseHarness.FuseError.class, call);
        assertEquals(expected, e.errno());
    }

    @Override
    public void close() {
        session.close();
    }
}
