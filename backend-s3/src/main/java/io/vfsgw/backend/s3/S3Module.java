package io.vfsgw.backend.s3;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.vfsgw.spi.StorageBackend;
import java.util.Objects;

/** Guice wiring of the S3 backend: binds a singleton {@link StorageBackend} built from {@link S3Options}. */
public final class S3Module extends AbstractModule {
    private final S3Options options;

    public S3Module(S3Options options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    @Provides
    @Singleton
    S3Options options() {
        return options;
    }

    /** Fails at start (IllegalStateException, one line saying what to do) when the bucket is missing. */
    @Provides
    @Singleton
    StorageBackend backend(S3Options o) {
        return S3Backend.open(o);
    }
}
