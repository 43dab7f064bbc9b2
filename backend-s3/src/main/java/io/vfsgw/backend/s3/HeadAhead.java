package io.vfsgw.backend.s3;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.vfsgw.spi.FileName;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/**
 * Metadata read-ahead in listed directories. A listing carries no user metadata, so {@code ls -l},
 * {@code cp -a} or {@code rsync} cost one HEAD per file (its attributes, and the xattr they ask
 * for), one round trip after another, in listing order. Once two files of one listing that follow
 * each other have been HEADed, the next {@link #WINDOW} files are HEADed in parallel, and the
 * window slides as they are used: a large directory then costs round trips / WINDOW. A single
 * {@code stat} triggers nothing, so a directory that is only listed costs no extra request.
 *
 * <p>Once two files that follow each other have also been opened ({@code diff -r}, {@code cp -r},
 * {@code grep -r}, a training job reading a dataset), the walk reads data: files of at most
 * {@link #SMALL_OBJECT} bytes are then fetched with a ranged GET instead of a HEAD (the same one
 * request, carrying the same metadata), and the open that follows reads from those bytes instead
 * of sending its own GET. A walk that only looks ({@code ls -l}, {@code find}) never fetches data.
 *
 * <p>Subdirectories are read ahead the same way, by their markers (which hold their attributes),
 * when a walk looks them up in listing order (READDIRPLUS). The window reaches only as far as
 * the walk gets within the metadata timeout, at its pace.
 */
final class HeadAhead {
    /** Files HEADed ahead of the one just used, at most. */
    static final int WINDOW = 32;
    /** HEADs started ahead and not finished, over all directories: a bound on requests in flight. */
    private static final int MAX_IN_FLIGHT = 64;
    /** The largest file a reading walk fetches whole ahead of its open. */
    static final int SMALL_OBJECT = 256 << 10;
    /** Bytes fetched ahead and not yet opened, over all directories. */
    private static final long MAX_BODY_BYTES = 32L << 20;
    /**
     * How long a directory's listing order and a walk's position in it are kept: longer than the
     * metadata timeout, because a walk (cat dir/*, diff -r with its subtrees in between) outlasts
     * the cached listing, and only the order of names matters here.
     */
    private static final long WALK_MEMORY_NS = TimeUnit.SECONDS.toNanos(60);
    /** Listed names kept for walks, over all directories. */
    private static final long MAX_ORDER_ENTRIES = 1_000_000;

    /** A file's bytes fetched ahead, as of its ETag. */
    private record Body(String etag, ByteBuffer bytes) {
    }

    /** A file a walk HEADed, and when (System.nanoTime()). */
    private record Step(FileName name, long atNs) {
    }

    /** A HEAD (or a GET standing for one) started ahead, and when (System.nanoTime()). */
    private record Ahead(CompletableFuture<HeadObjectResponse> head, long startedNs) {
    }

    private final S3AsyncClient s3;
    private final String bucket;
    /** key -> the HEAD started ahead for it; each is handed out once, and expires with the metadata TTL. */
    private final Cache<String, Ahead> started;
    /** directory path -> its last complete listing, for the order of its names. */
    private final Cache<String, NavigableMap<FileName, Listed>> orders;
    /** directory path -> the last file HEADed in it, to see a walk in listing order. */
    private final Cache<String, Step> lastHeaded;
    /** directory path -> the last subdirectory whose marker was HEADed in it. */
    private final Cache<String, Step> lastMarkerHeaded;
    /** directory path -> the last file opened in it, to see a walk that reads in listing order. */
    private final Cache<String, FileName> lastOpened;
    /** Directories being read in listing order: their small files are fetched whole ahead. */
    private final Cache<String, Boolean> readingWalks;
    /** key -> its bytes fetched ahead, until its open takes them. */
    private final Cache<String, Body> bodies;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    /** How long an answer read ahead is good for: the metadata timeout. */
    private final long ttlNs;
    /** With a metadata timeout of 0 (--cache-timeout 0) an answer read ahead is stale on arrival. */
    private final boolean enabled;

    HeadAhead(S3AsyncClient s3, String bucket, long ttlNs, Ticker ticker) {
        this.s3 = s3;
        this.bucket = bucket;
        this.ttlNs = ttlNs;
        this.enabled = ttlNs > 0;
        this.started = Caffeine.newBuilder().ticker(ticker).maximumSize(16 * 1024L)
                .expireAfterWrite(ttlNs, TimeUnit.NANOSECONDS).build();
        this.orders = Caffeine.newBuilder().ticker(ticker).maximumWeight(MAX_ORDER_ENTRIES)
                .weigher((String k, NavigableMap<FileName, Listed> l) -> l.size() + 1)
                .expireAfterAccess(WALK_MEMORY_NS, TimeUnit.NANOSECONDS).build();
        this.lastHeaded = Caffeine.newBuilder().ticker(ticker).maximumSize(1024)
                .expireAfterWrite(WALK_MEMORY_NS, TimeUnit.NANOSECONDS).build();
        this.lastMarkerHeaded = Caffeine.newBuilder().ticker(ticker).maximumSize(1024)
                .expireAfterWrite(WALK_MEMORY_NS, TimeUnit.NANOSECONDS).build();
        this.lastOpened = Caffeine.newBuilder().ticker(ticker).maximumSize(1024)
                .expireAfterWrite(WALK_MEMORY_NS, TimeUnit.NANOSECONDS).build();
        this.readingWalks = Caffeine.newBuilder().ticker(ticker).maximumSize(1024)
                .expireAfterWrite(WALK_MEMORY_NS, TimeUnit.NANOSECONDS).build();
        this.bodies = Caffeine.newBuilder().ticker(ticker).maximumWeight(MAX_BODY_BYTES)
                .weigher((String k, Body b) -> b.bytes.remaining() + 64)
                .expireAfterWrite(ttlNs, TimeUnit.NANOSECONDS).build();
    }

    /** A complete listing of {@code dirPath} (a live map: names we add or remove show in it). */
    void listed(String dirPath, NavigableMap<FileName, Listed> listing) {
        orders.put(dirPath, listing);
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

    /** The bytes fetched ahead for {@code key} if they are of {@code etag}, or null; taking them removes them. */
    ByteBuffer takeBody(String key, String etag) {
        Body b = bodies.asMap().remove(key);
        return b != null && etag != null && etag.equals(b.etag) ? b.bytes : null;
    }

    /** Drops what was read ahead for {@code key}: it changed through us since. */
    void forget(String key) {
        Ahead a = started.asMap().remove(key);
        if (a != null) {
            a.head.cancel(false);
        }
        bodies.invalidate(key);
    }

    /**
     * Notes that the file {@code name} of directory {@code dirPath} was just opened for reading;
     * when the file before it in the directory's listing was the previous one opened there, the
     * walk reads data and its small files are fetched ahead from now on ({@link #headed} also
     * sees it, when the file before the one HEADed was opened).
     */
    void opened(String dirPath, FileName name) {
        NavigableMap<FileName, Listed> listing = orders.getIfPresent(dirPath);
        FileName previous = lastOpened.asMap().put(dirPath, name);
        if (listing != null && previous != null && previous.equals(previousOfKind(listing, name, false))) {
            readingWalks.put(dirPath, Boolean.TRUE);
        }
    }

    /**
     * Notes that the file {@code name} of directory {@code dirPath} was just HEADed; when the file
     * before it in the directory's listing was the previous one HEADed there, starts HEADs for the
     * files after it that have none started yet.
     */
    void headed(String dirPath, FileName name, Function<FileName, String> keyOf) {
        NavigableMap<FileName, Listed> listing = orders.getIfPresent(dirPath);
        Step previous = step(lastHeaded, dirPath, listing, name, false);
        if (previous == null) {
            return;
        }
        // the file before this one was opened too: a walk that reads what it lists
        boolean reading = readingWalks.getIfPresent(dirPath) != null
                || previous.name.equals(lastOpened.getIfPresent(dirPath));
        if (reading) {
            readingWalks.put(dirPath, Boolean.TRUE);
        }
        startAhead(listing, name, previous, false, reading, keyOf);
    }

    /**
     * As {@link #headed}, for the subdirectories of a listing, whose attributes are in their
     * markers: READDIRPLUS looks every entry up in listing order, and each subdirectory cost a
     * HEAD of its marker, one after another. {@code markerKeyOf} names a subdirectory's marker.
     */
    void markerHeaded(String dirPath, FileName name, Function<FileName, String> markerKeyOf) {
        NavigableMap<FileName, Listed> listing = orders.getIfPresent(dirPath);
        Step previous = step(lastMarkerHeaded, dirPath, listing, name, true);
        if (previous != null) {
            startAhead(listing, name, previous, true, false, markerKeyOf);
        }
    }

    /**
     * Records that {@code name} (a subdirectory when {@code dirs}) was just HEADed in
     * {@code dirPath}; returns the previous such step when it was the entry of that kind just
     * before {@code name} in {@code listing} (a walk in listing order), else null.
     */
    private Step step(Cache<String, Step> last, String dirPath, NavigableMap<FileName, Listed> listing,
                      FileName name, boolean dirs) {
        Step previous = last.asMap().put(dirPath, new Step(name, System.nanoTime()));
        if (!enabled || listing == null || previous == null || !previous.name.equals(previousOfKind(listing, name, dirs))) {
            return null;
        }
        return previous;
    }

    /** Starts HEADs (GETs of small files for a reading walk) for the entries of that kind after {@code name}. */
    private void startAhead(NavigableMap<FileName, Listed> listing, FileName name, Step previous, boolean dirs,
                            boolean reading, Function<FileName, String> keyOf) {
        // No further ahead than the walk gets within the metadata timeout, at its last step's
        // pace: an answer it reaches later has expired unused, and the entry is HEADed again.
        long window = Math.max(1, Math.min(WINDOW, ttlNs / Math.max(1, System.nanoTime() - previous.atNs)));
        int ahead = 0;
        for (Map.Entry<FileName, Listed> e : listing.tailMap(name, false).entrySet()) {
            if (ahead == window) {
                return;
            }
            if (e.getValue().dir() != dirs) {
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
                long listedSize = e.getValue().size();
                head = reading && listedSize > 0 && listedSize <= SMALL_OBJECT
                        ? fetch(key) : s3.headObject(b -> b.bucket(bucket).key(key));
            } catch (RuntimeException ex) {
                inFlight.release();
                throw ex;
            }
            head.whenComplete((r, err) -> inFlight.release());
            started.put(key, new Ahead(head, startedNs));
        }
    }

    /**
     * GET of a small file's first {@link #SMALL_OBJECT} bytes: its metadata answers as a HEAD
     * would, and when that range held the whole file, its bytes wait for its open. A range, not a
     * plain GET, because the CRT client HEADs an object before a GET without one, and because the
     * file may have grown since it was listed.
     */
    private CompletableFuture<HeadObjectResponse> fetch(String key) {
        return s3.getObject(b -> b.bucket(bucket).key(key).range("bytes=0-" + (SMALL_OBJECT - 1)),
                AsyncResponseTransformer.toBytes()).thenApply(r -> {
                    GetObjectResponse g = r.response();
                    long size = totalSize(g);
                    if (size == r.asByteBuffer().remaining()) {
                        bodies.put(key, new Body(g.eTag(), r.asByteBuffer()));
                    }
                    return HeadObjectResponse.builder().contentLength(size).lastModified(g.lastModified())
                            .eTag(g.eTag()).metadata(g.metadata()).contentType(g.contentType()).build();
                });
    }

    /** The object's size: after the '/' of Content-Range ("bytes 0-99/1234"), or the body's length. */
    private static long totalSize(GetObjectResponse g) {
        String range = g.contentRange();
        if (range != null && range.lastIndexOf('/') >= 0 && !range.endsWith("/*")) {
            return Long.parseLong(range.substring(range.lastIndexOf('/') + 1).trim());
        }
        return g.contentLength();
    }

    private static FileName previousOfKind(NavigableMap<FileName, Listed> listing, FileName name, boolean dirs) {
        for (Map.Entry<FileName, Listed> e : listing.headMap(name, false).descendingMap().entrySet()) {
            if (e.getValue().dir() == dirs) {
                return e.getKey();
            }
        }
        return null;
    }
}
