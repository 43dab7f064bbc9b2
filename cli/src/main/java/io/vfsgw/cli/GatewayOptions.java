package io.vfsgw.cli;

import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.CacheMode;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Options of the engine shared by every command: cache mode, threads, logging. */
public final class GatewayOptions {
    private static final String CRT_RESPONSE_ADAPTER =
            "software.amazon.awssdk.services.s3.internal.crt.S3CrtResponseHandlerAdapter";

    @Option(names = "--cache", paramLabel = "none|auto|always", defaultValue = "auto",
            description = "Caching: none = no guest caching (direct I/O), auto = metadata trusted for"
                    + " --cache-timeout and data kept while unchanged, always = trust until vfsgw changes it"
                    + " (default: ${DEFAULT-VALUE}).")
    String cache;

    @Option(names = "--cache-timeout", paramLabel = "SECONDS", defaultValue = "1",
            description = "Metadata timeout of --cache auto, in seconds, fractions allowed (default: ${DEFAULT-VALUE}).")
    double cacheTimeout;

    @Option(names = "--cache-entries", paramLabel = "N", defaultValue = "100000",
            description = "Bound of the metadata cache, entries (default: ${DEFAULT-VALUE}).")
    long cacheEntries;

    @Option(names = {"--writeback-cache", "--writeback"},
            description = "Let the kernel cache writes and send them in the background (faster writes). Only"
                    + " when nothing else changes the files: the mem backend, or a source only this gateway writes.")
    boolean writebackCache;

    @Option(names = {"--threads", "--thread-pool-size"}, paramLabel = "N", defaultValue = "4",
            description = "Threads serving requests: per /dev/fuse mount, or per virtqueue for serve; 0, as virtiofsd"
                    + " takes it, is 1 (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info",
            description = "error, warn, info, debug or trace (default: ${DEFAULT-VALUE}).")
    String logLevel;

    // Set only through virtiofsd's -o no_posix_lock / no_flock (VirtiofsdOptions): off, the guest
    // kernel keeps those locks to itself, unseen by other guests and host mounts.
    boolean posixLocks = true;
    boolean flockLocks = true;

    CacheConfig cacheConfig() {
        CacheMode mode;
        try {
            mode = CacheMode.parse(cache);
        } catch (IllegalArgumentException e) {
            throw new SetupException(e.getMessage());
        }
        if (cacheTimeout < 0 || cacheTimeout > 86_400) {
            throw new SetupException("--cache-timeout must be between 0 and 86400 seconds, not " + cacheTimeout);
        }
        if (cacheEntries < 1) {
            throw new SetupException("--cache-entries must be at least 1");
        }
        return new CacheConfig(mode, Duration.ofNanos((long) (cacheTimeout * 1e9)), cacheEntries);
    }

    int threads() {
        if (threads == 0) {
            return 1;   // virtiofsd's --thread-pool-size=0 (no pool, libvirt may pass it): one at a time
        }
        if (threads < 1 || threads > 64) {
            throw new SetupException("--threads must be between 1 and 64, not " + threads);
        }
        return threads;
    }

    /** Configures slf4j-simple; must run before the first logger is created. */
    void applyLogLevel() {
        String level = logLevel.toLowerCase(java.util.Locale.ROOT);
        if (!level.matches("error|warn|info|debug|trace")) {
            throw new SetupException("--log-level must be error, warn, info, debug or trace, not '" + logLevel + "'");
        }
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
        if (!level.matches("debug|trace")) {
            // The CRT client warns, with a stack, each time a GET is cancelled (a dropped read-ahead,
            // routine under random reads) that the cancelled body "threw in responsePublisher#error".
            System.setProperty("org.slf4j.simpleLogger.log." + CRT_RESPONSE_ADAPTER, "error");
        }
    }
}
