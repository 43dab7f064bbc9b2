package io.vfsgw.session;

import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.CacheMode;
import io.vfsgw.fuse.InitPolicy;

/**
 * What one FUSE connection offers its kernel.
 *
 * @param cache     the cache mode and timeouts (entry/attr validity, direct I/O, keep_cache)
 * @param initPolicy what INIT accepts (max_write must fit the transport's buffers)
 * @param transport a name for logs ("devfuse", "virtio-fs")
 */
public record SessionConfig(CacheConfig cache, InitPolicy initPolicy, String transport) {
    public static SessionConfig defaults(String transport) {
        return new SessionConfig(CacheConfig.defaults(), InitPolicy.defaults()
                .withLocks(true, true).withHandleKillprivV2(true).withExportSupport(true), transport);
    }

    /**
     * Under cache none the kernel keeps no entry, so READDIRPLUS would look up every listed name only
     * for the kernel to forget it at once, and the walk's stat calls look each up again: listings
     * then carry names only (as virtiofsd's cache=none).
     */
    public SessionConfig withCache(CacheConfig c) {
        return new SessionConfig(c, initPolicy.withReaddirplus(c.mode() != CacheMode.NONE), transport);
    }

    public SessionConfig withInitPolicy(InitPolicy p) {
        return new SessionConfig(cache, p, transport);
    }

    CacheMode cacheMode() {
        return cache.mode();
    }
}
