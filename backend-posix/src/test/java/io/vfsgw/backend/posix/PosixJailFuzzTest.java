package io.vfsgw.backend.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.MetadataCache;
import io.vfsgw.nativeio.Xattrs;
import io.vfsgw.session.FuseSession;
import io.vfsgw.session.FuseWireBackend;
import io.vfsgw.session.GuestLink;
import io.vfsgw.session.HostileGuests;
import io.vfsgw.session.SessionConfig;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.HostileCalls;
import io.vfsgw.spi.ReadOnlyBackend;
import io.vfsgw.spi.StorageBackend;
import io.vfsgw.transport.vhostuser.VirtioFsGuestLink;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A hostile guest at random: thousands of SPI calls on a {@link PosixBackend} with node ids and
 * handles it was given, made up or already forgotten, names such as {@code ..} and the names of
 * symlinks to {@code /} and to a directory outside the source, any open flags, two callers (root
 * and an ordinary user). {@link PosixEscapeTest} tries each attack once by hand; this tries their
 * combinations. What must hold whatever the sequence:
 * <ul>
 * <li>every failure is an {@link FsException} (an errno for the guest), never another exception;
 * <li>every node handed out is inside the source as the host kernel sees it, checked before the
 *     node can be used, so a broken jail fails the test before the test could change the host;
 * <li>nothing outside the source is ever listed or read: no listing shows a name that only exists
 *     outside ({@code SENTINEL-OUTSIDE} next to the source, {@code proc} and {@code usr} at the host's
 *     root, {@code source} in the directory above), no read returns the outside secret;
 * <li>the host outside the source is byte for byte, mode for mode, xattr for xattr as it was;
 * <li>once the guest forgets every node and releases every handle, the backend holds the root
 *     alone, and once closed, no fd of the process points into the test's directory (no fd leaks
 *     on any error path);
 * <li>with an id map, everything the guest made is owned by mapped host ids; read-only, nothing changed.
 * </ul>
 * The seed is in the test's name; a failure prints the last operations. docs/security.md lists
 * the properties and the mutations that were made to fail them.
 */
class PosixJailFuzzTest {
    private static final String SECRET = "outside-secret-4f1c";
    /** Names that only exist outside the source; a listing that shows one has escaped. */
    private static final Set<String> OUTSIDE_NAMES = Set.of("SENTINEL-OUTSIDE", "proc", "usr", "source");
    /** The guest's names: those of the symlinks the source starts with among them. */
    private static final List<String> NAMES = List.of(".", "..", "a", "b", "d", "f", "up", "root", "out",
            "fifo", "x".repeat(255), "\u00e9t\u00e9");
    /**
     * Targets for the guest's symlinks. Only places a jail that followed them by mistake could not
     * harm: the test's own directory, {@code /} (a directory: creating or truncating it fails), a
     * name nothing has at the host's root. Never a real host file such as {@code /proc/self/fd/3}.
     */
    private static final List<String> SYMLINK_TARGETS = List.of("/", "..", "../canary", "../canary/SENTINEL-OUTSIDE",
            "/vfsgw-jail-fuzz", "a", "");

    private HostTree tree;
    private Path source;
    private Map<String, String> outsideBefore;
    private PosixBackend posix;

    @BeforeEach
    void setUp() throws Exception {
        tree = HostTree.create("jail-fuzz");
        source = tree.source();
        Path canary = tree.canary();
        Path secret = Files.writeString(canary.resolve("SENTINEL-OUTSIDE"), SECRET);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-rw-rw-"));
        Xattrs.set(secret.toString(), "user.canary", SECRET.getBytes(StandardCharsets.UTF_8), 0);
        Files.createDirectory(canary.resolve("sub"));
        Files.createDirectory(source.resolve("d"));
        Files.writeString(source.resolve("f"), "inside");
        Files.createSymbolicLink(source.resolve("up"), Path.of(".."));
        Files.createSymbolicLink(source.resolve("root"), Path.of("/"));
        Files.createSymbolicLink(source.resolve("out"), Path.of("../canary"));
        outsideBefore = tree.outsideSource();
    }

    @AfterEach
    void cleanUp() throws Exception {
        tree.delete();
    }

    @ParameterizedTest(name = "seed {0}, fd budget {1}, {2}")
    @CsvSource({"1, 0, plain", "2, 0, plain", "3, 4, plain", "4, 4, mapped", "5, 0, readonly", "6, 0, wire",
        "7, 4, wire"})
    void randomHostileSequencesStayInsideAndLeakNothing(long seed, int fdBudget, String variant) throws Exception {
        PosixOptions options = PosixOptions.of(source);
        if (fdBudget > 0) { // idle nodes trade their fds for file handles: the reopen paths get their turn
            options = options.withFileHandles(PosixOptions.InodeFileHandles.PREFER, fdBudget);
        }
        if (variant.equals("mapped")) { // guest ids 0-65535 are host ids 100000-165535
            options = options.withIdMaps(IdMap.parse(List.of("0:100000:65536")), IdMap.parse(List.of("0:100000:65536")));
        }
        Map<String, String> sourceBefore = HostTree.snapshot(source, null);
        posix = PosixBackend.open(options);
        StorageBackend backend = switch (variant) {
            case "readonly" -> new ReadOnlyBackend(posix); // as PosixModule wires it
            case "wire" -> new FuseWireBackend(        // as FUSE requests through a session, as a guest sends them
                    new FuseSession(new MetadataCache(posix, CacheConfig.defaults()), SessionConfig.defaults("jail")), seed);
            default -> posix;
        };
        try {
            HostileCalls calls = new HostileCalls(backend, seed, new JailChecks(), NAMES, SYMLINK_TARGETS);
            calls.run(HostileCalls.CALLS);
            System.out.println("jail fuzz, seed " + seed + ", " + variant + ": " + calls.summary());
            calls.releaseAndForgetEverything();
            assertEquals(1, posix.nodeCount(), "nodes still held after every reference was forgotten");
            assertEquals(0, posix.handleCount(), "handles still open after every one was released");
        } finally {
            backend.close();
            if (backend instanceof FuseWireBackend) {
                posix.close(); // the session's close returns what the guest held; the backend stays open
            }
        }
        assertEquals(List.of(), fdsInto(tree.base()), "fds into the test directory left open after close");
        assertEquals(outsideBefore, tree.outsideSource(), "the host outside the source changed");
        assertFalse(Files.exists(Path.of("/vfsgw-jail-fuzz"), LinkOption.NOFOLLOW_LINKS));
        if (variant.equals("readonly")) {
            assertEquals(sourceBefore, HostTree.snapshot(source, null), "a read-only share changed");
        }
        if (variant.equals("mapped")) { // guest root is not host root: whatever the guest made is owned in the range
            for (Path p : newEntries(sourceBefore)) {
                int uid = (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                int gid = (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
                assertTrue(uid >= 100000 && uid < 165536 && gid >= 100000 && gid < 165536,
                        p + " is owned by host " + uid + ":" + gid + ", outside the guest's range");
            }
        }
    }

    /**
     * Two hostile guests at once, each through its own session on one shared cache, as `vfsgw serve`
     * runs them: the jail holds under their races (a rename by one while the other looks up through
     * the renamed directory), and once one has released everything and the other has gone away,
     * the backend holds the root alone and no fd is left open. Over vhost-user, each guest runs two
     * processes whose requests travel as descriptor chains in guest memory, several in flight, and
     * READ's data lands there straight from the host file.
     */
    @ParameterizedTest(name = "seed {0}, fd budget {1}, {2}")
    @CsvSource({"1, 0, in-process", "2, 4, in-process", "3, 0, vhost-user"})
    void twoHostileGuestsAtOnceStayInsideAndLeakNothing(long seed, int fdBudget, String link) throws Exception {
        PosixOptions options = PosixOptions.of(source);
        if (fdBudget > 0) {
            options = options.withFileHandles(PosixOptions.InodeFileHandles.PREFER, fdBudget);
        }
        posix = PosixBackend.open(options);
        try {
            boolean virtio = link.equals("vhost-user");
            List<HostileGuests.Guest> guests = HostileGuests.runAtOnce(
                    virtio ? new VirtioFsGuestLink(3, seed) : GuestLink.IN_PROCESS,
                    new MetadataCache(posix, CacheConfig.defaults()), seed, 2, virtio ? 2 : 1, HostileCalls.CALLS,
                    (session, guestSeed) -> new HostileCalls(session, guestSeed, new JailChecks(), NAMES, SYMLINK_TARGETS));
            HostileGuests.leave(guests, true);   // the first unmounts; the second just goes away
            assertEquals(1, posix.nodeCount(), "nodes still held after both guests left");
            assertEquals(0, posix.handleCount(), "handles still open after both guests left");
        } finally {
            posix.close();
        }
        assertEquals(List.of(), fdsInto(tree.base()), "fds into the test directory left open after close");
        assertEquals(outsideBefore, tree.outsideSource(), "the host outside the source changed");
    }

    /** The jail, as the calls go: nodes inside, listings and reads showing nothing of outside. */
    private final class JailChecks implements HostileCalls.Checks {
        @Override
        public void handedOut(Entry e) throws FsException {
            String where = posix.hostPathOf(e.nodeId());
            assertTrue(where.equals(source.toString()) || where.startsWith(source + "/"),
                    "node " + e.nodeId() + " handed out is outside the source: " + where);
        }

        @Override
        public void listed(List<String> names) {
            for (String n : names) {
                assertFalse(OUTSIDE_NAMES.contains(n), "a listing showed " + n + ", which is outside: " + names);
            }
        }

        @Override
        public void read(byte[] data) {
            assertFalse(new String(data, StandardCharsets.UTF_8).contains(SECRET), "a read returned the secret outside");
        }
    }

    // ------------------------------------------------------------------ the host's view

    /** The fds of this process whose path lies under {@code dir}. */
    private static List<String> fdsInto(Path dir) throws Exception {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : s.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith(dir.toString())) {
                        out.add(fd.getFileName() + " -> " + target);
                    }
                } catch (java.io.IOException gone) {
                    // the listing's own fd, closed by now
                }
            }
        }
        return out;
    }

    /** Paths under {@code source} that {@code before} (a {@link HostTree#snapshot}) did not have. */
    private List<Path> newEntries(Map<String, String> before) throws Exception {
        try (Stream<Path> s = Files.walk(source)) {
            return s.filter(p -> !before.containsKey(p.toString())).toList();
        }
    }
}
