package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfsgw.cache.CacheCoherence;
import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.MetadataCache;
import io.vfsgw.fuse.Dirent;
import io.vfsgw.fuse.EntryOut;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.session.FuseHarness;
import io.vfsgw.session.FuseWireBackend;
import io.vfsgw.session.GuestLink;
import io.vfsgw.session.HostileGuests;
import io.vfsgw.session.FuseSession;
import io.vfsgw.session.SessionConfig;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.HostileCalls;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.StorageBackend;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * A hostile guest at random ({@link HostileCalls}) against the S3 backend on Adobe S3Mock (S3Proxy's
 * file-system store cannot hold an object and a prefix of the same name, which a random sequence
 * soon makes, nor names that are not ASCII): every failure an errno, and nothing lost. Once the guest
 * has released and forgotten everything, or gone away with files open, a fresh gateway
 * on the same bucket prefix sees exactly the tree the fuzzed one showed (names, types, sizes,
 * contents, symlink targets), and no staging file is left behind: every file the guest wrote, on
 * whatever path, reached the bucket.
 */
class S3BackendFuzzIT {
    private static final List<String> NAMES = List.of(".", "..", "a", "b", "d", "f", "x".repeat(255), "\u00e9t\u00e9");
    private static final List<String> SYMLINK_TARGETS = List.of("/", "..", "a", "");
    /** S3 stores whole objects: a 1 TiB sparse file would be uploaded whole. */
    private static final long S3_FAR_OFFSET = 3L << 20;

    private static S3MockFixture server;
    private static S3AsyncClient client;

    @TempDir
    Path cache;
    @TempDir
    Path freshCache;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3MockFixture.start();
        client = server.client();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @CsvSource({"1, false", "2, false", "3, true"})
    void randomHostileSequencesFailWithErrnosAndLoseNothing(long seed, boolean guestGoesAway) throws Exception {
        String prefix = "fuzz-" + seed + "-" + System.nanoTime() + "/";
        Map<String, String> seen;
        S3Backend fuzzed = new S3Backend(server.options(cache).prefix(prefix).build(), client);
        try {
            // A guest that goes away sends FUSE requests through a session, which is closed with
            // handles open (files being written among them) and references held.
            StorageBackend guest = guestGoesAway ? new FuseWireBackend(new FuseSession(
                    new MetadataCache(fuzzed, CacheConfig.defaults()), SessionConfig.defaults("fuzz")), seed) : fuzzed;
            HostileCalls calls = new HostileCalls(guest, seed, new HostileCalls.Checks() { }, NAMES, SYMLINK_TARGETS)
                    .farOffset(S3_FAR_OFFSET);
            calls.run(HostileCalls.CALLS / 2);
            System.out.println("s3 fuzz, seed " + seed + (guestGoesAway ? " through a session that closes" : "")
                    + ": " + calls.summary());
            if (guest instanceof FuseWireBackend wire) {
                assertEquals(0, wire.bugCount(), "requests hit an unexpected exception in the session");
                wire.close();
            } else {
                calls.releaseAndForgetEverything();
            }
            seen = tree(fuzzed);
        } finally {
            fuzzed.close();
        }
        assertNothingLost(prefix, seen);
    }

    /**
     * Two hostile guests at once, each of two processes, each guest through its own session on one
     * shared cache and backend, as `vfsgw serve` runs them, then both go away with files open: races
     * between them end in errnos, and a fresh gateway sees what they left, with nothing left staged.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1})
    void twoHostileGuestsAtOnceLoseNothing(long seed) throws Exception {
        String prefix = "two-" + seed + "-" + System.nanoTime() + "/";
        Map<String, String> seen;
        S3Backend fuzzed = new S3Backend(server.options(cache).prefix(prefix).build(), client);
        try {
            List<HostileGuests.Guest> guests = HostileGuests.runAtOnce(GuestLink.IN_PROCESS, new MetadataCache(fuzzed, CacheConfig.defaults()),
                    seed, 2, 2, HostileCalls.CALLS / 2, (session, guestSeed) -> new HostileCalls(session, guestSeed,
                            new HostileCalls.Checks() { }, NAMES, SYMLINK_TARGETS).farOffset(S3_FAR_OFFSET));
            HostileGuests.leave(guests, false);
            seen = tree(fuzzed);
        } finally {
            fuzzed.close();
        }
        assertNothingLost(prefix, seen);
    }

    /** No staging file is left (every write reached the bucket), and a fresh gateway on the prefix sees {@code seen}. */
    private void assertNothingLost(String prefix, Map<String, String> seen) throws Exception {
        try (Stream<Path> staged = Files.walk(cache.resolve("staging"))) {
            assertEquals(List.of(), staged.filter(Files::isRegularFile).toList(), "staging files left behind");
        }
        S3Backend fresh = new S3Backend(server.options(freshCache).prefix(prefix).build(), client);
        try {
            assertEquals(seen, tree(fresh), "a fresh gateway on the bucket sees another tree");
        } finally {
            fresh.close();
        }
    }

    /**
     * The metadata cache over the S3 backend, its clock stopped so nothing it caches expires: after
     * random calls made through it, what it answers (each node's attributes, each name's lookup)
     * must be what the backend answers, as over mem and posix ({@code CacheCoherence}). The backend's
     * own listing and negative caches sit under it, so this also checks that the two layers agree.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2})
    void whatTheMetadataCacheAnswersIsWhatTheBackendHolds(long seed) throws Exception {
        String prefix = "coherence-" + seed + "-" + System.nanoTime() + "/";
        CacheCoherence.afterRandomCalls(new S3Backend(server.options(cache).prefix(prefix).build(), client),
                seed, NAMES, SYMLINK_TARGETS, HostileCalls.CALLS / 2, S3_FAR_OFFSET);
    }

    /** The same with two guests at once, each through its own session, racing each other's changes. */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1})
    void twoGuestsLeaveTheMetadataCacheAnsweringWhatTheBackendHolds(long seed) throws Exception {
        String prefix = "coherence2-" + seed + "-" + System.nanoTime() + "/";
        CacheCoherence.afterGuestsAtOnce(new S3Backend(server.options(cache).prefix(prefix).build(), client),
                seed, NAMES, SYMLINK_TARGETS, HostileCalls.CALLS / 2, S3_FAR_OFFSET);
    }

    /**
     * Every path below the root: type, size, and the content's hash or the symlink's target, as a
     * guest sees them: FUSE requests to a {@link FuseSession} over a {@link MetadataCache} over the
     * backend, as in the gateway (the session confirms what a listing left provisional: a mode, the
     * type of an s3fs symlink or FIFO).
     */
    private static Map<String, String> tree(StorageBackend backend) throws Exception {
        FuseSession session = new FuseSession(new MetadataCache(backend, CacheConfig.defaults()),
                SessionConfig.defaults("test"));
        try {
            FuseHarness fuse = FuseHarness.over(session);
            fuse.init();
            Map<String, String> out = new TreeMap<>();
            walk(fuse, StorageBackend.ROOT_ID, "", out);
            return out;
        } finally {
            session.close(); // returns its references; the backend stays open
        }
    }

    private static void walk(FuseHarness fuse, long dir, String path, Map<String, String> out) throws Exception {
        long fh = fuse.opendir(dir).fh();
        List<String> names = new ArrayList<>();
        for (long offset = 0; ; ) {
            List<Dirent> page = fuse.readdir(dir, fh, offset, 64 << 10);
            if (page.isEmpty()) {
                break;
            }
            for (Dirent d : page) {
                names.add(new String(d.name(), StandardCharsets.UTF_8));
                offset = d.off();
            }
        }
        fuse.releasedir(dir, fh);
        for (String name : names) {
            if (name.equals(".") || name.equals("..")) {
                continue;
            }
            String p = path + "/" + name;
            EntryOut e = fuse.lookup(dir, name);
            FileType type = FileType.ofMode(e.attr().mode());
            String what = type + " " + e.attr().size() + " " + Integer.toOctalString(e.attr().mode());
            if (type == FileType.DIRECTORY) {
                walk(fuse, e.nodeid(), p, out);
            } else if (type == FileType.SYMLINK) {
                ByteBuffer target = fuse.request(Opcode.READLINK, e.nodeid(), FuseHarness.args()).expectOk();
                what += " -> " + StandardCharsets.UTF_8.decode(target);
            } else if (type == FileType.REGULAR) {
                what += " sha256=" + sha256(fuse, e.nodeid(), e.attr().size());
            }
            out.put(p, what);
            fuse.forget(e.nodeid(), 1);
        }
    }

    private static String sha256(FuseHarness fuse, long node, long size) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        long fh = fuse.open(node, OpenFlags.O_RDONLY).fh();
        for (long off = 0; off < size; ) {
            ByteBuffer got = fuse.read(node, fh, off, 1 << 20);
            if (!got.hasRemaining()) {
                throw new AssertionError("short file at " + off + " of " + size);
            }
            off += got.remaining();
            md.update(got);
        }
        fuse.release(node, fh);
        return HexFormat.of().formatHex(md.digest());
    }
}
