package io.vfsgw.cli;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.MetadataCache;
import io.vfsgw.spi.StorageBackend;

/** The gateway's own wiring: one metadata cache over whichever backend module is installed beside it. */
public final class GatewayModule extends AbstractModule {
    private final CacheConfig cacheConfig;

    public GatewayModule(CacheConfig cacheConfig) {
        this.cacheConfig = cacheConfig;
    }

    @Provides
    @Singleton
    MetadataCache metadataCache(StorageBackend backend) {
        return new MetadataCache(backend, cacheConfig);
    }
}
