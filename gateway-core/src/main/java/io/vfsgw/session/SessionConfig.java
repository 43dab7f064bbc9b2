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

    public SessionConfig withCache(CacheConfig c) {
        return new SessionConfig(c, initPolicy, transport);
    }

    public SessionConfig withInitPolicy(InitPolicy p) {
        return new SessionConfig(cache, p, transport);
    }

    CacheMode cacheMode() {
        return cache.mode();
    }
}
