package io.vfsgw.cli;

import com.google.inject.Module;
import io.vfsgw.backend.mem.MemModule;
import io.vfsgw.backend.mem.MemOptions;
import io.vfsgw.backend.posix.IdMap;
import io.vfsgw.backend.posix.PosixModule;
import io.vfsgw.backend.posix.PosixOptions;
import io.vfsgw.backend.posix.XattrMap;
import io.vfsgw.backend.s3.S3Module;
import io.vfsgw.backend.s3.S3Options;
import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.CacheMode;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The --backend selector and every backend's prefixed options; turns them into the backend's Guice module. */
public final class BackendOptions {
    /** The storage backends vfsgw can serve. */
    public enum Kind { mem, posix, s3 }

    @Option(names = "--backend", paramLabel = "mem|posix|s3",
            description = "Storage backend: mem = RAM tree, posix = a host directory, s3 = a bucket (default: posix"
                    + " when --source is given, s3 when --bucket is, else mem).")
    Kind backend;   // null: not given, see kind()

    // ---- mem ----
    @Option(names = "--mem-size", paramLabel = "SIZE", defaultValue = "1G", converter = SizeConverter.class,
            description = "mem: capacity; writes beyond it fail with ENOSPC (default: ${DEFAULT-VALUE}).")
    long memSize;

    @Option(names = "--mem-inodes", paramLabel = "N", defaultValue = "1048576",
            description = "mem: maximum number of files and directories (default: ${DEFAULT-VALUE}).")
    long memInodes;

    // ---- posix ----
    @Option(names = "--source", paramLabel = "DIR", description = "posix: the host directory to expose.")
    Path source;

    @Option(names = "--readonly", description = "posix, s3: refuse every change with EROFS.")
    boolean readonly;

    @Option(names = "--xattr", paramLabel = "on|off", defaultValue = "on", arity = "0..1", fallbackValue = "on",
            description = "posix: pass extended attributes through (default: ${DEFAULT-VALUE}; alone, as virtiofsd"
                    + " takes it: on).")
    String xattr;

    @Option(names = "--allow-devices", description = "posix: let the guest create device nodes.")
    boolean allowDevices;

    @Option(names = "--allow-direct-io", description = "posix: honour O_DIRECT on the host.")
    boolean allowDirectIo;

    @Option(names = "--uid-map", paramLabel = "GUEST:HOST:COUNT",
            description = "posix: map guest uids to host uids (repeatable); unmapped ids are refused (EPERM).")
    java.util.List<String> uidMap = new java.util.ArrayList<>();

    @Option(names = "--gid-map", paramLabel = "GUEST:HOST:COUNT",
            description = "posix: map guest gids to host gids (repeatable).")
    java.util.List<String> gidMap = new java.util.ArrayList<>();

    @Option(names = "--xattrmap", paramLabel = "RULES",
            description = "posix: rename xattrs between guest and host, virtiofsd's rule syntax "
                    + "(e.g. ':prefix:all::user.virtiofs.::bad:all:::').")
    String xattrMap;

    @Option(names = "--inode-file-handles", paramLabel = "never|prefer|mandatory", defaultValue = "prefer",
            description = "posix: past the --max-fds budget, idle nodes keep a file handle instead of an fd "
                    + "(needs CAP_DAC_READ_SEARCH; mandatory: fail at start without it) (default: ${DEFAULT-VALUE}).")
    String inodeFileHandles;

    @Option(names = "--max-fds", paramLabel = "N", defaultValue = "0",
            description = "posix: fds idle nodes may keep before trading them for file handles "
                    + "(default: half the open-files limit).")
    int maxFds;

    @Option(names = "--posix-acl", description = "posix: POSIX ACLs: system.posix_acl_* pass through and the guest "
            + "kernel enforces them (FUSE_POSIX_ACL; the umask or a default ACL is applied on the host).")
    boolean posixAcl;

    // ---- s3 ----
    @Option(names = {"--bucket", "--s3-bucket"}, paramLabel = "NAME", description = "s3: the bucket to expose.")
    String bucket;

    @Option(names = {"--prefix", "--s3-prefix"}, paramLabel = "P", defaultValue = "",
            description = "s3: expose only keys under this prefix.")
    String prefix;

    @Option(names = {"--endpoint", "--s3-endpoint"}, paramLabel = "URL", converter = EndpointConverter.class,
            description = "s3: endpoint of an S3-compatible server (MinIO, Ceph RGW...); default AWS.")
    URI endpoint;

    @Option(names = {"--region", "--s3-region"}, paramLabel = "R", defaultValue = "us-east-1",
            description = "s3: signing region (default: ${DEFAULT-VALUE}).")
    String region;

    @Option(names = {"--path-style", "--s3-path-style"}, description = "s3: path-style addressing (most non-AWS servers).")
    boolean pathStyle;

    @Option(names = {"--no-sign-request", "--s3-no-sign-request"},
            description = "s3: send requests unsigned, without credentials: a public bucket (add --readonly"
                    + " unless the bucket takes anonymous writes).")
    boolean noSignRequest;

    @Mixin
    S3WriteOptions writes = new S3WriteOptions();

    @Option(names = {"--cache-dir", "--s3-cache-dir"}, paramLabel = "DIR",
            description = "s3: where staging files of files being written and the chunk cache live.")
    Path cacheDir;

    @Option(names = "--s3-http-client", paramLabel = "crt|netty", defaultValue = "crt",
            description = "s3: the HTTP client: crt (AWS Common Runtime, native, faster) or netty (pure Java)"
                    + " (default: ${DEFAULT-VALUE}).")
    String s3HttpClient;

    @Option(names = "--s3-part-size", paramLabel = "SIZE", defaultValue = "8M", converter = SizeConverter.class,
            description = "s3: multipart part size of uploads and the largest read-ahead GET, at least 5M"
                    + " (default: ${DEFAULT-VALUE}).")
    long s3PartSize;

    @Option(names = "--s3-inflight-parts", paramLabel = "N", defaultValue = "4",
            description = "s3: parts uploading at once per file being written, and read-ahead GETs in flight per"
                    + " file being read (default: ${DEFAULT-VALUE}).")
    int s3InflightParts;

    @Option(names = "--s3-trust-listings",
            description = "s3: show a file seen only in a listing with the default mode and owner (0644, root)"
                    + " instead of reading its metadata at its first stat: find and du over large buckets then"
                    + " cost no request per file, but files whose metadata says otherwise (written by vfsgw or"
                    + " s3fs with another mode or owner) show, and are permission-checked with, the defaults"
                    + " for --cache-timeout.")
    boolean s3TrustListings;

    @Option(names = {"--cache-size", "--s3-cache-size"}, paramLabel = "SIZE", defaultValue = "1G",
            converter = CacheSizeConverter.class,
            description = "s3: on-disk cache of object data under --cache-dir, shared by all open files; 0 turns it off "
                    + "(default: ${DEFAULT-VALUE}).")
    long cacheSize;

    /** A size, or 0 (which {@link SizeConverter} refuses) to turn the cache off. */
    static final class CacheSizeConverter implements picocli.CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return "0".equals(value.trim()) ? 0L : new SizeConverter().convert(value);
        }
    }

    /** The backend: --backend, else the one whose required option was given (--source, --bucket), else mem. */
    public Kind kind() {
        if (backend != null) {
            return backend;
        }
        return source != null ? Kind.posix : bucket != null ? Kind.s3 : Kind.mem;
    }

    /**
     * The Guice module of the chosen backend; a missing required option is a one-line SetupException.
     * {@code cache} is the engine's: the s3 backend trusts what S3 told it (listings, HEADs, misses)
     * as long as the kernel trusts what vfsgw tells it.
     */
    public Module module(CacheConfig cache) {
        Kind kind = kind();
        if (source != null && bucket != null && backend == null) {
            throw new SetupException("--source (posix) and --bucket (s3) name two backends: give one, or --backend");
        }
        if (source != null && kind != Kind.posix) {
            throw new SetupException("--source is an option of --backend posix, not --backend " + kind);
        }
        if (bucket != null && kind != Kind.s3) {
            throw new SetupException("--bucket is an option of --backend s3, not --backend " + kind);
        }
        return switch (kind) {
            case mem -> {
                // File data lives off the heap, in memory the kernel charges to this process: a
                // --mem-size beyond what the machine (or our cgroup) has would end in the OOM killer.
                long physical = MemoryLimit.bytes();
                if (memSize > physical) {
                    throw new SetupException(String.format("--mem-size %d MiB is more than the memory this process may use"
                            + " (%d MiB, the smaller of MemTotal and the cgroup's memory.max); lower --mem-size",
                            memSize >> 20, physical >> 20));
                }
                yield new MemModule(new MemOptions(memSize, memInodes));
            }
            case posix -> {
                if (source == null) {
                    throw new SetupException("--backend posix needs --source DIR: the host directory to share");
                }
                if (!xattr.equalsIgnoreCase("on") && !xattr.equalsIgnoreCase("off")) {
                    throw new SetupException("--xattr takes on or off, not '" + xattr + "'");
                }
                try {
                    PosixOptions o = PosixOptions.of(source.toAbsolutePath()).withReadonly(readonly)
                            .withXattr(!"off".equalsIgnoreCase(xattr)).withAllowDevices(allowDevices)
                            .withAllowDirectIo(allowDirectIo)
                            .withIdMaps(IdMap.parse(uidMap), IdMap.parse(gidMap))
                            .withXattrMap(xattrMap == null ? null : XattrMap.parse(xattrMap))
                            .withFileHandles(PosixOptions.InodeFileHandles.parse(inodeFileHandles), maxFds)
                            .withPosixAcl(posixAcl);
                    o.checkSource();
                    yield new PosixModule(o);
                } catch (IllegalArgumentException e) {
                    throw new SetupException(e.getMessage());
                }
            }
            case s3 -> {
                if (bucket == null || bucket.isBlank()) {
                    throw new SetupException("--backend s3 needs --bucket NAME (and --endpoint URL for a non-AWS server)");
                }
                S3Options.Builder b = S3Options.builder(bucket).prefix(prefix).endpoint(endpoint).region(region)
                        .pathStyle(pathStyle).readonly(readonly).cacheSize(cacheSize)
                        .httpClient(httpClient()).partSize(s3PartSize()).maxInflightParts(s3InflightParts())
                        .trustListedAttrs(s3TrustListings).anonymous(noSignRequest)
                        .metadataTtl(s3MetadataTtl(cache));
                writes.applyTo(b);
                if (cacheDir != null) {
                    b.cacheDir(cacheDir);
                }
                try {
                    yield new S3Module(b.build());
                } catch (IllegalArgumentException e) {
                    throw new SetupException(e.getMessage());
                }
            }
        };
    }

    /**
     * True when sessions must negotiate POSIX ACLs ({@code InitPolicy.withPosixAcl}): only the posix
     * backend with --posix-acl stores them and applies the umask the kernel then hands over.
     */
    public boolean posixAcl() {
        return kind() == Kind.posix && posixAcl;
    }

    /** --cache-timeout under auto, a day under always; under none (the kernel caches nothing) still 1 s. */
    static Duration s3MetadataTtl(CacheConfig cache) {
        return cache.mode() == CacheMode.NONE ? Duration.ofSeconds(1) : cache.timeout();
    }

    private int s3PartSize() {
        if (s3PartSize < S3Options.MIN_PART_SIZE || s3PartSize > (1L << 30)) {
            throw new SetupException("--s3-part-size must be between 5M (the S3 minimum) and 1G, not " + s3PartSize);
        }
        return (int) s3PartSize;
    }

    private int s3InflightParts() {
        if (s3InflightParts < 1 || s3InflightParts > 64) {
            throw new SetupException("--s3-inflight-parts must be between 1 and 64, not " + s3InflightParts);
        }
        return s3InflightParts;
    }

    private S3Options.HttpClient httpClient() {
        try {
            return S3Options.HttpClient.valueOf(s3HttpClient.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new SetupException("--s3-http-client must be crt or netty, not '" + s3HttpClient + "'");
        }
    }

    /** A short description for start-up messages, e.g. "mem (1 GiB)" or "posix /srv/share". */
    public String describe() {
        return switch (kind()) {
            case mem -> "mem (" + (memSize >> 20) + " MiB)";
            case posix -> "posix " + source;
            case s3 -> "s3 " + bucket + (prefix.isEmpty() ? "" : "/" + prefix) + (endpoint == null ? "" : " at " + endpoint);
        };
    }
}
