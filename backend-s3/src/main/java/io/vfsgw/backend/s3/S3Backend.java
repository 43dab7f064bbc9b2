package io.vfsgw.backend.s3;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.vfsgw.locks.LockTable;
import io.vfsgw.locks.LockWaits;
import io.vfsgw.spi.Attr;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.DirSink;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.Lock;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.OpenResult;
import io.vfsgw.spi.ReadSink;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import io.vfsgw.spi.StatFs;
import io.vfsgw.spi.StorageBackend;
import io.vfsgw.spi.WriteSource;
import io.vfsgw.spi.XattrNames;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A bucket (under a prefix) as a filesystem: key = prefix + path; a directory is a common prefix
 * with an optional {@code dir/} marker object; attributes in s3fs-fuse's user metadata.
 *
 * <p>Where requests go (docs/s3.md has the full table): lookups are answered from a listing of
 * the parent taken within metadataTtl, then from a short negative cache, and only then from S3
 * (HEAD key and LIST key/ in parallel). Reads are ranged GETs with sequential read-ahead
 * ({@link ObjectReader}); writes go to a staging file and stream or upload from there
 * ({@link FileWriter}). Metadata changes rewrite the object onto itself (CopyObject REPLACE).
 *
 * <p>Concurrency: the node and handle tables are concurrent maps; per-node state is guarded by
 * the node's monitor and never held across another node's. Namespace mutations (create, unlink,
 * rename) are not atomic against other S3 clients: S3 has no transactions (docs/s3.md).
 */
public final class S3Backend implements StorageBackend {
    private static final Logger LOG = LoggerFactory.getLogger(S3Backend.class);
    private static final int BLKSIZE = 128 << 10;
    private static final int PATH_MAX = 4095;
    /** S3's longest key, in UTF-8 bytes. */
    private static final int MAX_KEY_BYTES = 1024;

    private final S3AsyncClient s3;
    private final S3Options o;
    private final boolean ownsClient;
    private final Path stagingDir;
    /** Object bytes on disk, shared by all handles; null when cacheSize is 0. */
    private final ChunkCache chunks;
    private final String runId = Long.toString(System.currentTimeMillis(), 36);
    private final long ttlNs;

    private final ConcurrentHashMap<Long, S3Node> nodes = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, S3Node> byPath = new ConcurrentHashMap<>();
    /**
     * Makes a change of names one step when guests of this gateway change the same names at once,
     * as the kernel's directory lock does for one guest. S3 has no create-if-absent: two creates of
     * one name (or a create and a rename onto it) would both find it free and leave a file and a
     * directory of that name in the bucket, and a create in a directory being removed would leave a
     * key under a directory that is gone. A create or an unlink holds the locks of its directory
     * and its name, a rename those of both names and the target directory, an rmdir that of the
     * directory. Striped by path; see {@link #underNames}.
     */
    private final ReentrantLock[] nameLocks = Stream.generate(ReentrantLock::new).limit(256)
            .toArray(ReentrantLock[]::new);
    /**
     * Directories whose keys a rename is copying, each with the end of its rename: a change of a
     * name anywhere below one waits for it and then acts at the name's new path (a create there
     * meanwhile would leave its key under the old path, an unlink would miss the copy), and an
     * upload below one is held back until the rename is done ({@link #commit}).
     */
    private final ConcurrentHashMap<String, CompletableFuture<Void>> movingDirs = new ConcurrentHashMap<>();
    /** Files created here and not yet uploaded (S3Node.localOnly), found without scanning every node. */
    private final Set<S3Node> localOnlyNodes = ConcurrentHashMap.newKeySet();
    private final AtomicLong nextId = new AtomicLong(ROOT_ID + 1);
    private final AtomicLong nextFh = new AtomicLong(1);
    private final ConcurrentHashMap<Long, Handle> handles = new ConcurrentHashMap<>();
    private final LockWaits lockWaits = new LockWaits();
    /** Inode numbers handed out by readdir for names not looked up yet, so lookup agrees with them. */
    private final Cache<String, Long> reservedIds;
    /** Recent listings by directory path: authoritative for presence and absence until they expire. */
    private final Cache<String, ConcurrentSkipListMap<FileName, Listed>> listings;
    /**
     * How many entries each directory had when last listed (or 0 when we created it), kept well past
     * the listing itself: a directory that fit one LIST page is listed again, whole, to answer a
     * lookup of a name it lacks (see {@link #find}).
     */
    private final Cache<String, Integer> listedSizes;
    /**
     * Listings of directories that have an open handle. The session looks up every READDIRPLUS
     * entry while the directory is open, so the snapshot answers those lookups even when reading
     * a huge directory takes longer than metadataTtl; but never for more than
     * {@link #OPEN_LISTING_MAX_NS}, so a directory held open for hours still sees names other
     * clients add. On releasedir it goes back to the TTL-bound cache.
     */
    private final ConcurrentHashMap<String, OpenListing> openListings = new ConcurrentHashMap<>();
    private static final long OPEN_LISTING_MAX_NS = TimeUnit.SECONDS.toNanos(60);

    private static final class OpenListing {
        final ConcurrentSkipListMap<FileName, Listed> entries;
        final long takenNs = System.nanoTime();
        int handles;
        /** The directory was renamed or removed: the snapshot no longer describes its path. */
        volatile boolean stale;

        /** {@code stale} from the start for a listing a name change overtook (see {@link #changedAt}). */
        OpenListing(ConcurrentSkipListMap<FileName, Listed> entries, boolean stale) {
            this.entries = entries;
            this.stale = stale;
        }
    }

    private final HeadAhead headAhead;
    /** This process's hold on options.cacheDir(): no other gateway may use it meanwhile. */
    private final CacheDirLock cacheDirLock;
    /** Paths recently found absent (the kernel's LOOKUP before a CREATE), so create needs no HEAD. */
    private final Cache<String, Boolean> negative;
    /**
     * When names last changed here (a number from {@link #nameChanges}), by a name's key and by its
     * directory's prefix. A LIST or a miss that such a change overtook (it landed while the request
     * was on its way) is used once but not cached: another guest's create would otherwise stay
     * unseen for a metadata timeout, and a create of the same name in that time would find it
     * free. Kept a minute, longer than any request takes.
     */
    private final Cache<String, Long> changedAt;
    private final AtomicLong nameChanges = new AtomicLong();
    /**
     * Held while a name change updates the caches ({@link #added}, {@link #removed}) and while a
     * LIST or a miss is checked against {@link #changedAt} and cached: checked and cached apart,
     * a change landing between the two was neither seen by the check nor applied to what was cached.
     */
    private final Object nameCacheLock = new Object();
    private final Set<String> warnedKeys = ConcurrentHashMap.newKeySet();

    /** An open file or directory. */
    private static final class Handle {
        final S3Node node;
        final int flags;
        ObjectReader reader;
        /** The file's bytes fetched ahead of this open (HeadAhead), as of bodyEtag; or null. */
        ByteBuffer body;
        String bodyEtag;
        List<DirEntry> snapshot;
        String dirPath;

        Handle(S3Node node, int flags) {
            this.node = node;
            this.flags = flags;
        }

        /** OPENDIR's handle (RELEASEDIR ends it), as opposed to OPEN's and CREATE's (RELEASE). */
        boolean isDirectory() {
            return node.type == FileType.DIRECTORY;
        }
    }

    /** What a lookup found in S3 or in a listing, before it is bound to a node. */
    private record Found(FileType type, long size, long mtimeNs, String etag, S3Metadata meta, boolean fromListing) {
    }

    /** Uses {@code s3} as given (the caller closes it); no bucket check. For tests and the module. */
    public S3Backend(S3Options options, S3AsyncClient s3) {
        this(options, s3, false, Ticker.systemTicker());
    }

    S3Backend(S3Options options, S3AsyncClient s3, boolean ownsClient, Ticker ticker) {
        this.o = options;
        this.s3 = s3;
        this.ownsClient = ownsClient;
        this.ttlNs = options.metadataTtl().toNanos();
        this.stagingDir = options.cacheDir().resolve("staging");
        try {
            this.cacheDirLock = CacheDirLock.acquire(options.cacheDir());
        } catch (IOException e) {
            throw new IllegalStateException("cannot use the S3 cache directory " + options.cacheDir() + ": " + e);
        }
        try {
            Files.createDirectories(stagingDir);
            int left = StagingRecovery.scan(options.cacheDir()).size();
            if (left > 0) {
                // Never deleted for the user: they hold data a previous run acknowledged but could not upload.
                LOG.warn("{}", StagingRecovery.warning(options.cacheDir(), left));
            }
        } catch (IOException e) {
            cacheDirLock.close();
            throw new IllegalStateException("cannot create S3 staging directory " + stagingDir + ": " + e);
        }
        try {
            this.chunks = options.cacheSize() == 0 ? null
                    : new ChunkCache(options.cacheDir().resolve("chunks"), options.cacheSize(), options.chunkSize());
        } catch (IOException e) {
            cacheDirLock.close();
            throw new IllegalStateException("cannot prepare the S3 chunk cache in " + options.cacheDir() + ": " + e);
        }
        this.reservedIds = Caffeine.newBuilder().maximumSize(1_000_000).build();
        this.headAhead = new HeadAhead(s3, options.bucket(), ttlNs, ticker);
        this.listings = Caffeine.newBuilder().ticker(ticker).maximumSize(10_000)
                .expireAfterWrite(ttlNs, TimeUnit.NANOSECONDS).build();
        this.changedAt = Caffeine.newBuilder().ticker(ticker)
                .expireAfterWrite(Math.max(ttlNs, TimeUnit.MINUTES.toNanos(1)), TimeUnit.NANOSECONDS).build();
        this.negative = Caffeine.newBuilder().ticker(ticker).maximumSize(100_000)
                .expireAfterWrite(ttlNs, TimeUnit.NANOSECONDS).build();
        this.listedSizes = Caffeine.newBuilder().ticker(ticker).maximumSize(10_000)
                .expireAfterAccess(10, TimeUnit.MINUTES).build();
        S3Node root = new S3Node(ROOT_ID, "", FileType.DIRECTORY);
        root.attr = dirAttr(ROOT_ID, S3Metadata.NONE, nowNs());
        root.attrExpiresNs = Long.MAX_VALUE;
        nodes.put(ROOT_ID, root);
        byPath.put("", root);
    }

    /**
     * Builds the client from the options, checks the bucket and returns a backend that owns the
     * client. A missing or unreachable bucket fails here with one line saying what to do.
     */
    public static S3Backend open(S3Options options) {
        S3AsyncClient client = S3Clients.build(options);
        try {
            checkBucket(client, options);
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
        return new S3Backend(options, client, true, Ticker.systemTicker());
    }

    /** HEAD bucket; throws IllegalStateException with one actionable line. */
    public static void checkBucket(S3AsyncClient client, S3Options o) {
        String where = o.endpoint() == null ? "region " + o.region() : o.endpoint().toString();
        try {
            client.headBucket(b -> b.bucket(o.bucket())).join();
        } catch (RuntimeException e) {
            String cause = String.valueOf(S3Errors.unwrap(e).getMessage());
            if (cause.startsWith("Unable to load credentials")) {
                // The SDK's own message lists every provider it tried: a screenful that hides the fix.
                throw new IllegalStateException("no S3 credentials found: set AWS_ACCESS_KEY_ID and"
                        + " AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials, or run with an instance"
                        + " or container role");
            }
            String what = switch (S3Errors.toErrno(e)) {
                case ENOENT -> missingBucketOrNotS3(client, o, where);
                case EACCES -> o.anonymous()
                        ? "refuses unsigned requests (not a public bucket): drop --no-sign-request and give credentials"
                        : "is not accessible with these credentials: check AWS_PROFILE / access keys";
                default -> "cannot be reached (" + cause + "): check --s3-endpoint, "
                        + "--s3-region and the network";
            };
            throw new IllegalStateException("S3 bucket '" + o.bucket() + "' at " + where + " " + what);
        }
    }

    /**
     * A HEAD answer has no body, so its 404 cannot say whether the bucket is missing or the
     * endpoint is not S3 at all (a web server, a wrong port behind a proxy). A listing's 404
     * carries S3's error code: only NoSuchBucket means "create it".
     */
    private static String missingBucketOrNotS3(S3AsyncClient client, S3Options o, String where) {
        try {
            client.listObjectsV2(b -> b.bucket(o.bucket()).maxKeys(1)).join();
            return "answered 404 to HEAD but lists: check --s3-endpoint and --s3-path-style";
        } catch (RuntimeException e) {
            if ("NoSuchBucket".equals(S3Errors.errorCode(e))) {
                return "does not exist: create it first (aws s3 mb s3://" + o.bucket() + ") or fix --s3-bucket";
            }
            String answer = S3Errors.unwrap(e) instanceof AwsServiceException s
                    ? "HTTP " + s.statusCode() + " with no S3 error code" : S3Errors.unwrap(e).getMessage();
            return "was not found, and a listing there got " + answer
                    + ": is --s3-endpoint an S3 server? (without --s3-path-style the bucket is part of the host name)";
        }
    }

    @Override
    public String name() {
        return "s3";
    }

    // ---------------------------------------------------------------- paths

    private static String child(String dir, FileName name) {
        return dir.isEmpty() ? name.toString() : dir + "/" + name;
    }

    /**
     * The path of an existing name. S3 keys are UTF-8, so a name that is not (Linux allows any
     * bytes) names no object: ENOENT, rather than the object of the name with its bad bytes
     * replaced, which is another name.
     */
    private static String existingChild(String dir, FileName name) throws FsException {
        if (!name.isUtf8()) {
            throw FsException.of(Errno.ENOENT, "not UTF-8, so no S3 key");
        }
        return child(dir, name);
    }

    private static String parentOf(String path) {
        int i = path.lastIndexOf('/');
        return i < 0 ? "" : path.substring(0, i);
    }

    /** The last component of a path we built from names. */
    private static FileName leafOf(String path) {
        return FileName.literal(path.substring(path.lastIndexOf('/') + 1));
    }

    private String fileKey(String path) {
        return o.prefix() + path;
    }

    /** The listing prefix of a directory, which is also its marker object's key. */
    private String dirPrefix(String path) {
        return path.isEmpty() ? o.prefix() : o.prefix() + path + "/";
    }

    private static long nowNs() {
        Instant n = Instant.now();
        return n.getEpochSecond() * 1_000_000_000L + n.getNano();
    }

    // ---------------------------------------------------------------- nodes

    private S3Node node(long id) throws FsException {
        S3Node n = nodes.get(id);
        if (n == null) {
            throw FsException.of(Errno.ESTALE, "unknown node " + id);
        }
        return n;
    }

    private S3Node dirNode(long id) throws FsException {
        S3Node n = node(id);
        if (n.type != FileType.DIRECTORY) {
            throw FsException.of(Errno.ENOTDIR);
        }
        return n;
    }

    /**
     * A directory to look up, create, remove or rename names in: not one that was removed. Its
     * path may name another directory by now (made again under the same name), or nothing, and a
     * create there would bring the removed one back in the bucket; Linux answers ENOENT.
     */
    private S3Node parentDir(long id) throws FsException {
        S3Node n = dirNode(id);
        requireLive(n);
        return n;
    }

    /** ENOENT for a directory removed meanwhile (it takes no new names). */
    private static void requireLive(S3Node dir) throws FsException {
        synchronized (dir) {
            if (dir.unlinked) {
                throw FsException.of(Errno.ENOENT, "directory removed");
            }
        }
    }

    /** The inode number a path has or will have (readdir and lookup agree). */
    private long idFor(String path) {
        S3Node n = byPath.get(path);
        if (n != null) {
            return n.id;
        }
        return reservedIds.get(path, p -> nextId.getAndIncrement());
    }

    /** The node for {@code path} of {@code type}, created if needed; takes no lookup reference. */
    private S3Node bind(String path, FileType type) {
        S3Node[] displaced = new S3Node[1];
        S3Node bound = byPath.compute(path, (p, old) -> {
            if (old != null && old.type == type) {
                return old;
            }
            displaced[0] = old;
            Long reserved = reservedIds.getIfPresent(p);
            reservedIds.invalidate(p);
            long id = reserved != null && (old == null || old.id != reserved) ? reserved : nextId.getAndIncrement();
            S3Node n = new S3Node(id, p, type);
            nodes.put(id, n);
            return n;
        });
        if (displaced[0] != null) {
            // The path is another object's now (another client replaced it with one of another type):
            // the old node is as if unlinked, so its staged data and metadata never land on the new one.
            synchronized (displaced[0]) {
                displaced[0].unlinked = true;
            }
        }
        return bound;
    }

    private void dropIfUnused(S3Node n) {
        synchronized (n) {
            if (n.pinned()) {
                return;
            }
            // A writer left here is clean (pinned() says so): kept, its staging file would outlive
            // the node, and the next start would offer it to `s3 recover` as unsaved data.
            settle(n);
            nodes.remove(n.id, n);
            byPath.remove(n.path, n);
            localOnlyNodes.remove(n);
        }
    }

    /**
     * Marks a file as created here and not yet in S3 (or no longer so). Such files are few, and
     * listings and rmdir look for them in {@link #localOnlyNodes}: scanning every node per listing
     * cost a fifth of the gateway's CPU in a diff -r of 1,000 directories.
     */
    private void localOnly(S3Node n, boolean local) {
        n.localOnly = local;
        if (local) {
            localOnlyNodes.add(n);
        } else {
            localOnlyNodes.remove(n);
        }
    }

    private Entry entry(S3Node n) {
        n.lookups.incrementAndGet();
        synchronized (n) {
            return new Entry(n.id, 0, n.attr, metadataUnread(n));
        }
    }

    /**
     * A file known only from a listing: its attributes are defaults (0644, the default owner) until
     * a HEAD reads its metadata, so they are handed out as provisional. Caller holds the monitor.
     */
    private boolean metadataUnread(S3Node n) {
        return !o.trustListedAttrs() && typeFromListing(n);
    }

    /**
     * A file whose type only a listing gave: its metadata, which holds the type of a symlink, FIFO
     * or socket, was never read. Caller holds the monitor.
     */
    private static boolean typeFromListing(S3Node n) {
        return n.type != FileType.DIRECTORY && n.otherMeta == null && !n.localOnly && n.writer == null;
    }

    // ---------------------------------------------------------------- attributes

    private Attr dirAttr(long id, S3Metadata m, long mtimeNs) {
        int perm = m.mode() != null ? m.mode() & 07777 : 0755;
        long mt = m.mtimeNs() != null ? m.mtimeNs() : mtimeNs;
        return new Attr(id, 0, 0, orElse(m.atimeNs(), mt), mt, orElse(m.ctimeNs(), mt),
                FileType.DIRECTORY.modeBits() | perm, 2, orElse(m.uid(), o.defaultUid()),
                orElse(m.gid(), o.defaultGid()), 0, BLKSIZE);
    }

    private Attr fileAttr(long id, FileType type, long size, long lastModifiedNs, S3Metadata m) {
        int perm = m.mode() != null ? m.mode() & 07777 : (type == FileType.SYMLINK ? 0777 : 0644);
        long mt = m.mtimeNs() != null ? m.mtimeNs() : lastModifiedNs;
        return new Attr(id, size, (size + 511) / 512, orElse(m.atimeNs(), mt), mt, orElse(m.ctimeNs(), mt),
                type.modeBits() | perm, 1, orElse(m.uid(), o.defaultUid()), orElse(m.gid(), o.defaultGid()),
                0, BLKSIZE);
    }

    private static int orElse(Integer v, int d) {
        return v != null ? v : d;
    }

    private static long orElse(Long v, long d) {
        return v != null ? v : d;
    }

    /** Applies what a lookup found to the node bound for it. */
    private void learn(S3Node n, Found f) {
        synchronized (n) {
            if (n.writer != null || n.localOnly) {
                return;   // our staged state is newer than anything S3 or a listing can say
            }
            if (f.fromListing && n.attr != null
                    && (f.type == FileType.DIRECTORY || java.util.Objects.equals(f.etag, n.etag))) {
                return;   // a listing knows no metadata: keep the real mode/owner we already have
            }
            n.attr = f.type == FileType.DIRECTORY
                    ? dirAttr(n.id, f.meta, f.mtimeNs)
                    : fileAttr(n.id, f.type, f.size, f.mtimeNs, f.meta);
            if (!java.util.Objects.equals(f.etag, n.etag)) {
                n.linkTarget = null;
            }
            n.etag = f.etag;
            if (!f.fromListing) {
                n.otherMeta = f.meta.others();
            }
            n.attrExpiresNs = System.nanoTime() + ttlNs;
        }
    }

    /** Metadata of a new object: our attributes only. */
    private static Map<String, String> metaOf(Attr a) {
        return metaOf(Map.of(), a);
    }

    /** Metadata to rewrite a node's object with: its attributes over the other metadata it carried. */
    private static Map<String, String> metaOf(S3Node n, Attr a) {
        return metaOf(n.otherMeta == null ? Map.of() : n.otherMeta, a);
    }

    private static Map<String, String> metaOf(Map<String, String> others, Attr a) {
        return S3Metadata.encode(others, a.mode(), a.uid(), a.gid(), a.mtimeNs(), a.atimeNs(), a.ctimeNs());
    }

    /**
     * Before an existing object is rewritten (chmod, utimens, an upload of changed data): a node
     * known only from a listing has not seen the object's metadata yet, which the rewrite must keep.
     * Caller holds the node's monitor.
     */
    private void learnMetadata(S3Node n) throws FsException {
        if (n.otherMeta != null || n.localOnly) {
            return;
        }
        if (n.type != FileType.DIRECTORY) {
            refresh(n);
        } else if (!dirPrefix(n.path).isEmpty()) {
            n.otherMeta = markerMeta(dirPrefix(n.path)).others();   // no marker (implicit): none
        }
    }

    // ---------------------------------------------------------------- lookup

    @Override
    public Entry lookup(RequestContext ctx, long parent, FileName name) throws FsException {
        S3Node dir = parentDir(parent);
        if (name.isDotOrDotDot() && (name.length() == 1 || dir.id == ROOT_ID)) {
            return entry(dir);
        }
        // '..' is looked up as its own name would be: its marker holds its mode, owner and times
        String path = name.isDotOrDotDot() ? parentOf(dir.path) : existingChild(dir.path, name);
        S3Node existing = byPath.get(path);
        Found f = null;
        if (existing != null) {
            synchronized (existing) {
                if (knownNow(existing)) {
                    return entryLocked(existing);   // ours, or learned within the metadata timeout
                }
            }
            f = revalidate(existing, path);
        }
        if (f == null) {
            f = find(path);
        }
        S3Node n = bind(path, f.type);
        learn(n, f);
        return entry(n);
    }

    /**
     * Whether what we hold of a node is what S3 has now, without asking: ours and not yet uploaded,
     * being written, or learned within the metadata timeout. Holds the monitor.
     */
    private static boolean knownNow(S3Node n) {
        return n.localOnly || (n.writer != null && n.writer.dirty())
                || (n.attr != null && System.nanoTime() < n.attrExpiresNs);
    }

    private Entry entryLocked(S3Node n) {
        n.lookups.incrementAndGet();
        return new Entry(n.id, 0, currentAttr(n), metadataUnread(n));
    }

    /**
     * A file we already know, its attrs expired and no fresh listing of its directory at hand: one
     * HEAD tells whether it is still there and what it is now, where a full lookup costs a LIST
     * and a HEAD. Null when that is not enough (a directory, or the object is gone: the full
     * lookup decides, and finds a directory that replaced the file). A directory created under the
     * same name beside a file we know keeps showing as the file; such a bucket shows one of the two
     * anyway (docs/s3.md).
     */
    private Found revalidate(S3Node known, String path) throws FsException {
        if (known.type == FileType.DIRECTORY || cachedListing(parentOf(path)) != null) {
            return null;
        }
        try {
            return headFile(path);
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT) {
                return null;
            }
            throw e;
        }
    }

    /**
     * Finds what {@code path} is: recent listing, negative cache, then S3. Throws ENOENT.
     *
     * <p>A directory that fit one LIST page when last listed is listed again, whole, once its
     * listing has expired: one request, as for a LIST of the name alone, but it answers the lookups
     * that follow for a metadata timeout too. tar, cp -r, rsync and git checkout look up every name
     * before creating it; that was one LIST per file, now one per directory per timeout.
     */
    private Found find(String path) throws FsException {
        String parent = parentOf(path);
        ConcurrentSkipListMap<FileName, Listed> listing = cachedListing(parent);
        if (listing != null) {
            return fromListing(path, listing);
        }
        if (negative.getIfPresent(path) != null) {
            throw FsException.of(Errno.ENOENT);
        }
        Integer entries = listedSizes.getIfPresent(parent);
        if (entries != null && entries < o.listPageSize()) {
            return fromListing(path, list(parent).entries());
        }
        return findInS3(path);
    }

    /** What a directory's listing says {@code path} is (a directory's own attributes need its marker). */
    private Found fromListing(String path, ConcurrentSkipListMap<FileName, Listed> listing) throws FsException {
        Listed l = listing.get(leafOf(path));
        if (l == null) {
            throw FsException.of(Errno.ENOENT);
        }
        if (l.dir()) {
            // A listing names the directory, but its mode, owner and times are in its marker:
            // without them a 0700 directory would show (and be checked by the kernel) as 0755.
            return listedDirFound(path);
        }
        if (o.listingLookups()) {
            S3Node known = byPath.get(path);
            FileType t = known != null ? known.type : FileType.REGULAR;
            return new Found(t, l.size(), l.mtimeNs(), l.etag(), S3Metadata.NONE, true);
        }
        return headFile(path);   // the listing says it is an object: no need to LIST key/
    }

    /**
     * One LIST with prefix {@code key} (no slash) and delimiter '/' tells absent, file and directory
     * apart: the exact key among the contents is a file, {@code key/} among the common prefixes a
     * directory (it wins over a file of the same name). So a miss, the kernel's LOOKUP before
     * every create, costs one request; a file then costs one HEAD for its metadata, a directory one
     * HEAD of its marker (404 when implicit). Keys sort so that only names extending {@code key}
     * with a byte below '/' come between the two; a truncated page therefore falls back to
     * {@link #findInS3Parallel}.
     */
    private Found findInS3(String path) throws FsException {
        long asked = nameChanges.get();
        String key = fileKey(path);
        String prefix = dirPrefix(path);
        ListObjectsV2Response l;
        try {
            l = s3.listObjectsV2(b -> b.bucket(o.bucket()).prefix(key).delimiter("/").maxKeys(LOOKUP_LIST_KEYS)).join();
        } catch (RuntimeException e) {
            throw S3Errors.toFsException(e, "LIST " + key);
        }
        boolean dir = l.commonPrefixes().stream().anyMatch(c -> c.prefix().equals(prefix));
        boolean file = l.contents().stream().anyMatch(c -> c.key().equals(key));
        if (!dir && Boolean.TRUE.equals(l.isTruncated())) {
            return findInS3Parallel(path);
        }
        if (dir) {
            return dirFound(prefix);
        }
        if (file) {
            return headFile(path);
        }
        missed(path, asked);
        throw FsException.of(Errno.ENOENT);
    }

    /**
     * A listed subdirectory, from its marker's HEAD read ahead when there is one to take
     * ({@link #readAhead}); then lets HeadAhead look further down the listing.
     */
    private Found listedDirFound(String path) throws FsException {
        String prefix = dirPrefix(path);
        Found f = dirFound(prefix, readAhead(prefix, byPath.get(path)));
        String dir = parentOf(path);
        headAhead.markerHeaded(dir, leafOf(path), name -> dirPrefix(child(dir, name)));
        return f;
    }

    /** A directory as its marker object describes it (HEAD {@code prefix}); an implicit one has none. */
    private Found dirFound(String prefix) throws FsException {
        return dirFound(prefix, null);
    }

    /** As above, with the marker's HEAD already started ({@code ahead}), or null to send one. */
    private Found dirFound(String prefix, CompletableFuture<HeadObjectResponse> ahead) throws FsException {
        try {
            HeadObjectResponse m = (ahead != null ? ahead : s3.headObject(b -> b.bucket(o.bucket()).key(prefix))).join();
            return new Found(FileType.DIRECTORY, 0, m.lastModified().toEpochMilli() * 1_000_000L, "",
                    S3Metadata.parse(m.metadata()), false);
        } catch (RuntimeException e) {
            if (S3Errors.toErrno(e) != Errno.ENOENT) {
                throw S3Errors.toFsException(e, "HEAD " + prefix);
            }
            return new Found(FileType.DIRECTORY, 0, nowNs(), "", S3Metadata.NONE, false);   // implicit
        }
    }

    /** Names per lookup LIST: enough to reach {@code key/} past the siblings sorting before it. */
    private static final int LOOKUP_LIST_KEYS = 100;

    /** HEAD key and LIST key/ in parallel: one round trip, two requests (the rare fallback). */
    private Found findInS3Parallel(String path) throws FsException {
        long asked = nameChanges.get();
        String key = fileKey(path);
        String prefix = dirPrefix(path);
        CompletableFuture<HeadObjectResponse> head = s3.headObject(b -> b.bucket(o.bucket()).key(key));
        CompletableFuture<ListObjectsV2Response> list = s3.listObjectsV2(b -> b.bucket(o.bucket())
                .prefix(prefix).maxKeys(1));
        HeadObjectResponse h = null;
        try {
            h = head.join();
        } catch (RuntimeException e) {
            if (S3Errors.toErrno(e) != Errno.ENOENT) {
                list.cancel(false);
                throw S3Errors.toFsException(e, "HEAD " + key);
            }
        }
        ListObjectsV2Response l;
        try {
            l = list.join();
        } catch (RuntimeException e) {
            throw S3Errors.toFsException(e, "LIST " + prefix);
        }
        if (!l.contents().isEmpty() || !l.commonPrefixes().isEmpty()) {
            S3Metadata meta = S3Metadata.NONE;
            long mtime = nowNs();
            if (!l.contents().isEmpty() && l.contents().get(0).key().equals(prefix)) {
                meta = markerMeta(prefix);
                mtime = l.contents().get(0).lastModified().toEpochMilli() * 1_000_000L;
            }
            return new Found(FileType.DIRECTORY, 0, mtime, "", meta, false);
        }
        if (h != null) {
            S3Metadata meta = S3Metadata.parse(h.metadata());
            return new Found(objectType(meta), h.contentLength(), h.lastModified().toEpochMilli() * 1_000_000L, h.eTag(), meta,
                    false);
        }
        missed(path, asked);
        throw FsException.of(Errno.ENOENT);
    }

    /**
     * The HEAD {@link HeadAhead} started for {@code key} (a file or a directory marker), if nothing
     * we know about the object is newer: no node for it, one that has not seen the object's
     * metadata, or one that last learned the object before that HEAD started (a walk that opens
     * each file it lists, as diff -r and cp do, revalidates at open what a HEAD ahead just read).
     * Null when there is none to take.
     */
    private CompletableFuture<HeadObjectResponse> readAhead(String key, S3Node known) {
        return known == null || known.otherMeta == null
                ? headAhead.take(key) : headAhead.takeStartedSince(key, known.attrExpiresNs - ttlNs);
    }

    /** HEAD of a file, or the one read ahead for it ({@link #readAhead}); then lets HeadAhead look further down the listing. */
    private Found headFile(String path) throws FsException {
        String key = fileKey(path);
        CompletableFuture<HeadObjectResponse> ahead = readAhead(key, byPath.get(path));
        HeadObjectResponse h;
        try {
            h = (ahead != null ? ahead : s3.headObject(b -> b.bucket(o.bucket()).key(key))).join();
        } catch (RuntimeException e) {
            throw S3Errors.toFsException(e, "HEAD " + key);
        }
        String dir = parentOf(path);
        headAhead.headed(dir, leafOf(path), name -> fileKey(child(dir, name)));
        S3Metadata meta = S3Metadata.parse(h.metadata());
        return new Found(objectType(meta), h.contentLength(), h.lastModified().toEpochMilli() * 1_000_000L, h.eTag(),
                meta, false);
    }

    private S3Metadata markerMeta(String markerKey) {
        try {
            return S3Metadata.parse(s3.headObject(b -> b.bucket(o.bucket()).key(markerKey)).join().metadata());
        } catch (RuntimeException e) {
            return S3Metadata.NONE;
        }
    }

    @Override
    public void forget(long node, long nlookup) {
        S3Node n = nodes.get(node);
        if (n == null || n.id == ROOT_ID) {
            return;
        }
        n.lookups.addAndGet(-nlookup);
        dropIfUnused(n);
    }

    // ---------------------------------------------------------------- getattr / setattr

    @Override
    public Attr getattr(RequestContext ctx, long node, long fh) throws FsException {
        S3Node n = node(node);
        synchronized (n) {
            if (n.writer != null || n.localOnly || n.unlinked || n.type == FileType.DIRECTORY
                    || (System.nanoTime() < n.attrExpiresNs && !metadataUnread(n))) {
                return currentAttr(n);
            }
        }
        refresh(n);
        synchronized (n) {
            return currentAttr(n);
        }
    }

    /**
     * HEAD the object behind a file node (its cached attrs expired). When the metadata says the
     * node has another type than we assumed (a symlink first seen in a listing looks like a regular
     * file), the path gets a new node of the right type and this one answers ESTALE, so the kernel
     * looks the name up again.
     */
    private void refresh(S3Node n) throws FsException {
        Found f = headFile(n.path);
        FileType t = f.type;
        if (t != n.type) {
            learn(bind(n.path, t), f);
            throw FsException.of(Errno.ESTALE, n.path + " is a " + t + ", not a " + n.type);
        }
        learn(n, f);
    }

    /** The type an object's metadata gives it; devices and unknown bits read as regular files. */
    private static FileType objectType(S3Metadata meta) {
        FileType t = meta.type();
        if (t == null || t == FileType.CHARACTER_DEVICE || t == FileType.BLOCK_DEVICE) {
            return FileType.REGULAR;
        }
        return t;   // DIRECTORY: an old s3fs directory object without the '/', a directory all the same
    }

    /** The node's attrs with the staged size; caller holds the node's monitor. */
    private Attr currentAttr(S3Node n) {
        Attr a = n.attr;
        long size = n.writer != null ? n.writer.size() : a.size();
        long blocks = n.writer != null ? (size + 511) / 512 : a.blocks();
        // Unlinked or replaced by a rename while open: fstat(2) shows no links left, as on any file system.
        int nlink = n.unlinked ? 0 : a.nlink();
        if (size != a.size() || blocks != a.blocks() || nlink != a.nlink()) {
            a = new Attr(a.ino(), size, blocks, a.atimeNs(), a.mtimeNs(), a.ctimeNs(), a.mode(),
                    nlink, a.uid(), a.gid(), a.rdev(), a.blksize());
        }
        return a;
    }

    @Override
    public Attr setattr(RequestContext ctx, long node, SetAttr c) throws FsException {
        requireWritable();
        S3Node n = node(node);
        if (n.attr == null || (n.type != FileType.DIRECTORY && !n.localOnly && n.writer == null
                && System.nanoTime() >= n.attrExpiresNs)) {
            refresh(n);
        }
        return underOwnName(n, () -> {
            Attr a = currentAttr(n);
            checkOwnerChange(ctx, a, c);
            long now = nowNs();
            int mode = c.mode() != null ? (a.mode() & FileType.S_IFMT) | (c.mode() & 07777) : a.mode();
            if (c.killSuidGid()) {
                mode = SetAttr.withoutSetuid(mode);
            }
            long mtime = c.mtimeNow() ? now : c.mtimeNs() != null ? c.mtimeNs() : a.mtimeNs();
            long atime = c.atimeNow() ? now : c.atimeNs() != null ? c.atimeNs() : a.atimeNs();
            if (c.size() != null) {
                if (n.type == FileType.DIRECTORY) {
                    throw FsException.of(Errno.EISDIR);
                }
                if (n.type != FileType.REGULAR || c.size() < 0) {
                    throw FsException.of(Errno.EINVAL);
                }
                if (c.mtimeNs() == null && !c.mtimeNow()) {
                    mtime = now;   // truncate changes mtime
                }
            }
            Attr next = new Attr(a.ino(), a.size(), a.blocks(), atime, mtime, now, mode, a.nlink(),
                    c.uid() != null ? c.uid() : a.uid(), c.gid() != null ? c.gid() : a.gid(), a.rdev(), a.blksize());
            if (c.size() != null) {
                FileWriter w = writerFor(n, c.size() == 0);
                w.truncate(c.size());
                n.attr = next;
                if (n.opens == 0) {
                    commit(n);   // truncate(2) without an open file: visible in S3 at once
                }
                return currentAttr(n);
            }
            applyMetadata(n, next);
            return currentAttr(n);
        });
    }

    /** Work on one node, done holding its monitor. */
    @FunctionalInterface
    private interface NodeWork<T> {
        T run() throws FsException;
    }

    /**
     * Runs {@code work} holding the name lock of {@code n}'s path and then its monitor. A change of
     * the node's metadata rewrites its object (a copy onto itself, a PUT of a directory's marker);
     * under the name lock that never lands after an unlink, rmdir or rename of the name removed
     * the key (it brought the object back, beside whatever took the name next), and it waits for
     * a rename of a directory above and then rewrites the object at its new path.
     */
    private <T> T underOwnName(S3Node n, NodeWork<T> work) throws FsException {
        return underNames(() -> new String[] {n.path}, p -> {
            synchronized (n) {
                return work.run();
            }
        });
    }

    /**
     * Gives a node new attributes (and its current {@code otherMeta}): for a file being written they
     * go up with its data at the next upload, for an unlinked one they stay here, otherwise its
     * object is rewritten now. Holds the monitor.
     */
    private void applyMetadata(S3Node n, Attr next) throws FsException {
        if (!(n.writer != null && n.writer.dirty() || n.localOnly || n.unlinked)) { // unlinked: its key is not its own
            rewriteMetadata(n, next);
        }
        n.attr = next;
    }

    private static void checkOwnerChange(RequestContext ctx, Attr a, SetAttr c) throws FsException {
        if (ctx.isRoot()) {
            return;
        }
        if (c.uid() != null && c.uid() != a.uid()) {
            throw FsException.of(Errno.EPERM, "only root may change a file's owner");
        }
        if ((c.mode() != null || c.gid() != null) && ctx.uid() != a.uid()) {
            throw FsException.of(Errno.EPERM, "only the owner may chmod/chgrp");
        }
    }

    /** chmod/chown/utimens of a clean object: copy it onto itself with the new metadata (1 request). */
    private void rewriteMetadata(S3Node n, Attr next) throws FsException {
        learnMetadata(n);
        Map<String, String> meta = metaOf(n, next);
        if (n.type == FileType.DIRECTORY) {
            if (dirPrefix(n.path).isEmpty()) {
                return;   // the bucket root has no marker object to hold metadata: kept in memory only
            }
            headAhead.forget(dirPrefix(n.path));
            n.etag = Uploads.put(s3, o, dirPrefix(n.path), meta, Uploads.DIR_CONTENT_TYPE,
                    AsyncRequestBody.fromBytes(new byte[0]));
            return;
        }
        headAhead.forget(fileKey(n.path));
        n.etag = Uploads.copy(s3, o, fileKey(n.path), fileKey(n.path), n.attr.size(), meta,
                Uploads.FILE_CONTENT_TYPE);
        n.attrExpiresNs = System.nanoTime() + ttlNs;
    }

    // ---------------------------------------------------------------- symlinks, nodes, dirs

    @Override
    public byte[] readlink(RequestContext ctx, long node) throws FsException {
        S3Node n = node(node);
        if (n.type != FileType.SYMLINK) {
            throw FsException.of(Errno.EINVAL);
        }
        synchronized (n) {
            if (n.linkTarget != null) {
                return n.linkTarget.clone();
            }
        }
        String key = fileKey(n.path);
        byte[] target;
        try {
            // metadata path, not data path: a target is at most 4 KiB
            target = s3.getObject(b -> b.bucket(o.bucket()).key(key), AsyncResponseTransformer.toBytes())
                    .join().asByteArray();
        } catch (RuntimeException e) {
            throw S3Errors.toFsException(e, "GET symlink " + key);
        }
        synchronized (n) {
            n.linkTarget = target;
        }
        return target.clone();
    }

    @Override
    public Entry symlink(RequestContext ctx, long parent, FileName name, byte[] target) throws FsException {
        requireWritable();
        if (target.length > PATH_MAX) {
            throw FsException.of(Errno.ENAMETOOLONG, "symlink target over " + PATH_MAX + " bytes");
        }
        S3Node dir = parentDir(parent);
        return newName(dir, name, path -> {
            long now = nowNs();
            Attr a = new Attr(0, target.length, 1, now, now, now, FileType.SYMLINK.modeBits() | 0777, 1, ctx.uid(),
                    ctx.gid(), 0, BLKSIZE);
            String etag = Uploads.put(s3, o, fileKey(path), metaOf(a), Uploads.FILE_CONTENT_TYPE,
                    AsyncRequestBody.fromBytes(target));
            S3Node n = bind(path, FileType.SYMLINK);
            synchronized (n) {
                n.attr = a.withIno(n.id);
                n.otherMeta = Map.of();
                n.etag = etag;
                n.linkTarget = target.clone();
                n.attrExpiresNs = System.nanoTime() + ttlNs;
            }
            added(path, false, target.length, etag);
            return entry(n);
        });
    }

    /** Regular files, FIFOs and sockets as s3fs stores them (empty object, type in the mode). */
    @Override
    public Entry mknod(RequestContext ctx, long parent, FileName name, int mode, int rdev, int umask)
            throws FsException {
        requireWritable();
        FileType t = FileType.ofMode(mode);
        if (t == FileType.CHARACTER_DEVICE || t == FileType.BLOCK_DEVICE) {
            throw FsException.of(Errno.EPERM, "device nodes cannot live in S3");
        }
        if (t != FileType.REGULAR && t != FileType.FIFO && t != FileType.SOCKET) {
            throw FsException.of(Errno.EINVAL, "mknod of type " + t);
        }
        S3Node dir = parentDir(parent);
        return newName(dir, name, path -> {
            long now = nowNs();
            Attr a = new Attr(0, 0, 0, now, now, now, t.modeBits() | (mode & 07777), 1, ctx.uid(), ctx.gid(), 0,
                    BLKSIZE);
            String etag = Uploads.put(s3, o, fileKey(path), metaOf(a), Uploads.FILE_CONTENT_TYPE,
                    AsyncRequestBody.fromBytes(new byte[0]));
            S3Node n = bind(path, t);
            synchronized (n) {
                n.attr = a.withIno(n.id);
                n.otherMeta = Map.of();
                n.etag = etag;
                n.attrExpiresNs = System.nanoTime() + ttlNs;
            }
            added(path, false, 0, etag);
            return entry(n);
        });
    }

    @Override
    public Entry mkdir(RequestContext ctx, long parent, FileName name, int mode, int umask) throws FsException {
        requireWritable();
        S3Node dir = parentDir(parent);
        return newName(dir, name, path -> {
            long now = nowNs();
            Attr a = new Attr(0, 0, 0, now, now, now, FileType.DIRECTORY.modeBits() | (mode & 07777), 2, ctx.uid(),
                    ctx.gid(), 0, BLKSIZE);
            String etag = Uploads.put(s3, o, dirPrefix(path), metaOf(a), Uploads.DIR_CONTENT_TYPE,
                    AsyncRequestBody.fromBytes(new byte[0]));
            S3Node n = bind(path, FileType.DIRECTORY);
            synchronized (n) {
                n.attr = a.withIno(n.id);
                n.otherMeta = Map.of();
                n.etag = etag;
                n.attrExpiresNs = Long.MAX_VALUE;
            }
            added(path, true, 0, "");
            // A directory we just created is known empty: lookups inside it need no request (untar).
            remember(path, new ConcurrentSkipListMap<>());
            return entry(n);
        });
    }

    /** Makes what a new name names (the object S3 will hold, and its node), from its path. */
    private interface NameMaker {
        Entry make(String path) throws FsException;
    }

    /**
     * Creates {@code name} in {@code dir} with {@code maker}, or fails with EEXIST when something
     * has the name already; no other change of the name, and no removal of the directory, runs
     * meanwhile.
     */
    private Entry newName(S3Node dir, FileName name, NameMaker maker) throws FsException {
        creatablePath(dir, name);
        return underNames(() -> new String[] {dir.path, child(dir.path, name)}, p -> {
            requireLive(dir);
            String path = creatablePath(dir, name);
            if (whatIsAt(path) != null) {
                throw FsException.of(Errno.EEXIST);
            }
            return maker.make(path);
        });
    }

    /** Work done holding the name locks of {@code paths}. */
    private interface NamesWork<T> {
        T run(String[] paths) throws FsException;
    }

    /**
     * Runs {@code work} holding the {@link #nameLocks} of the paths {@code paths} gives, taken in
     * stripe order so that two such calls never wait for each other. The paths are asked for again
     * once locked: a rename of a directory above them may have moved them meanwhile, and then the
     * locks of their new paths are taken instead.
     */
    private <T> T underNames(Supplier<String[]> paths, NamesWork<T> work) throws FsException {
        while (true) {
            String[] p = paths.get();
            int[] stripes = Arrays.stream(p).mapToInt(path -> Math.floorMod(path.hashCode(), nameLocks.length))
                    .distinct().sorted().toArray();
            CompletableFuture<Void> moving;
            for (int stripe : stripes) {
                nameLocks[stripe].lock();
            }
            try {
                moving = movingAbove(p);
                if (moving == null && Arrays.equals(p, paths.get())) {
                    return work.run(p);
                }
            } finally {
                for (int stripe : stripes) {
                    nameLocks[stripe].unlock();
                }
            }
            if (moving != null) {
                moving.join();   // then the names are looked at again, at their new paths
            }
        }
    }

    /** The rename in progress of a directory that holds one of {@code paths} (see movingDirs), or null. */
    private CompletableFuture<Void> movingAbove(String... paths) {
        if (movingDirs.isEmpty()) {
            return null;
        }
        for (String path : paths) {
            for (String up = parentOf(path); !up.isEmpty(); up = parentOf(up)) {
                CompletableFuture<Void> f = movingDirs.get(up);
                if (f != null) {
                    return f;
                }
            }
        }
        return null;
    }

    /** The path a name would have; refuses names no create may take, whether or not they exist. */
    private String creatablePath(S3Node dir, FileName name) throws FsException {
        if (name.isDotOrDotDot()) {
            throw FsException.of(Errno.EEXIST);
        }
        String path = child(dir.path, requireUtf8(name));
        checkKeyLength(path);
        return path;
    }

    /**
     * What is at {@code path} now, or null: a node of ours that is fresh (not yet uploaded, being
     * written, or attributes within the metadata timeout), else what {@link #find} knows. The
     * kernel looks a name up before it creates it, so find answers from the miss it just recorded
     * or from the directory's fresh listing, without a request; it asks S3 only when neither is at
     * hand: a create the kernel sent without a fresh lookup (its negative entry still valid while
     * another guest, or another S3 client, made the name).
     */
    private FileType whatIsAt(String path) throws FsException {
        S3Node known = byPath.get(path);
        if (known != null) {
            synchronized (known) {
                if (!known.unlinked && knownNow(known)) {
                    return known.type;
                }
            }
        }
        try {
            return find(path).type();
        } catch (FsException e) {
            if (e.errno() == Errno.ENOENT) {
                return null;
            }
            throw e;
        }
    }

    /** S3 keys are UTF-8: a name that is not cannot become one (EINVAL, as vfat and strict casefold ext4 answer). */
    private static FileName requireUtf8(FileName name) throws FsException {
        if (!name.isUtf8()) {
            throw FsException.of(Errno.EINVAL, "S3 keys are UTF-8; this name is not");
        }
        return name;
    }

    /**
     * S3 keys end at 1,024 bytes: a name that would make a longer key fails now with ENAMETOOLONG,
     * not at the upload after the file was written.
     */
    private void checkKeyLength(String path) throws FsException {
        int bytes = fileKey(path).getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_KEY_BYTES) {
            throw FsException.of(Errno.ENAMETOOLONG, "the S3 key would take " + bytes + " bytes, over "
                    + MAX_KEY_BYTES);
        }
    }

    @Override
    public void unlink(RequestContext ctx, long parent, FileName name) throws FsException {
        requireWritable();
        S3Node dir = parentDir(parent);
        existingChild(dir.path, name);
        underNames(() -> new String[] {dir.path, child(dir.path, name)}, p -> {
            removeFile(p[1]);
            return null;
        });
    }

    /** The unlink of {@code path}; caller holds its name locks. */
    private void removeFile(String path) throws FsException {
        S3Node n = byPath.get(path);
        boolean inS3 = true;
        if (n != null) {
            if (n.type == FileType.DIRECTORY) {
                throw FsException.of(Errno.EISDIR);
            }
            synchronized (n) {
                inS3 = !n.localOnly;
                if (n.writer != null && n.opens == 0) {
                    n.writer.discard();
                    n.writer = null;
                }
                n.unlinked = true;
                localOnly(n, false);
            }
        } else {
            Found f = find(path);   // ENOENT / EISDIR need an answer before we delete blindly
            if (f.type == FileType.DIRECTORY) {
                throw FsException.of(Errno.EISDIR);
            }
        }
        if (inS3) {
            delete(fileKey(path));
        }
        removed(path);
        if (n != null) {
            byPath.remove(path, n);
            dropIfUnused(n);
        }
    }

    private void delete(String key) throws FsException {
        try {
            s3.deleteObject(b -> b.bucket(o.bucket()).key(key)).join();
        } catch (RuntimeException e) {
            throw S3Errors.toFsException(e, "DELETE " + key);
        }
    }

    @Override
    public void rmdir(RequestContext ctx, long parent, FileName name) throws FsException {
        requireWritable();
        S3Node dir = parentDir(parent);
        if (name.isDotOrDotDot()) {
            throw FsException.of(name.length() == 1 ? Errno.EINVAL : Errno.ENOTEMPTY);
        }
        existingChild(dir.path, name);
        underNames(() -> new String[] {child(dir.path, name)}, p -> {   // no create inside meanwhile
            removeDir(p[0]);
            return null;
        });
    }

    /** The rmdir of {@code path}; caller holds its name lock. */
    private void removeDir(String path) throws FsException {
        S3Node n = byPath.get(path);
        if (n != null && n.type != FileType.DIRECTORY) {
            throw FsException.of(Errno.ENOTDIR);
        }
        String prefix = dirPrefix(path);
        for (S3Node local : localOnlyNodes) {
            if (local.localOnly && local.path.startsWith(path + "/")) {
                throw FsException.of(Errno.ENOTEMPTY);
            }
        }
        ListObjectsV2Response l;
        try {
            l = s3.listObjectsV2(b -> b.bucket(o.bucket()).prefix(prefix).maxKeys(2)).join();
        } catch (RuntimeException e) {
            throw S3Errors.toFsException(e, "LIST " + prefix);
        }
        boolean marker = false;
        for (S3Object obj : l.contents()) {
            if (obj.key().equals(prefix)) {
                marker = true;
            } else {
                throw FsException.of(Errno.ENOTEMPTY);
            }
        }
        if (!l.commonPrefixes().isEmpty()) {
            throw FsException.of(Errno.ENOTEMPTY);
        }
        if (!marker && n == null) {
            // Neither marker nor keys nor a node: either it never existed, or it was an implicit
            // directory whose last file we just unlinked (rm -r) and which vanished with it, or it
            // is a file (rmdir of a file: ENOTDIR, and the file stays).
            if (find(path).type != FileType.DIRECTORY) {
                throw FsException.of(Errno.ENOTDIR);
            }
        }
        if (marker) {
            delete(prefix);
        }
        removed(path);
        forgetListing(path);
        if (n != null) {
            synchronized (n) {
                n.unlinked = true;
            }
            byPath.remove(path, n);
            dropIfUnused(n);
        }
    }

    // ---------------------------------------------------------------- rename

    @Override
    public void rename(RequestContext ctx, long parent, FileName name, long newParent, FileName newName, int flags)
            throws FsException {
        requireWritable();
        if ((flags & (RENAME_EXCHANGE | RENAME_WHITEOUT)) != 0) {
            throw FsException.of(Errno.EINVAL, "S3 cannot exchange two objects atomically");
        }
        S3Node from = parentDir(parent);
        S3Node to = parentDir(newParent);
        if (name.isDotOrDotDot() || newName.isDotOrDotDot()) {
            throw FsException.of(Errno.EINVAL);
        }
        existingChild(from.path, name);
        requireUtf8(newName);
        underNames(() -> new String[] {child(from.path, name), child(to.path, newName), to.path}, p -> {
            String src = p[0];
            String dst = p[1];
            if (!src.equals(dst)) {
                requireLive(to);
                checkKeyLength(dst);
                move(src, dst, flags);
            }
            return null;
        });
    }

    /** The rename of {@code src} to {@code dst}, both paths checked; caller holds their name locks. */
    private void move(String src, String dst, int flags) throws FsException {
        S3Node srcNode = byPath.get(src);
        FileType srcType = srcNode != null ? srcNode.type : find(src).type;
        Found target = null;
        S3Node dstNode = byPath.get(dst);
        if (dstNode != null && dstNode.localOnly) {
            target = new Found(dstNode.type, 0, 0, "", S3Metadata.NONE, false);
        } else {
            try {
                target = find(dst);
            } catch (FsException e) {
                if (e.errno() != Errno.ENOENT) {
                    throw e;
                }
            }
        }
        if (target != null) {
            if ((flags & RENAME_NOREPLACE) != 0) {
                throw FsException.of(Errno.EEXIST);
            }
            if (srcType == FileType.DIRECTORY && target.type != FileType.DIRECTORY) {
                throw FsException.of(Errno.ENOTDIR);
            }
            if (srcType != FileType.DIRECTORY && target.type == FileType.DIRECTORY) {
                throw FsException.of(Errno.EISDIR);
            }
        }
        if (srcType == FileType.DIRECTORY) {
            if (dst.startsWith(src + "/")) {
                throw FsException.of(Errno.EINVAL, "cannot move a directory into itself");
            }
            CompletableFuture<Void> done = new CompletableFuture<>();
            movingDirs.put(src, done);
            try {
                for (S3Node n : nodesBelow(src)) {
                    synchronized (n) {
                        // nothing: taking the monitor waits for an upload in flight below src (commit holds it)
                    }
                }
                Map<String, String> etags = renameDir(src, dst, target != null);
                moveNodes(src, dst, true);
                takeCopiedEtags(dst, etags);
            } finally {
                movingDirs.remove(src);
                done.complete(null);
                uploadHeldBack();
            }
        } else {
            renameFile(srcNode, src, dst);
            moveNodes(src, dst, false);
        }
        removed(src);
        S3Node moved = byPath.get(dst);
        if (srcType == FileType.DIRECTORY) {
            added(dst, true, 0, null);
        } else if (moved != null && moved.attr != null) {
            long size;
            String etag;
            synchronized (moved) {
                size = moved.attr.size();
                etag = moved.etag;
            }
            // the real size and ETag: a lookup answered from this listing would otherwise show 0 bytes
            added(dst, false, size, etag);
        } else {
            negative.invalidate(dst);
            forgetListing(parentOf(dst));   // size unknown here: the next lookup asks S3
        }
        forgetListing(src);
        forgetListing(dst);
        negative.invalidate(dst);
        if (srcType == FileType.DIRECTORY) {
            arrivedBelow(dst);
        }
    }

    /**
     * A directory's names arrived at {@code dir} (renamed there): what was found absent below it
     * is absent no more, and a miss below it that this overtook is not cached (see {@link #missed}).
     */
    private void arrivedBelow(String dir) {
        synchronized (nameCacheLock) {
            changedAt.put(dirPrefix(dir), nameChanges.incrementAndGet());
            String below = dir + "/";
            negative.asMap().keySet().removeIf(path -> path.startsWith(below));
        }
    }

    private void renameFile(S3Node n, String src, String dst) throws FsException {
        if (n != null) {
            synchronized (n) {
                if (n.writer != null && n.writer.dirty()) {
                    // Upload the staged data straight under the new name: no copy needed.
                    boolean wasInS3 = !n.localOnly;
                    String etag = n.writer.commit(fileKey(dst), metaOf(n, n.attr));
                    n.etag = etag;
                    localOnly(n, false);
                    if (wasInS3) {
                        delete(fileKey(src));
                    }
                    return;
                }
            }
        }
        long size;
        if (n != null && n.attr != null) {
            size = n.attr.size();
        } else {
            size = find(src).size;
        }
        String etag = Uploads.copy(s3, o, fileKey(src), fileKey(dst), size, null, null);
        delete(fileKey(src));
        if (n != null) {
            synchronized (n) {
                n.etag = etag;
            }
        }
    }

    /**
     * Copies every key under src/ to dst/, then deletes the originals. Not atomic: a crash in the
     * middle leaves both trees (never neither); a copy that fails removes the copies already made,
     * so a failed rename leaves the source as it was and no half tree at dst. Bounded by
     * maxRenameKeys; past it EMLINK.
     *
     * @return the ETag of each copy by its new key: a copy's ETag is not its source's (a
     *         multipart object's copy is a single-part object), and reads send If-Match
     */
    private Map<String, String> renameDir(String src, String dst, boolean dstExists) throws FsException {
        String srcPrefix = dirPrefix(src);
        String dstPrefix = dirPrefix(dst);
        if (dstExists) {
            ListObjectsV2Response l;
            try {
                l = s3.listObjectsV2(b -> b.bucket(o.bucket()).prefix(dstPrefix).maxKeys(2)).join();
            } catch (RuntimeException e) {
                throw S3Errors.toFsException(e, "LIST " + dstPrefix);
            }
            for (S3Object obj : l.contents()) {
                if (!obj.key().equals(dstPrefix)) {
                    throw FsException.of(Errno.ENOTEMPTY);
                }
            }
        }
        // Files staged under the tree are not in the copy: they go up at their new paths, when
        // closed or flushed (see commit and move).
        List<S3Object> keys = new ArrayList<>();
        String token = null;
        do {
            String t = token;
            ListObjectsV2Response page;
            try {
                page = s3.listObjectsV2(b -> b.bucket(o.bucket()).prefix(srcPrefix).continuationToken(t)
                        .maxKeys(o.listPageSize())).join();
            } catch (RuntimeException e) {
                throw S3Errors.toFsException(e, "LIST " + srcPrefix);
            }
            keys.addAll(page.contents());
            if (keys.size() > o.maxRenameKeys()) {
                LOG.warn("rename of directory {} refused: more than maxRenameKeys={} objects to copy "
                        + "(answered EMLINK; raise the option or move the files individually)", src, o.maxRenameKeys());
                throw FsException.of(Errno.EMLINK, "directory too large to rename in S3");
            }
            token = page.isTruncated() ? page.nextContinuationToken() : null;
        } while (token != null);
        List<CompletableFuture<?>> window = new ArrayList<>();
        List<String> copies = new ArrayList<>();
        Map<String, String> etags = new ConcurrentHashMap<>();
        try {
            for (S3Object obj : keys) {
                String to = dstPrefix + obj.key().substring(srcPrefix.length());
                if (!(dstExists && to.equals(dstPrefix))) {
                    copies.add(to);   // the existing target's own marker is not ours to remove
                }
                if (obj.size() > Uploads.MAX_SINGLE_COPY) {
                    keepEtag(etags, to, Uploads.copy(s3, o, obj.key(), to, obj.size(), null, null));
                    continue;
                }
                window.add(Uploads.startCopy(s3, o, obj.key(), to, null, null)
                        .thenAccept(etag -> keepEtag(etags, to, etag)));
                if (window.size() >= 4 * o.maxInflightParts()) {
                    CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).join();
                    window.clear();
                }
            }
            CompletableFuture.allOf(window.toArray(CompletableFuture[]::new)).join();
        } catch (RuntimeException | FsException e) {   // FsException: a large object's multipart copy
            // Copies still in flight must land before they can be removed.
            window.forEach(f -> f.exceptionally(x -> null).join());
            FsException failure = S3Errors.toFsException(e, "copying " + srcPrefix + " to " + dstPrefix
                    + " (the source is intact)");
            try {
                deleteTree(copies, "partial copy at " + dstPrefix);
            } catch (FsException cleanup) {
                LOG.warn("rename of {} failed and {} copies under {} could not be removed: {}",
                        srcPrefix, copies.size(), dstPrefix, cleanup.getMessage());
            }
            throw failure;
        }
        deleteTree(keys.stream().map(S3Object::key).toList(), "renamed keys under " + srcPrefix);
        if (keys.stream().noneMatch(k -> k.key().equals(srcPrefix))) {
            // The source had no marker; give the target one so an emptied target still exists.
            Uploads.put(s3, o, dstPrefix, Map.of(), Uploads.DIR_CONTENT_TYPE, AsyncRequestBody.fromBytes(new byte[0]));
        }
        return etags;
    }

    private static void keepEtag(Map<String, String> etags, String key, String etag) {
        etags.put(key, etag == null ? "" : etag);
    }

    /**
     * Files under a renamed directory read their copies from now on: each node takes its copy's
     * ETag, or none (no If-Match) where the server named none, so no read fails with ESTALE on the
     * ETag of an object that is gone.
     */
    private void takeCopiedEtags(String dst, Map<String, String> etags) {
        String under = dst + "/";
        for (S3Node n : byPath.values()) {
            if (n.type != FileType.DIRECTORY && n.path.startsWith(under)) {
                String etag = etags.get(fileKey(n.path));
                if (etag != null) {
                    synchronized (n) {
                        n.etag = etag.isEmpty() ? null : etag;
                    }
                }
            }
        }
    }

    /**
     * Deletes the keys of a tree: objects first (DeleteObjects, in batches of S3's limit of 1,000),
     * then each directory marker on its own, deepest first. A store that keeps a directory on disk
     * while it has entries (S3Proxy's) may work through a batch in parallel, and a marker deleted
     * before its entries left the directory behind as an empty prefix the old name was still found
     * by. An interrupted delete also leaves markers, never objects without them. The first failure
     * is EIO naming {@code what}.
     */
    private void deleteTree(List<String> keys, String what) throws FsException {
        List<String> objects = keys.stream().filter(k -> !k.endsWith("/")).toList();
        for (int i = 0; i < objects.size(); i += 1000) {
            List<ObjectIdentifier> batch = objects.subList(i, Math.min(objects.size(), i + 1000)).stream()
                    .map(k -> ObjectIdentifier.builder().key(k).build()).toList();
            try {
                var r = s3.deleteObjects(b -> b.bucket(o.bucket()).delete(Delete.builder().objects(batch).quiet(true)
                        .build())).join();
                if (!r.errors().isEmpty()) {
                    throw FsException.of(Errno.EIO, "deleting " + r.errors().size() + " " + what
                            + " failed: " + r.errors().get(0).message());
                }
            } catch (RuntimeException e) {
                throw S3Errors.toFsException(e, "DeleteObjects of " + what);
            }
        }
        List<String> markers = keys.stream().filter(k -> k.endsWith("/"))
                .sorted(Comparator.comparingInt(String::length).reversed()).toList();
        for (String marker : markers) {
            delete(marker);
        }
    }

    /** The nodes whose paths lie below {@code dir}. */
    private List<S3Node> nodesBelow(String dir) {
        String under = dir + "/";
        return byPath.values().stream().filter(n -> n.path.startsWith(under)).toList();
    }

    /**
     * Makes the uploads held back while a directory was being renamed (see {@link #commit}): its
     * files are at their new paths now, or still at the old ones if the rename failed. A failure
     * keeps the data staged for the next flush, as any failed upload does.
     */
    private void uploadHeldBack() {
        for (S3Node n : byPath.values()) {
            synchronized (n) {
                if (!n.uploadHeld) {
                    continue;
                }
                n.uploadHeld = false;
                try {
                    commit(n);   // held back again if another rename is copying its directory
                } catch (FsException e) {
                    LOG.warn("{}: upload after the rename of its directory failed, kept staged: {}", n.path,
                            e.getMessage());
                }
            }
            dropIfUnused(n);   // as a release does once its upload is made
        }
    }

    /**
     * Re-keys the node table: src (and, for a directory, everything under it) now lives at dst.
     * A file's rename touches its own entries only: rsync renames every file it writes, and a scan
     * of every node per rename made that quadratic.
     */
    private void moveNodes(String src, String dst, boolean directory) {
        S3Node old = byPath.remove(dst);
        if (old != null) {
            old.unlinked = true;
            localOnly(old, false);   // replaced: its staged data is no file of the tree any more
        }
        if (!directory) {
            S3Node n = byPath.remove(src);
            if (n != null) {
                n.path = dst;
                byPath.put(dst, n);
            }
            reservedIds.invalidate(src);
            return;
        }
        String under = src + "/";
        for (S3Node n : new ArrayList<>(byPath.values())) {
            String p = n.path;
            if (p.equals(src) || p.startsWith(under)) {
                String np = dst + p.substring(src.length());
                byPath.remove(p, n);
                n.path = np;
                byPath.put(np, n);
            }
        }
        for (String reserved : new ArrayList<>(reservedIds.asMap().keySet())) {
            if (reserved.equals(src) || reserved.startsWith(under)) {
                reservedIds.invalidate(reserved);
            }
        }
    }

    @Override
    public Entry link(RequestContext ctx, long node, long newParent, FileName newName) throws FsException {
        throw FsException.of(Errno.EPERM, "S3 has no hard links");
    }

    // ---------------------------------------------------------------- listing caches

    /** Drops what we know about a directory's contents (it was renamed or removed). */
    private void forgetListing(String dirPath) {
        listings.invalidate(dirPath);
        OpenListing open = openListings.get(dirPath);
        if (open != null) {
            open.stale = true;
        }
    }

    /** A directory's listing from an open handle or the recent-listing cache, or null. */
    private ConcurrentSkipListMap<FileName, Listed> cachedListing(String dirPath) {
        OpenListing open = openListings.get(dirPath);
        if (open != null && !open.stale && System.nanoTime() - open.takenNs < Math.max(ttlNs, OPEN_LISTING_MAX_NS)) {
            return open.entries;
        }
        return listings.getIfPresent(dirPath);
    }

    /** Caches a directory's complete listing for the metadata timeout, and its size for longer (see {@link #find}). */
    private void remember(String dirPath, ConcurrentSkipListMap<FileName, Listed> listing) {
        listings.put(dirPath, listing);
        listedSizes.put(dirPath, listing.size());
        headAhead.listed(dirPath, listing);
    }

    /** Records a name we created in its parent's cached listing (if any) and clears its negative entry. */
    private void added(String path, boolean dir, long size, String etag) {
        synchronized (nameCacheLock) {
            nameChanged(path);
            negative.invalidate(path);
            ConcurrentSkipListMap<FileName, Listed> l = cachedListing(parentOf(path));
            if (l != null) {
                FileName name = leafOf(path);
                l.put(name, new Listed(name, dir, size, nowNs(), etag == null ? "" : etag));
            }
        }
        headAhead.forget(fileKey(path));
        headAhead.forget(dirPrefix(path));
    }

    private void removed(String path) {
        synchronized (nameCacheLock) {
            nameChanged(path);
            negative.put(path, Boolean.TRUE);
            ConcurrentSkipListMap<FileName, Listed> l = cachedListing(parentOf(path));
            if (l != null) {
                l.remove(leafOf(path));
            }
        }
        headAhead.forget(fileKey(path));
        headAhead.forget(dirPrefix(path));
    }

    /** Notes that {@code path} was made or removed here (see {@link #changedAt}). */
    private void nameChanged(String path) {
        long now = nameChanges.incrementAndGet();
        changedAt.put(fileKey(path), now);
        changedAt.put(dirPrefix(parentOf(path)), now);
    }

    /** Whether the name or directory of {@code key} changed here after {@code asked}. */
    private boolean changedSince(String key, long asked) {
        Long at = changedAt.getIfPresent(key);
        return at != null && at > asked;
    }

    /** Caches a miss of {@code path} that a request begun at {@code asked} found, unless a change overtook it. */
    private void missed(String path, long asked) {
        synchronized (nameCacheLock) {
            if (!changedSince(fileKey(path), asked) && !changedSince(dirPrefix(parentOf(path)), asked)) {
                negative.put(path, Boolean.TRUE);
            }
        }
    }

    /**
     * A directory's complete listing; {@code overtaken} when a name change made here landed while
     * its LIST was on its way, so that it may lack the change and must not be kept.
     */
    private record Fetched(ConcurrentSkipListMap<FileName, Listed> entries, boolean overtaken) {
    }

    /** Lists a directory completely (ListObjectsV2, delimiter '/', all pages) and caches it unless overtaken. */
    private Fetched list(String dirPath) throws FsException {
        long asked = nameChanges.get();
        String prefix = dirPrefix(dirPath);
        ConcurrentSkipListMap<FileName, Listed> out = new ConcurrentSkipListMap<>();
        String token = null;
        boolean any = dirPath.isEmpty();
        do {
            String t = token;
            ListObjectsV2Response page;
            try {
                page = s3.listObjectsV2(b -> b.bucket(o.bucket()).prefix(prefix).delimiter("/")
                        .maxKeys(o.listPageSize()).continuationToken(t)).join();
            } catch (RuntimeException e) {
                throw S3Errors.toFsException(e, "LIST " + prefix);
            }
            for (CommonPrefix cp : page.commonPrefixes()) {
                any = true;
                String rest = cp.prefix().substring(prefix.length());
                FileName name = validName(cp.prefix(), rest.substring(0, rest.length() - 1));
                if (name != null) {
                    Listed prev = out.put(name, new Listed(name, true, 0, nowNs(), ""));
                    if (prev != null && !prev.dir()) {
                        // AWS pages by key order: object "a" can end one page and prefix "a/" start the next
                        warnOnce(cp.prefix().substring(0, cp.prefix().length() - 1),
                                "object is shadowed by a directory of the same name");
                    }
                }
            }
            for (S3Object obj : page.contents()) {
                any = true;
                if (obj.key().equals(prefix)) {
                    continue;   // our own marker
                }
                String rest = obj.key().substring(prefix.length());
                if (rest.endsWith("_$folder$")) {
                    rest = rest.substring(0, rest.length() - "_$folder$".length());   // old s3fs marker
                    FileName name = validName(obj.key(), rest);
                    if (name != null) {
                        out.putIfAbsent(name, new Listed(name, true, 0, nowNs(), ""));
                    }
                    continue;
                }
                FileName name = validName(obj.key(), rest);
                if (name == null) {
                    continue;
                }
                Listed prev = out.get(name);
                if (prev != null && prev.dir()) {
                    warnOnce(obj.key(), "object is shadowed by a directory of the same name");
                    continue;
                }
                out.put(name, new Listed(name, false, obj.size(),
                        obj.lastModified().toEpochMilli() * 1_000_000L, obj.eTag()));
            }
            token = page.isTruncated() ? page.nextContinuationToken() : null;
        } while (token != null);
        if (!any && byPath.get(dirPath) == null) {
            throw FsException.of(Errno.ENOENT);
        }
        // Files created here and not yet uploaded exist too.
        for (S3Node n : localOnlyNodes) {
            if (n.localOnly && parentOf(n.path).equals(dirPath) && !n.path.isEmpty()) {
                FileName name = FileName.literal(n.path.substring(n.path.lastIndexOf('/') + 1));
                out.putIfAbsent(name, new Listed(name, false, 0, nowNs(), ""));
            }
        }
        boolean overtaken;
        synchronized (nameCacheLock) {
            overtaken = changedSince(prefix, asked);   // a name made or removed here meanwhile may be missing
            if (!overtaken) {
                remember(dirPath, out);
            }
        }
        return new Fetched(out, overtaken);
    }

    /** A key segment as a file name, or null (and one warning) when it cannot be one. */
    private FileName validName(String key, String segment) {
        if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
            warnOnce(key, "empty, '.' or '..' path segment");
            return null;
        }
        try {
            return FileName.of(segment);
        } catch (FsException e) {
            warnOnce(key, e.getMessage());
            return null;
        }
    }

    private void warnOnce(String key, String why) {
        if (warnedKeys.size() < 100_000 && warnedKeys.add(key)) {
            LOG.warn("S3 key '{}' skipped: {}", key, why);
        }
    }

    // ---------------------------------------------------------------- files

    private void requireWritable() throws FsException {
        if (o.readonly()) {
            throw FsException.of(Errno.EROFS);
        }
    }

    /**
     * {@code <run>-<node id>-<URL-encoded key>}: after a crash a human can tell which object it
     * was, and a later run (whose node ids start over) can never overwrite it.
     */
    private Path stagingPath(S3Node n) {
        String key = java.net.URLEncoder.encode(fileKey(n.path), StandardCharsets.UTF_8);
        if (key.length() > 200) {
            key = key.substring(0, 200);
        }
        return stagingDir.resolve(runId + "-" + n.id + "-" + key);
    }

    /** The node's writer, staging the current object first unless {@code empty}; holds the node monitor. */
    private FileWriter writerFor(S3Node n, boolean empty) throws FsException {
        if (n.writer == null) {
            learnMetadata(n);
            n.writer = empty || n.localOnly
                    ? FileWriter.empty(s3, o, stagingPath(n))
                    : FileWriter.download(s3, o, stagingPath(n), fileKey(n.path), n.etag);
            n.writer.target(fileKey(n.path), n.attr == null ? Map.of() : metaOf(n, n.attr));
        }
        return n.writer;
    }

    /**
     * Uploads the node's staged data (if dirty); holds the node monitor. Not while a rename copies
     * its directory (the upload would land under the old path after the copy, or be deleted with
     * the originals): that rename uploads it afterwards, at the new path.
     */
    private void commit(S3Node n) throws FsException {
        FileWriter w = n.writer;
        if (w == null || !w.dirty() || n.unlinked) {
            return;
        }
        if (movingAbove(n.path) != null) {
            n.uploadHeld = true;
            return;
        }
        String etag = w.commit(fileKey(n.path), metaOf(n, n.attr));
        if (etag != null) {
            Attr a = n.attr;
            long size = w.size();
            n.attr = new Attr(a.ino(), size, (size + 511) / 512, a.atimeNs(), a.mtimeNs(), a.ctimeNs(), a.mode(),
                    a.nlink(), a.uid(), a.gid(), a.rdev(), a.blksize());
            n.etag = etag;
            localOnly(n, false);
            n.attrExpiresNs = System.nanoTime() + ttlNs;
            added(n.path, false, w.size(), etag);
        }
    }

    @Override
    public OpenResult open(RequestContext ctx, long node, int flags) throws FsException {
        S3Node n = node(node);
        if (n.type != FileType.REGULAR) {
            // The kernel follows symlinks and keeps FIFOs and sockets to itself; an OPEN of one would
            // let writes turn its object into a regular file's data.
            throw FsException.of(n.type == FileType.DIRECTORY ? Errno.EISDIR
                    : n.type == FileType.SYMLINK ? Errno.ELOOP : Errno.ENXIO);
        }
        boolean write = OpenFlags.isWritable(flags) || (flags & OpenFlags.O_TRUNC) != 0;
        if (write) {
            requireWritable();
        }
        boolean keep;
        synchronized (n) {
            if (n.writer == null && !n.localOnly && !n.unlinked && System.nanoTime() >= n.attrExpiresNs) {
                refresh(n);   // close-to-open: a reader sees the object as it is now
            }
            if ((flags & OpenFlags.O_TRUNC) != 0 && write) {
                writerFor(n, true).truncate(0);
                long now = nowNs();
                Attr a = n.attr;
                n.attr = new Attr(a.ino(), 0, 0, a.atimeNs(), now, now, a.mode(), a.nlink(), a.uid(), a.gid(),
                        a.rdev(), a.blksize());
            }
            n.opens++;
            // Same object as at the last open: the guest's cached pages are still right (close-to-open).
            keep = n.writer == null && n.etag != null && n.etag.equals(n.openedEtag);
            n.openedEtag = n.etag;
        }
        Handle h = new Handle(n, flags);
        if (!write) {
            headAhead.opened(parentOf(n.path), leafOf(n.path));
            synchronized (n) {
                h.body = n.writer == null ? headAhead.takeBody(fileKey(n.path), n.etag) : null;
                h.bodyEtag = n.etag;
            }
        }
        long fh = nextFh.getAndIncrement();
        handles.put(fh, h);
        return OpenResult.of(fh).withKeepCache(keep);
    }

    @Override
    public CreateResult create(RequestContext ctx, long parent, FileName name, int mode, int flags, int umask)
            throws FsException {
        requireWritable();
        S3Node dir = parentDir(parent);
        creatablePath(dir, name);
        FileType[] there = new FileType[1];
        CreateResult made = underNames(() -> new String[] {dir.path, child(dir.path, name)}, p -> {
            requireLive(dir);
            String path = creatablePath(dir, name);
            there[0] = whatIsAt(path);
            return there[0] == null ? createFile(ctx, path, mode, flags) : null;
        });
        if (made != null) {
            return made;
        }
        // open(O_CREAT) of an existing name opens it (O_EXCL: EEXIST); never replaces it
        if ((flags & OpenFlags.O_EXCL) != 0 || there[0] != FileType.REGULAR) {
            throw FsException.of(there[0] == FileType.DIRECTORY && (flags & OpenFlags.O_EXCL) == 0
                    ? Errno.EISDIR : Errno.EEXIST);
        }
        Entry e = lookup(ctx, parent, name);
        try {
            S3Node n = node(e.nodeId());
            boolean guessed;
            synchronized (n) {
                guessed = typeFromListing(n);
            }
            if (guessed) {
                refresh(n);   // a listing shows a symlink or a FIFO as a file: ESTALE if it is one
            }
            OpenResult opened = open(ctx, e.nodeId(), flags & ~OpenFlags.O_CREAT);
            synchronized (n) {
                return new CreateResult(new Entry(n.id, 0, currentAttr(n)), opened); // as O_TRUNC left it
            }
        } catch (FsException ex) {
            forget(e.nodeId(), 1);
            throw ex.errno() == Errno.ESTALE ? FsException.of(Errno.EEXIST, "not a regular file") : ex;
        }
    }

    /** A new, empty file at {@code path}, open; its object appears at flush. */
    private CreateResult createFile(RequestContext ctx, String path, int mode, int flags) throws FsException {
        S3Node n = bind(path, FileType.REGULAR);
        long now = nowNs();
        synchronized (n) {
            if (n.writer != null) {
                n.writer.discard();
            }
            n.writer = null;
            localOnly(n, true);
            n.unlinked = false;
            n.attr = new Attr(n.id, 0, 0, now, now, now, FileType.REGULAR.modeBits() | (mode & 07777), 1,
                    ctx.uid(), ctx.gid(), 0, BLKSIZE);
            n.otherMeta = Map.of();
            n.etag = null;
            writerFor(n, true);
            n.opens++;
        }
        added(path, false, 0, "");
        long fh = nextFh.getAndIncrement();
        handles.put(fh, new Handle(n, flags));
        return new CreateResult(entry(n), OpenResult.of(fh));
    }

    private Handle handle(long fh, S3Node n) throws FsException {
        Handle h = handles.get(fh);
        if (h == null || h.node != n) {
            throw FsException.of(Errno.EBADF);
        }
        return h;
    }

    /** An open file's handle: read(2) and write(2) of a directory's are EISDIR, as on Linux. */
    private Handle fileHandle(long fh, S3Node n) throws FsException {
        Handle h = handle(fh, n);
        if (h.isDirectory()) {
            throw FsException.of(Errno.EISDIR);
        }
        return h;
    }

    @Override
    public void read(RequestContext ctx, long node, long fh, long offset, ReadSink sink) throws FsException {
        S3Node n = node(node);
        Handle h = fileHandle(fh, n);
        ObjectReader reader;
        synchronized (n) {
            if (n.writer != null) {
                n.writer.read(offset, sink);
                return;
            }
            if (h.reader == null) {
                // bytes fetched ahead serve the handle only if the object is still the one they came from
                ByteBuffer whole = h.body != null && h.bodyEtag.equals(n.etag) && h.body.remaining() == n.attr.size()
                        ? h.body : null;
                h.body = null;
                h.reader = new ObjectReader(s3, o.bucket(), fileKey(n.path), n.etag, n.attr.size(), o, chunks, whole);
            }
            reader = h.reader;
        }
        reader.read(offset, sink);   // outside the node monitor: other handles read in parallel
    }

    @Override
    public int write(RequestContext ctx, long node, long fh, long offset, WriteSource data, boolean killSuidGid)
            throws FsException {
        requireWritable();
        S3Node n = node(node);
        Handle h = fileHandle(fh, n);
        if (!OpenFlags.isWritable(h.flags)) {
            throw FsException.of(Errno.EBADF);
        }
        synchronized (n) {
            FileWriter w = writerFor(n, false);
            long off = (h.flags & OpenFlags.O_APPEND) != 0 ? w.size() : offset;
            Attr a = n.attr;
            long now = nowNs();
            int mode = killSuidGid ? SetAttr.withoutSetuid(a.mode()) : a.mode();
            n.attr = new Attr(a.ino(), a.size(), a.blocks(), a.atimeNs(), now, now, mode, a.nlink(), a.uid(),
                    a.gid(), a.rdev(), a.blksize());
            Map<String, String> streamMeta = new HashMap<>(metaOf(n, n.attr));
            // A streamed object's mtime is its completion time (LastModified), not the first part's.
            streamMeta.remove(S3Metadata.MTIME);
            streamMeta.remove(S3Metadata.ATIME);
            streamMeta.remove(S3Metadata.CTIME);
            return w.write(off, data, fileKey(n.path), streamMeta);
        }
    }

    @Override
    public void flush(RequestContext ctx, long node, long fh, long lockOwner) throws FsException {
        S3Node n = node(node);
        LockTable locks = n.locksIfAny();
        if (locks != null) {
            locks.releaseOwner(lockOwner); // close(2) drops the process's POSIX locks, even if the upload fails
        }
        handle(fh, n);
        synchronized (n) {
            commit(n);
        }
    }

    @Override
    public void fsync(RequestContext ctx, long node, long fh, boolean datasync) throws FsException {
        S3Node n = node(node);
        synchronized (n) {
            commit(n);
        }
    }

    @Override
    public void release(RequestContext ctx, long node, long fh, int flags, long lockOwner) throws FsException {
        Handle h = handles.get(fh);
        if (h == null || h.isDirectory() || !handles.remove(fh, h)) {
            return; // a directory's handle is RELEASEDIR's to end, with its listing's count
        }
        S3Node n = h.node;
        if (h.reader != null) {
            h.reader.close();
        }
        LockTable locks = n.locksIfAny();
        if (locks != null) {
            locks.releaseFlock(fh);
        }
        try {
            synchronized (n) {
                n.opens--;
                commit(n);   // a failure keeps writer and staging file: the node stays pinned for a retry
                settle(n);
            }
        } finally {
            dropIfUnused(n);
        }
    }

    // ---------------------------------------------------------------- extended attributes

    // Stored as s3fs stores them (S3Xattrs: one x-amz-meta-xattr value), so either tool reads the
    // other's. They share S3's 2 KB of user metadata with the attributes: past it, ENOSPC.

    /** AWS's bound on one object's user metadata: keys and values, in UTF-8 bytes. */
    static final int USER_METADATA_MAX = 2048;

    @Override
    public byte[] getxattr(RequestContext ctx, long node, String name) throws FsException {
        S3Node n = node(node);
        XattrNames.check(ctx, n.type, name, false);
        synchronized (n) {
            byte[] v = xattrsOf(n).get(name);
            if (v == null) {
                throw FsException.of(Errno.ENODATA);
            }
            return v;
        }
    }

    @Override
    public List<String> listxattr(RequestContext ctx, long node) throws FsException {
        S3Node n = node(node);
        synchronized (n) {
            List<String> names = new ArrayList<>();
            for (String k : xattrsOf(n).keySet()) {
                if (XattrNames.listable(ctx, k)) {
                    names.add(k);
                }
            }
            return names;
        }
    }

    @Override
    public void setxattr(RequestContext ctx, long node, String name, byte[] value, int flags) throws FsException {
        requireWritable();
        S3Node n = node(node);
        if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) != 0) {
            throw FsException.of(Errno.EINVAL, "xattr flags " + flags);
        }
        XattrNames.check(ctx, n.type, name, true);
        if (!S3Xattrs.representable(name)) {
            throw FsException.of(Errno.EINVAL, "s3fs's xattr format cannot hold '\"' or ',' in a name");
        }
        if (value.length > XattrNames.SIZE_MAX) {
            throw FsException.of(Errno.E2BIG, "xattr value of " + value.length + " bytes");
        }
        underOwnName(n, () -> {
            TreeMap<String, byte[]> xs = xattrsOf(n);
            boolean present = xs.containsKey(name);
            if (present && (flags & XATTR_CREATE) != 0) {
                throw FsException.of(Errno.EEXIST);
            }
            if (!present && (flags & XATTR_REPLACE) != 0) {
                throw FsException.of(Errno.ENODATA);
            }
            xs.put(name, value.clone());
            storeXattrs(n, xs);
            return null;
        });
    }

    @Override
    public void removexattr(RequestContext ctx, long node, String name) throws FsException {
        requireWritable();
        S3Node n = node(node);
        XattrNames.check(ctx, n.type, name, true);
        underOwnName(n, () -> {
            TreeMap<String, byte[]> xs = xattrsOf(n);
            if (xs.remove(name) == null) {
                throw FsException.of(Errno.ENODATA);
            }
            storeXattrs(n, xs);
            return null;
        });
    }

    /** The node's xattrs (a copy), its metadata learned first if a listing was all we had; holds the monitor. */
    private TreeMap<String, byte[]> xattrsOf(S3Node n) throws FsException {
        learnMetadata(n);
        return S3Xattrs.decode(n.otherMeta == null ? null : n.otherMeta.get(S3Xattrs.KEY));
    }

    /** Writes the node's xattrs back with its attributes (ctime moves); holds the node's monitor. */
    private void storeXattrs(S3Node n, Map<String, byte[]> xs) throws FsException {
        Map<String, String> others = new HashMap<>(n.otherMeta == null ? Map.of() : n.otherMeta);
        String header = S3Xattrs.encode(xs);
        if (header == null) {
            others.remove(S3Xattrs.KEY);
        } else {
            others.put(S3Xattrs.KEY, header);
        }
        Attr a = currentAttr(n);
        Attr next = new Attr(a.ino(), a.size(), a.blocks(), a.atimeNs(), a.mtimeNs(), nowNs(), a.mode(), a.nlink(),
                a.uid(), a.gid(), a.rdev(), a.blksize());
        int bytes = 0;
        for (Map.Entry<String, String> e : metaOf(others, next).entrySet()) {
            bytes += e.getKey().getBytes(StandardCharsets.UTF_8).length + e.getValue().getBytes(StandardCharsets.UTF_8).length;
        }
        if (bytes > USER_METADATA_MAX) {
            throw FsException.of(Errno.ENOSPC, "xattrs would take the object's user metadata to " + bytes
                    + " bytes; S3 allows " + USER_METADATA_MAX);
        }
        Map<String, String> before = n.otherMeta;
        n.otherMeta = Map.copyOf(others);
        try {
            applyMetadata(n, next);
        } catch (FsException e) {
            n.otherMeta = before;
            throw e;
        }
    }

    // ---------------------------------------------------------------- locks

    // Locks live in this process: they are coherent between every guest and mount this gateway
    // serves, and mean nothing to other S3 clients (S3 has no locking to map them to).

    @Override
    public Lock getlk(RequestContext ctx, long node, long fh, Lock lock) throws FsException {
        return node(node).locks(lockWaits).test(lock);
    }

    @Override
    public void setlk(RequestContext ctx, long node, long fh, Lock lock, boolean sleep, boolean flock)
            throws FsException {
        node(node).locks(lockWaits).set(fh, lock, sleep, flock);
    }

    // ---------------------------------------------------------------- directories

    @Override
    public OpenResult opendir(RequestContext ctx, long node, int flags) throws FsException {
        S3Node n = dirNode(node);
        boolean removed;
        synchronized (n) {
            removed = n.unlinked;
        }
        // A directory removed while the guest held it (a cwd) lists empty, as on Linux; its path may
        // name another directory by now, whose listing is not its own.
        ConcurrentSkipListMap<FileName, Listed> l = removed ? new ConcurrentSkipListMap<>() : cachedListing(n.path);
        boolean overtaken = false;
        if (l == null) {
            Fetched f = list(n.path);
            l = f.entries();
            overtaken = f.overtaken();   // then it serves this handle only: no lookup answers from it
        }
        ConcurrentSkipListMap<FileName, Listed> listing = l;
        boolean stale = overtaken;
        if (!removed) {
            openListings.compute(n.path, (p, open) -> {
                OpenListing r = open != null && !open.stale && open.entries == listing ? open
                        : new OpenListing(listing, stale);
                if (open != null && r != open) {
                    r.handles = open.handles;   // other handles of this directory share the fresher snapshot
                }
                r.handles++;
                return r;
            });
        }
        List<DirEntry> snap = new ArrayList<>(l.size() + 2);
        String up = parentOf(n.path);
        snap.add(new DirEntry(FileName.literal("."), n.id, FileType.DIRECTORY, 1));
        snap.add(new DirEntry(FileName.literal(".."), n.id == ROOT_ID ? ROOT_ID : idFor(up), FileType.DIRECTORY, 2));
        for (Listed e : l.values()) {
            String p = child(n.path, e.name());
            FileType t = FileType.DIRECTORY;
            if (!e.dir()) {
                S3Node known = byPath.get(p);
                t = known != null && known.type != FileType.DIRECTORY ? known.type : FileType.REGULAR;
            }
            snap.add(new DirEntry(e.name(), idFor(p), t, snap.size() + 1));
        }
        long fh = nextFh.getAndIncrement();
        Handle h = new Handle(n, flags);
        h.snapshot = snap;
        h.dirPath = removed ? null : n.path; // no open listing to count down at RELEASEDIR
        handles.put(fh, h);
        return OpenResult.of(fh);
    }

    @Override
    public void readdir(RequestContext ctx, long node, long fh, long cookie, DirSink sink) throws FsException {
        Handle h = handle(fh, dirNode(node));
        List<DirEntry> snap = h.snapshot;
        if (snap == null) {
            throw FsException.of(Errno.EBADF);
        }
        for (long i = Math.max(0, cookie); i < snap.size(); i++) {
            if (!sink.add(snap.get((int) i))) {
                return;
            }
        }
    }

    @Override
    public void releasedir(RequestContext ctx, long node, long fh) {
        Handle h = handles.get(fh);
        // A file's handle is RELEASE's: ended here, its node would count an open for good and keep
        // its staging file.
        if (h == null || !h.isDirectory() || !handles.remove(fh, h) || h.dirPath == null) {
            return;
        }
        openListings.computeIfPresent(h.dirPath, (p, open) -> {
            if (--open.handles > 0) {
                return open;
            }
            if (!open.stale) {
                remember(p, open.entries);   // trusted for one more TTL after the last close
            }
            return null;
        });
    }

    @Override
    public StatFs statfs(RequestContext ctx, long node) {
        long blocks = 1L << 40;   // 4 PiB of 4 KiB blocks: "unlimited", as s3fs reports
        return new StatFs(blocks, blocks, blocks, 1L << 40, 1L << 40, 4096, FileName.MAX_LENGTH, 4096);
    }

    /** Drops the staging file of a closed node whose data is in S3 (or no longer wanted); holds the monitor. */
    private void settle(S3Node n) {
        if (n.opens == 0 && n.writer != null && (!n.writer.dirty() || n.unlinked)) {
            n.writer.discard();
            n.writer = null;
        }
    }

    @Override
    public void syncfs(RequestContext ctx) throws FsException {
        FsException first = null;
        for (S3Node n : nodes.values()) {
            synchronized (n) {
                try {
                    commit(n);
                    settle(n);   // a close that failed earlier left the staging file; now it is uploaded
                } catch (FsException e) {
                    first = first == null ? e : first;
                }
            }
            dropIfUnused(n);
        }
        if (first != null) {
            throw first;
        }
    }

    /** Uploads everything still staged; what fails stays in the staging directory and is logged. */
    @Override
    public void close() throws FsException {
        try {
            syncfs(RequestContext.ROOT);
        } finally {
            for (S3Node n : nodes.values()) {
                synchronized (n) {
                    if (n.writer != null) {
                        if (n.writer.dirty()) {
                            LOG.error("{} was not uploaded; its data is kept in {}", fileKey(n.path), n.writer.staging);
                            n.writer.abandon();
                        } else {
                            n.writer.discard();
                        }
                        n.writer = null;
                    }
                }
            }
            if (ownsClient) {
                s3.close();
            }
            cacheDirLock.close();
        }
    }

    /** For tests: the chunk cache, or null. */
    ChunkCache chunkCache() {
        return chunks;
    }

    /** For tests: the staging file of a node, or null. */
    Path stagingFileOf(long node) {
        S3Node n = nodes.get(node);
        if (n == null) {
            return null;
        }
        synchronized (n) {
            return n.writer == null ? null : n.writer.staging;
        }
    }
}
