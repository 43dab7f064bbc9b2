package io.vfsgw.backend.s3;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.vfsgw.spi.FileName;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/**
 * Metadata read-ahead in listed directories. A listing carries no user metadata, so {@code ls -l},
 * {@code cp -a} or {@code rsync} cost one HEAD per file (its attributes, and the xattr they ask
 * for), one round trip after another, in listing order. Once two files of one listing that follow
 * each other have been HEADed, the next {@link #WINDOW} files are HEADed in parallel, and the
 * window slides as they are used: a large directory then costs round trips / WINDOW. A single
 * {@code stat} triggers nothing, so a directory that is only listed costs no extra request.
 */
final class HeadAhead {
    /** Files HEADed ahead of the one just used. */
    static final int WINDOW = 32;
    /** HEADs started ahead and not finished, over all directories: a bound on requests in flight. */
    private static final int MAX_IN_FLIGHT = 64;

    private final S3AsyncClient s3;
    private final String bucket;
    /** A HEAD started ahead, and when (System.nanoTime()). */
    private record Ahead(CompletableFuture<HeadObjectResponse> head, long startedNs) {
    }

    /** key -> the HEAD started ahead for it; each is handed out once, and expires with the metadata TTL. */
    private final Cache<String, Ahead> started;
    /** directory path -> the last file HEADed in it, to see a walk in listing order. */
    private final Cache<String, FileName> lastHeaded;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);

    HeadAhead(S3AsyncClient s3, String bucket, long ttlNs, Ticker ticker) {
        this.s3 = s3;
        this.bucket = bucket;
        this.started = Caffeine.newBuilder().ticker(ticker).maximumSize(16 * 1024L)
                .expireAfterWrite(ttlNs, TimeUnit.NANOSECONDS).build();
        this.lastHeaded = Caffeine.newBuilder().ticker(ticker).maximumSize(1024)
                .expireAfterWrite(ttlNs, TimeUnit.NANOSECONDS).build();
    }

    /** The HEAD started ahead for {@code key}, or null; taking it removes it. */
    CompletableFuture<HeadObjectResponse> take(String key) {
        Ahead a = started.asMap().remove(key);
        return a == null ? null : a.head;
    }

    /**
     * As {@link #take}, but only a HEAD started at or after {@code sinceNs} (System.nanoTime():
     * when the caller last learned the object); an older one is dropped.
     */
    CompletableFuture<HeadObjectResponse> takeStartedSince(String key, long sinceNs) {
        Ahead a = started.asMap().remove(key);
        return a != null && a.startedNs - sinceNs >= 0 ? a.head : null;
    }

    /** Drops what was read ahead for {@code key}: it changed through us since. */
    void forget(String key) {
        Ahead a = started.asMap().remove(key);
        if (a != null) {
            a.head.cancel(false);
        }
    }

    /**
     * Notes that the file {@code name} of directory {@code dirPath} was just HEADed; when the file
     * before it in {@code listing} was the previous one HEADed there, starts HEADs for the files
     * after it that have none started yet.
     */
    void headed(String dirPath, FileName name, NavigableMap<FileName, Listed> listing,
                Function<FileName, String> keyOf) {
        FileName previous = lastHeaded.asMap().put(dirPath, name);
        if (previous == null || !previous.equals(previousFile(listing, name))) {
            return;
        }
        int ahead = 0;
        for (Map.Entry<FileName, Listed> e : listing.tailMap(name, false).entrySet()) {
            if (ahead == WINDOW) {
                return;
            }
            if (e.getValue().dir()) {
                continue;
            }
            ahead++;
            String key = keyOf.apply(e.getKey());
            if (started.getIfPresent(key) != null) {
                continue;
            }
            if (!inFlight.tryAcquire()) {
                return;   // the store is busy enough: the rest are HEADed when they are asked for
            }
            long startedNs = System.nanoTime();
            CompletableFuture<HeadObjectResponse> head;
            try {
                head = s3.headObject(b -> b.bucket(bucket).key(key));
            } catch (RuntimeException ex) {
                inFlight.release();
                throw ex;
            }
            head.whenComplete((r, err) -> inFlight.release());
            started.put(key, new Ahead(head, startedNs));
        }
    }

    private static FileName previousFile(NavigableMap<FileName, Listed> listing, FileName name) {
        for (Map.Entry<FileName, Listed> e : listing.headMap(name, false).descendingMap().entrySet()) {
            if (!e.getValue().dir()) {
                return e.getKey();
            }
        }
        return null;
    }
}
