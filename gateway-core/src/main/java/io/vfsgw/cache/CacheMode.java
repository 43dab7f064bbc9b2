package io.vfsgw.cache;

import java.time.Duration;

/**
 * How long the guest (and our metadata cache) may trust what it has seen, following virtiofsd's
 * cache modes.
 */
public enum CacheMode {
    /** No caching: zero timeouts, direct I/O (every read and write reaches the backend). */
    NONE,
    /** Metadata trusted for the timeout (default 1 s); file data kept across opens while unchanged. */
    AUTO,
    /** Metadata and data trusted until vfsgw itself changes them: for backends only vfsgw writes to. */
    ALWAYS;

    /** ALWAYS still expires after a day so an out-of-band change is eventually seen. */
    static final Duration ALWAYS_TIMEOUT = Duration.ofDays(1);

    /** The entry/attr timeout given to the kernel and used by the metadata cache. */
    public Duration timeout(Duration autoTimeout) {
        return switch (this) {
            case NONE -> Duration.ZERO;
            case AUTO -> autoTimeout;
            case ALWAYS -> ALWAYS_TIMEOUT;
        };
    }

    public static CacheMode parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "none", "never" -> NONE;
            case "auto" -> AUTO;
            case "always" -> ALWAYS;
            default -> throw new IllegalArgumentException(
                    "unknown cache mode '" + s + "': use none, auto or always");
        };
    }
}
