package io.vfsgw.backend.posix;

import io.vfsgw.spi.ReadOnlyBackend;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.vfsgw.spi.StorageBackend;

/** Guice wiring of {@code --backend posix}: the passthrough backend, read-only wrapped when asked. */
public final class PosixModule extends AbstractModule {
    private final PosixOptions options;

    public PosixModule(PosixOptions options) {
        this.options = options;
    }

    @Override
    protected void configure() {
        options.checkSource(); // fail at injector creation with the one-line message, not at first use
        bind(PosixOptions.class).toInstance(options);
    }

    @Provides
    @Singleton
    StorageBackend storageBackend(PosixOptions opts) {
        PosixBackend backend = PosixBackend.open(opts);
        return opts.readonly() ? new ReadOnlyBackend(backend) : backend;
    }
}
