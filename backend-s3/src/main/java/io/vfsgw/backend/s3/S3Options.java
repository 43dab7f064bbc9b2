package io.vfsgw.backend.s3;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import software.amazon.awssdk.services.s3.model.StorageClass;

/**
 * Everything the S3 backend can be told. Build with {@link #builder(String)}; every field but the
 * bucket has a default that works against AWS.
 *
 * @param bucket          bucket name (must exist; checked at start)
 * @param prefix          key prefix the tree lives under ("" or ending in '/'; a missing '/' is added)
 * @param endpoint        endpoint override (S3Proxy, MinIO, ...), or null for AWS
 * @param region          signing region
 * @param pathStyle       path-style addressing (http://host/bucket/key), needed by most non-AWS servers
 * @param readonly        refuse every mutation with EROFS
 * @param cacheDir        where staging files of files being written live (one per dirty file)
 * @param accessKeyId     static credentials, or null for the SDK's default chain (env, profile, role)
 * @param secretAccessKey static credentials, or null
 * @param defaultUid      owner of objects without x-amz-meta-uid
 * @param defaultGid      group of objects without x-amz-meta-gid
 * @param partSize        multipart part size for uploads and the largest read-ahead GET
 * @param maxInflightParts parts uploading at once per file; read-ahead parts in flight per handle
 * @param readAheadMax    the largest read-ahead window per handle, bytes
 * @param listPageSize    max-keys of each ListObjectsV2 page (1..1000)
 * @param maxRenameKeys   a directory rename copying more keys than this fails with EMLINK
 * @param maxConnections  connection pool size of the HTTP client
 * @param maxRetries      retries (with backoff) on throttling, 5xx and I/O errors
 * @param attemptTimeout  timeout of one HTTP attempt
 * @param callTimeout     timeout of one call including its retries
 * @param metadataTtl     how long attributes, listings and negative lookups are trusted
 * @param listingLookups  answer lookups from a recent listing without a HEAD (see docs/s3.md)
 * @param cacheSize       bytes of the on-disk chunk cache of object data under cacheDir/chunks (0: off)
 * @param chunkSize       size of one chunk of that cache
 * @param httpClient      which async client implementation talks HTTP (docs/s3-client-choice.md)
 * @param maxParts        the store's limit on parts per multipart upload (S3: 10,000); uploads use
 *                        larger parts than partSize when a file needs more
 * @param trustListedAttrs show a file known only from a listing with the default mode and owner for
 *                        metadataTtl instead of reading its metadata at the first stat (faster
 *                        find/du; right only when objects carry no mode/owner metadata; docs/s3.md)
 * @param uploadChecksums whether uploads carry the SDK's streaming CRC32 checksum (docs/s3.md#upload-checksums)
 * @param anonymous       send requests unsigned, without looking for credentials (public buckets)
 * @param storageClass    storage class of every object written or copied, or null for the bucket's default
 * @param sse             server-side encryption of every object written or copied (AES256, aws:kms,
 *                        aws:kms:dsse), or null for the bucket's default
 * @param sseKmsKeyId     the KMS key of aws:kms encryption, or null for the account's default key
 */
public record S3Options(String bucket, String prefix, URI endpoint, String region, boolean pathStyle,
                        boolean readonly, Path cacheDir, String accessKeyId, String secretAccessKey,
                        int defaultUid, int defaultGid, int partSize, int maxInflightParts, long readAheadMax,
                        int listPageSize, int maxRenameKeys, int maxConnections, int maxRetries,
                        Duration attemptTimeout, Duration callTimeout, Duration metadataTtl,
                        boolean listingLookups, long cacheSize, int chunkSize, HttpClient httpClient,
                        int maxParts, boolean trustListedAttrs, UploadChecksums uploadChecksums,
                        boolean anonymous, String storageClass, String sse, String sseKmsKeyId) {

    /** The two implementations behind {@code S3AsyncClient}; the backend sees only the interface. */
    public enum HttpClient {
        /** {@code S3AsyncClient.builder()} over the Netty NIO HTTP client (pure Java). */
        NETTY,
        /** {@code S3AsyncClient.crtBuilder()}: the AWS Common Runtime (native, bundled in aws-crt). */
        CRT
    }

    /**
     * Whether PutObject and UploadPart carry a CRC32 checksum. The SDK (since 2.30) sends it as a
     * trailer of an {@code aws-chunked} body, which S3 checks but which servers that predate it
     * reject or, worse, store framing and all as the object's bytes (s3rver does).
     */
    public enum UploadChecksums {
        /** ON against AWS (no endpoint), OFF against any other server. */
        AUTO,
        ON,
        /** Only where an operation requires one (DeleteObjects), as the SDK did before 2.30. */
        OFF
    }

    /** The server-side encryptions a request may ask for (SSE-C, with keys of the client's, is not offered). */
    public static final java.util.List<String> SSE_KINDS = java.util.List.of("AES256", "aws:kms", "aws:kms:dsse");

    /** S3 refuses parts under 5 MiB (except the last). */
    public static final int MIN_PART_SIZE = 5 << 20;

    public S3Options {
        Objects.requireNonNull(bucket, "bucket");
        if (bucket.isBlank()) {
            throw new IllegalArgumentException("S3 bucket name is empty: pass --s3-bucket NAME");
        }
        prefix = prefix == null ? "" : prefix.replaceAll("^/+", "");
        if (!prefix.isEmpty() && !prefix.endsWith("/")) {
            prefix = prefix + "/";
        }
        region = region == null || region.isBlank() ? "us-east-1" : region;
        cacheDir = cacheDir == null ? Path.of(System.getProperty("java.io.tmpdir"), "vfsgw-s3") : cacheDir;
        if (partSize < MIN_PART_SIZE) {
            throw new IllegalArgumentException("S3 part size " + partSize + " is under 5 MiB, the S3 minimum");
        }
        if (listPageSize < 1 || listPageSize > 1000) {
            throw new IllegalArgumentException("S3 list page size must be 1..1000, not " + listPageSize);
        }
        if ((accessKeyId == null) != (secretAccessKey == null)) {
            throw new IllegalArgumentException("give both S3 access key id and secret key, or neither");
        }
        if (storageClass != null && StorageClass.fromValue(storageClass) == StorageClass.UNKNOWN_TO_SDK_VERSION) {
            throw new IllegalArgumentException("unknown S3 storage class '" + storageClass + "': one of "
                    + StorageClass.knownValues());
        }
        if (sse != null && !SSE_KINDS.contains(sse)) {
            throw new IllegalArgumentException("unknown S3 server-side encryption '" + sse + "': one of " + SSE_KINDS);
        }
        if (sseKmsKeyId != null && (sse == null || !sse.startsWith("aws:kms"))) {
            throw new IllegalArgumentException("a KMS key id needs aws:kms or aws:kms:dsse encryption");
        }
        if (anonymous && accessKeyId != null) {
            throw new IllegalArgumentException("unsigned (anonymous) requests and an access key exclude each other");
        }
        if (cacheSize < 0 || chunkSize < 4096) {
            throw new IllegalArgumentException("S3 cache size must be >= 0 and chunk size >= 4 KiB, not "
                    + cacheSize + " / " + chunkSize);
        }
        if (maxParts < 2 || maxParts > Uploads.MAX_PARTS) {
            throw new IllegalArgumentException("S3 parts per upload must be 2.." + Uploads.MAX_PARTS + ", not " + maxParts);
        }
        maxInflightParts = Math.max(1, maxInflightParts);
        maxConnections = Math.max(maxInflightParts * 2, maxConnections);
        httpClient = httpClient == null ? Builder.DEFAULT_HTTP_CLIENT : httpClient;
        uploadChecksums = uploadChecksums == null ? UploadChecksums.AUTO : uploadChecksums;
    }

    /** Whether uploads carry checksums, {@link UploadChecksums#AUTO} resolved by the endpoint. */
    public boolean checksumsOnUploads() {
        return uploadChecksums == UploadChecksums.ON || (uploadChecksums == UploadChecksums.AUTO && endpoint == null);
    }

    public static Builder builder(String bucket) {
        return new Builder(bucket);
    }

    public Builder toBuilder() {
        Builder b = new Builder(bucket);
        b.prefix = prefix;
        b.endpoint = endpoint;
        b.region = region;
        b.pathStyle = pathStyle;
        b.readonly = readonly;
        b.cacheDir = cacheDir;
        b.accessKeyId = accessKeyId;
        b.secretAccessKey = secretAccessKey;
        b.defaultUid = defaultUid;
        b.defaultGid = defaultGid;
        b.partSize = partSize;
        b.maxInflightParts = maxInflightParts;
        b.readAheadMax = readAheadMax;
        b.listPageSize = listPageSize;
        b.maxRenameKeys = maxRenameKeys;
        b.maxConnections = maxConnections;
        b.maxRetries = maxRetries;
        b.attemptTimeout = attemptTimeout;
        b.callTimeout = callTimeout;
        b.metadataTtl = metadataTtl;
        b.listingLookups = listingLookups;
        b.cacheSize = cacheSize;
        b.chunkSize = chunkSize;
        b.httpClient = httpClient;
        b.maxParts = maxParts;
        b.trustListedAttrs = trustListedAttrs;
        b.uploadChecksums = uploadChecksums;
        b.anonymous = anonymous;
        b.storageClass = storageClass;
        b.sse = sse;
        b.sseKmsKeyId = sseKmsKeyId;
        return b;
    }

    /** Mutable builder with the defaults. */
    public static final class Builder {
        /** Chosen by measurement against S3Proxy: docs/s3-client-choice.md. */
        static final HttpClient DEFAULT_HTTP_CLIENT = HttpClient.CRT;

        private final String bucket;
        private String prefix = "";
        private URI endpoint;
        private String region = "us-east-1";
        private boolean pathStyle;
        private boolean readonly;
        private Path cacheDir;
        private String accessKeyId;
        private String secretAccessKey;
        private int defaultUid = currentId("uid");
        private int defaultGid = currentId("gid");
        private int partSize = 8 << 20;
        private int maxInflightParts = 4;
        private long readAheadMax = 64L << 20;
        private int listPageSize = 1000;
        private int maxRenameKeys = 10_000;
        private int maxConnections = 64;
        private int maxRetries = 4;
        private Duration attemptTimeout = Duration.ofSeconds(60);
        private Duration callTimeout = Duration.ofMinutes(5);
        private Duration metadataTtl = Duration.ofSeconds(1);
        private boolean listingLookups = true;
        private long cacheSize = 1L << 30;
        private int chunkSize = 1 << 20;
        private HttpClient httpClient = DEFAULT_HTTP_CLIENT;
        private int maxParts = Uploads.MAX_PARTS;
        private boolean trustListedAttrs;
        private UploadChecksums uploadChecksums = UploadChecksums.AUTO;
        private boolean anonymous;
        private String storageClass;
        private String sse;
        private String sseKmsKeyId;

        private Builder(String bucket) {
            this.bucket = bucket;
        }

        public Builder prefix(String v) { prefix = v; return this; }
        public Builder endpoint(URI v) { endpoint = v; return this; }
        public Builder region(String v) { region = v; return this; }
        public Builder pathStyle(boolean v) { pathStyle = v; return this; }
        public Builder readonly(boolean v) { readonly = v; return this; }
        public Builder cacheDir(Path v) { cacheDir = v; return this; }
        public Builder credentials(String keyId, String secret) { accessKeyId = keyId; secretAccessKey = secret; return this; }
        public Builder defaultOwner(int uid, int gid) { defaultUid = uid; defaultGid = gid; return this; }
        public Builder partSize(int v) { partSize = v; return this; }
        public Builder maxInflightParts(int v) { maxInflightParts = v; return this; }
        public Builder readAheadMax(long v) { readAheadMax = v; return this; }
        public Builder listPageSize(int v) { listPageSize = v; return this; }
        public Builder maxRenameKeys(int v) { maxRenameKeys = v; return this; }
        public Builder maxConnections(int v) { maxConnections = v; return this; }
        public Builder maxRetries(int v) { maxRetries = v; return this; }
        public Builder attemptTimeout(Duration v) { attemptTimeout = v; return this; }
        public Builder callTimeout(Duration v) { callTimeout = v; return this; }
        public Builder metadataTtl(Duration v) { metadataTtl = v; return this; }
        public Builder listingLookups(boolean v) { listingLookups = v; return this; }
        public Builder cacheSize(long v) { cacheSize = v; return this; }
        public Builder chunkSize(int v) { chunkSize = v; return this; }
        public Builder httpClient(HttpClient v) { httpClient = v; return this; }
        public Builder maxParts(int v) { maxParts = v; return this; }
        public Builder trustListedAttrs(boolean v) { trustListedAttrs = v; return this; }
        public Builder uploadChecksums(UploadChecksums v) { uploadChecksums = v; return this; }
        public Builder anonymous(boolean v) { anonymous = v; return this; }
        public Builder storageClass(String v) { storageClass = v; return this; }
        public Builder serverSideEncryption(String kind, String kmsKeyId) { sse = kind; sseKmsKeyId = kmsKeyId; return this; }

        public S3Options build() {
            return new S3Options(bucket, prefix, endpoint, region, pathStyle, readonly, cacheDir, accessKeyId,
                    secretAccessKey, defaultUid, defaultGid, partSize, maxInflightParts, readAheadMax, listPageSize,
                    maxRenameKeys, maxConnections, maxRetries, attemptTimeout, callTimeout, metadataTtl,
                    listingLookups, cacheSize, chunkSize, httpClient, maxParts, trustListedAttrs, uploadChecksums, anonymous,
                    storageClass, sse, sseKmsKeyId);
        }

        /** The mounting user's uid/gid: the owner of /proc/self is this process's user. */
        private static int currentId(String which) {
            try {
                Object v = java.nio.file.Files.getAttribute(Path.of("/proc/self"), "unix:" + which);
                return (Integer) v;
            } catch (Exception | Error e) {
                return 0;
            }
        }
    }
}
