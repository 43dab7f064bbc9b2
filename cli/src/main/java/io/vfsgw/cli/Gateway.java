package io.vfsgw.cli;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.ProvisionException;
import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.MetadataCache;
import io.vfsgw.fuse.InitPolicy;
import io.vfsgw.session.FuseSession;
import io.vfsgw.session.SessionConfig;
import io.vfsgw.spi.FsException;

/** Builds the engine from the command line: the backend's Guice module, the cache, and sessions over it. */
final class Gateway implements AutoCloseable {
    private final MetadataCache cache;
    private final GatewayOptions options;
    private final BackendOptions backendOptions;

    private Gateway(MetadataCache cache, GatewayOptions options, BackendOptions backendOptions) {
        this.cache = cache;
        this.options = options;
        this.backendOptions = backendOptions;
    }

    static Gateway create(GatewayOptions gw, BackendOptions backend) {
        Injector injector;
        try {
            CacheConfig cache = gw.cacheConfig();
            injector = Guice.createInjector(new GatewayModule(cache), backend.module(cache));
            return new Gateway(injector.getInstance(MetadataCache.class), gw, backend);
        } catch (ProvisionException | CreationException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            throw new SetupException(backend.kind() + " backend: " + root.getMessage(), e);
        }
    }

    MetadataCache cache() {
        return cache;
    }

    /** A new FUSE session over the shared cache and backend. */
    FuseSession newSession(String transport, int maxWrite) {
        SessionConfig base = SessionConfig.defaults(transport).withCache(cache.config());
        InitPolicy p = base.initPolicy().withMaxWrite(maxWrite, Math.min(256, maxWrite / 4096))
                .withWritebackCache(options.writebackCache)
                .withLocks(options.posixLocks, options.flockLocks)
                .withPosixAcl(backendOptions.posixAcl());
        return new FuseSession(cache, base.withInitPolicy(p));
    }

    @Override
    public void close() {
        try {
            cache.close();
        } catch (FsException e) {
            System.err.println("vfsgw: closing the backend failed: " + e.getMessage());
        }
    }

    GatewayOptions options() {
        return options;
    }
}
