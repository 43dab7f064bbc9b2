package io.vfsgw.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.CacheMode;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** How the engine's cache flags reach the s3 backend's own trust in what S3 said. */
class BackendOptionsTest {
    private static Duration ttl(CacheMode mode, Duration timeout) {
        return BackendOptions.s3MetadataTtl(new CacheConfig(mode, timeout, 1000));
    }

    @Test
    void s3TrustsListingsAndHeadsAsLongAsTheKernelTrustsUs() {
        assertEquals(Duration.ofSeconds(1), ttl(CacheMode.AUTO, Duration.ofSeconds(1)), "the default");
        assertEquals(Duration.ofSeconds(30), ttl(CacheMode.AUTO, Duration.ofSeconds(30)), "--cache-timeout 30");
        assertEquals(Duration.ZERO, ttl(CacheMode.AUTO, Duration.ZERO), "--cache-timeout 0: ask S3 every time");
        assertEquals(Duration.ofDays(1), ttl(CacheMode.ALWAYS, Duration.ofSeconds(1)), "--cache always");
        assertEquals(Duration.ofSeconds(1), ttl(CacheMode.NONE, Duration.ofSeconds(30)),
                "--cache none: the kernel caches nothing, S3 answers still count for a second");
    }
}
