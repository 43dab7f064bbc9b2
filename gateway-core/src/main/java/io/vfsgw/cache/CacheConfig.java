package io.vfsgw.cache;

import java.time.Duration;

/**
 * Metadata cache settings.
 *
 * @param mode        none | auto | always
 * @param autoTimeout the timeout of mode auto (default 1 s)
 * @param maxEntries  bound on cached attributes and negative entries (each)
 */
public record CacheConfig(CacheMode mode, Duration autoTimeout, long maxEntries) {
    public static CacheConfig defaults() {
        return new CacheConfig(CacheMode.AUTO, Duration.ofSeconds(1), 100_000);
    }

    public Duration timeout() {
        return mode.timeout(autoTimeout);
    }
}
