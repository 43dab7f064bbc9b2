package io.vfsgw.backend.mem;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.vfsgw.spi.StorageBackend;

/** Guice wiring for {@code --backend mem}: one {@link MemBackend} per injector, as the StorageBackend. */
public final class MemModule extends AbstractModule {
    private final MemOptions options;

    public MemModule(MemOptions options) {
        this.options = options;
    }

    @Provides
    @Singleton
    MemBackend memBackend() {
        return new MemBackend(options);
    }

    @Provides
    @Singleton
    StorageBackend storageBackend(MemBackend backend) {
        return backend;
    }
}
