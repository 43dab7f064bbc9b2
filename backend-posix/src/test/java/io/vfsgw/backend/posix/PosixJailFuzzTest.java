package io.vfsgw.backend.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vfsgw.nativeio.Xattrs;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.Lock;
import io.vfsgw.spi.ReadOnlyBackend;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import io.vfsgw.spi.StorageBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
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
    /** Calls per run; {@code -Dvfsgw.jailFuzz.calls=N} for a longer hunt by hand. */
    private static final int CALLS = Integer.getInteger("vfsgw.jailFuzz.calls", 4000);
    private static final String SECRET = "outside-secret-4f1c";
    /** Names that only exist outside the source; a listing that shows one has escaped. */
    private static final Set<String> OUTSIDE_NAMES = Set.of("SENTINEL-OUTSIDE", "proc", "usr", "source");
    private static final RequestContext ROOT_CALLER = RequestContext.ROOT;
    private static final RequestContext USER_CALLER = new RequestContext(1000, 1000, 4242);
    private static final List<String> NAMES = List.of(".", "..", "a", "b", "d", "f", "up", "root", "out",
            "fifo", "x".repeat(255), "\u00e9t\u00e9");
    /**
     * Targets for the guest's symlinks. Only places a jail that followed them by mistake could not
     * harm: the test's own directory, {@code /} (a directory: creating or truncating it fails), a
     * name nothing has at the host's root. Never a real host file such as {@code /proc/self/fd/3}.
     */
    private static final List<String> SYMLINK_TARGETS = List.of("/", "..", "../canary", "../canary/SENTINEL-OUTSIDE",
            "/vfsgw-jail-fuzz", "a", "");
    private static final List<String> XATTRS = List.of("user.fuzz", "trusted.fuzz", "security.fuzz",
            "system.posix_acl_access", "user." + "y".repeat(250), "nonamespace");
    private static final int[] OPEN_FLAGS = {OpenFlags.O_RDONLY, OpenFlags.O_WRONLY, OpenFlags.O_RDWR,
        OpenFlags.O_TRUNC, OpenFlags.O_APPEND, OpenFlags.O_NONBLOCK, OpenFlags.O_DIRECTORY, OpenFlags.O_NOFOLLOW,
        OpenFlags.O_PATH, OpenFlags.O_DIRECT, OpenFlags.O_NOATIME, OpenFlags.O_EXCL, OpenFlags.O_CREAT,
        OpenFlags.O_TMPFILE, OpenFlags.O_SYNC};

    private Path base;
    private Path source;
    private Map<String, String> outsideBefore;
    private PosixBackend posix;
    /** What the guest's calls go to: {@link #posix}, or the read-only wrapper {@code --readonly} puts around it. */
    private StorageBackend backend;
    private Random random;

    /** Lookup references the guest holds, per node id the backend handed out. */
    private final Map<Long, Long> refs = new HashMap<>();
    /** Node ids handed out at some point, including forgotten ones (reused as stale ids). */
    private final List<Long> seenNodes = new ArrayList<>();
    /** Node ids that were directories when handed out. */
    private final Set<Long> directories = new java.util.HashSet<>(Set.of(StorageBackend.ROOT_ID));
    private final List<long[]> fileHandles = new ArrayList<>(); // {node, fh}
    private final List<long[]> dirHandles = new ArrayList<>();
    private final Deque<String> lastOps = new ArrayDeque<>();
    private String current = "";
    /** Per call kind, how many succeeded and how many failed with an errno: the run's summary line. */
    private final Map<String, int[]> outcomes = new TreeMap<>();

    @BeforeEach
    void setUp() throws Exception {
        Path parent = Files.createDirectories(Path.of("target", "jail-fuzz").toAbsolutePath());
        base = Files.createTempDirectory(parent, "base");
        source = Files.createDirectory(base.resolve("source"));
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path canary = Files.createDirectory(base.resolve("canary"));
        Path secret = Files.writeString(canary.resolve("SENTINEL-OUTSIDE"), SECRET);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-rw-rw-"));
        Xattrs.set(secret.toString(), "user.canary", SECRET.getBytes(StandardCharsets.UTF_8), 0);
        Files.createDirectory(canary.resolve("sub"));
        Files.createDirectory(source.resolve("d"));
        Files.writeString(source.resolve("f"), "inside");
        Files.createSymbolicLink(source.resolve("up"), Path.of(".."));
        Files.createSymbolicLink(source.resolve("root"), Path.of("/"));
        Files.createSymbolicLink(source.resolve("out"), Path.of("../canary"));
        outsideBefore = hostOutsideSource();
    }

    @AfterEach
    void cleanUp() throws Exception {
        try (Stream<Path> s = Files.walk(base)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @ParameterizedTest(name = "seed {0}, fd budget {1}, {2}")
    @CsvSource({"1, 0, plain", "2, 0, plain", "3, 4, plain", "4, 4, mapped", "5, 0, readonly"})
    void randomHostileSequencesStayInsideAndLeakNothing(long seed, int fdBudget, String variant) throws Exception {
        PosixOptions options = PosixOptions.of(source);
        if (fdBudget > 0) { // idle nodes trade their fds for file handles: the reopen paths get their turn
            options = options.withFileHandles(PosixOptions.InodeFileHandles.PREFER, fdBudget);
        }
        if (variant.equals("mapped")) { // guest ids 0-65535 are host ids 100000-165535
            options = options.withIdMaps(IdMap.parse(List.of("0:100000:65536")), IdMap.parse(List.of("0:100000:65536")));
        }
        Map<String, String> sourceBefore = snapshot(source);
        posix = PosixBackend.open(options);
        backend = variant.equals("readonly") ? new ReadOnlyBackend(posix) : posix; // as PosixModule wires --readonly
        random = new Random(seed);
        refs.put(StorageBackend.ROOT_ID, 1L);
        seenNodes.add(StorageBackend.ROOT_ID);
        try {
            for (int i = 0; i < CALLS; i++) {
                step(i);
            }
            StringBuilder summary = new StringBuilder("jail fuzz, seed " + seed + ", calls ok/errno:");
            outcomes.forEach((k, v) -> summary.append(' ').append(k).append(' ').append(v[0]).append('/').append(v[1]));
            System.out.println(summary);
            releaseAndForgetEverything();
            assertEquals(1, posix.nodeCount(), "nodes still held after every reference was forgotten");
            assertEquals(0, posix.handleCount(), "handles still open after every one was released");
        } finally {
            backend.close();
        }
        assertEquals(List.of(), fdsInto(base), "fds into the test directory left open after close");
        assertEquals(outsideBefore, hostOutsideSource(), "the host outside the source changed");
        assertFalse(Files.exists(Path.of("/vfsgw-jail-fuzz"), LinkOption.NOFOLLOW_LINKS));
        if (variant.equals("readonly")) {
            assertEquals(sourceBefore, snapshot(source), "a read-only share changed");
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

    // ------------------------------------------------------------------ one random call

    private void step(int i) throws Exception {
        RequestContext ctx = random.nextInt(4) == 0 ? USER_CALLER : ROOT_CALLER;
        int op = random.nextInt(30);
        String what = i + ": " + (ctx == ROOT_CALLER ? "root " : "user ");
        try {
            String done = call(ctx, op);
            remember(what + done);
            outcomes.computeIfAbsent(kind(), k -> new int[2])[0]++;
        } catch (FsException e) {
            remember(what + current + " -> " + e.errno());
            outcomes.computeIfAbsent(kind(), k -> new int[2])[1]++;
        } catch (RuntimeException | AssertionError e) {
            remember(what + current + " -> " + e);
            fail("operation failed other than with an errno; last operations:\n" + String.join("\n", lastOps), e);
        }
    }

    /** Makes one call; returns its description (the description of a failed call is its exception). */
    private String call(RequestContext ctx, int op) throws Exception {
        long node = anyNode();
        long parent = anyParent();
        FileName name = anyName();
        switch (op) {
            case 0, 1, 2 -> {
                begin("lookup " + parent + " " + show(name));
                return "lookup " + parent + " " + show(name) + " = " + took(backend.lookup(ctx, parent, name));
            }
            case 3 -> {
                begin("getattr " + node);
                backend.getattr(ctx, node, -1);
                return "getattr " + node;
            }
            case 4 -> {
                SetAttr change = switch (random.nextInt(4)) {
                    case 0 -> SetAttr.mode(random.nextInt(010000));
                    case 1 -> SetAttr.size(random.nextInt(3) == 0 ? 1L << 30 : random.nextInt(9000));
                    case 2 -> SetAttr.owner(random.nextBoolean() ? 1000 : 0, random.nextBoolean() ? null : 1000);
                    default -> SetAttr.times(random.nextLong() >>> 8, false, null, true);
                };
                begin("setattr " + node + " " + change);
                backend.setattr(ctx, node, change);
                return "setattr " + node + " " + change;
            }
            case 5 -> {
                begin("mkdir " + parent + " " + show(name));
                return "mkdir = " + took(backend.mkdir(ctx, parent, name, random.nextInt(01000) | 0700, 022));
            }
            case 6 -> {
                int type = new int[] {0010000, 0100000, 0020000, 0140000, 0060000}[random.nextInt(5)];
                begin("mknod " + parent + " " + show(name) + " type " + Integer.toOctalString(type));
                return "mknod = " + took(backend.mknod(ctx, parent, name, type | 0644, 0x0103, 022));
            }
            case 7 -> {
                String target = SYMLINK_TARGETS.get(random.nextInt(SYMLINK_TARGETS.size()));
                begin("symlink " + parent + " " + show(name) + " -> " + target);
                return "symlink = " + took(backend.symlink(ctx, parent, name, target.getBytes(StandardCharsets.UTF_8)));
            }
            case 8 -> {
                begin("link " + node + " " + parent + " " + show(name));
                return "link = " + took(backend.link(ctx, node, parent, name));
            }
            case 9 -> {
                long newParent = anyParent();
                FileName newName = anyName();
                int flags = new int[] {0, 0, StorageBackend.RENAME_NOREPLACE, StorageBackend.RENAME_EXCHANGE,
                    StorageBackend.RENAME_WHITEOUT, 7}[random.nextInt(6)];
                begin("rename " + parent + " " + show(name) + " " + newParent + " " + show(newName) + " " + flags);
                backend.rename(ctx, parent, name, newParent, newName, flags);
                return "rename";
            }
            case 10 -> {
                begin("unlink " + parent + " " + show(name));
                backend.unlink(ctx, parent, name);
                return "unlink " + parent + " " + show(name);
            }
            case 11 -> {
                begin("rmdir " + parent + " " + show(name));
                backend.rmdir(ctx, parent, name);
                return "rmdir " + parent + " " + show(name);
            }
            case 12, 13 -> {
                int flags = anyOpenFlags();
                begin("open " + node + " " + Integer.toOctalString(flags));
                long fh = backend.open(ctx, node, flags).fh();
                fileHandles.add(new long[] {node, fh});
                return "open " + node + " = fh " + fh;
            }
            case 14 -> {
                int flags = anyOpenFlags() | OpenFlags.O_CREAT;
                begin("create " + parent + " " + show(name) + " " + Integer.toOctalString(flags));
                CreateResult c = backend.create(ctx, parent, name, 0666, flags, 022);
                fileHandles.add(new long[] {c.entry().nodeId(), c.open().fh()});
                return "create = " + took(c.entry()) + " fh " + c.open().fh();
            }
            case 15 -> {
                begin("tmpfile " + parent);
                CreateResult c = backend.tmpfile(ctx, parent, 0600, OpenFlags.O_RDWR, 022);
                fileHandles.add(new long[] {c.entry().nodeId(), c.open().fh()});
                return "tmpfile = " + took(c.entry());
            }
            case 16, 17 -> {
                long[] h = anyHandle(fileHandles);
                begin("read " + h[0] + " fh " + h[1]);
                Buffers.Sink sink = new Buffers.Sink(3000, 2000);
                backend.read(ctx, h[0], h[1], random.nextInt(3) == 0 ? random.nextLong() >>> 1 : random.nextInt(6000),
                        sink);
                assertFalse(sink.string().contains(SECRET), "a read returned the secret outside the source");
                return "read " + h[0] + " = " + sink.filled + " bytes";
            }
            case 18 -> {
                long[] h = anyHandle(fileHandles);
                begin("write " + h[0] + " fh " + h[1]);
                int n = backend.write(ctx, h[0], h[1], random.nextInt(3) == 0 ? (1L << 40) : random.nextInt(6000),
                        Buffers.Source.of("written by the fuzzer " + random.nextInt()), random.nextBoolean());
                return "write = " + n;
            }
            case 19 -> {
                long[] h = takeHandle(fileHandles);
                begin("release " + h[0] + " fh " + h[1]);
                backend.release(ctx, h[0], h[1], 0, random.nextInt(3));
                return "release";
            }
            case 20 -> {
                begin("opendir " + parent);
                long fh = backend.opendir(ctx, parent, OpenFlags.O_RDONLY).fh();
                dirHandles.add(new long[] {parent, fh});
                return "opendir " + parent + " = fh " + fh;
            }
            case 21 -> {
                long[] h = anyHandle(dirHandles);
                begin("readdir " + h[0] + " fh " + h[1]);
                List<String> listed = new ArrayList<>();
                backend.readdir(ctx, h[0], h[1], random.nextInt(4) == 0 ? random.nextLong() : 0, e -> {
                    listed.add(new String(e.name().bytes(), StandardCharsets.UTF_8));
                    return listed.size() < 50;
                });
                for (String n : listed) {
                    assertFalse(OUTSIDE_NAMES.contains(n), "a listing showed " + n + ", which is outside: " + listed);
                }
                return "readdir " + h[0] + " = " + listed;
            }
            case 22 -> {
                long[] h = takeHandle(dirHandles);
                begin("releasedir " + h[0] + " fh " + h[1]);
                backend.releasedir(ctx, h[0], h[1]);
                return "releasedir";
            }
            case 23 -> {
                begin("readlink " + node);
                return "readlink " + node + " = " + new String(backend.readlink(ctx, node), StandardCharsets.UTF_8);
            }
            case 24 -> {
                String x = XATTRS.get(random.nextInt(XATTRS.size()));
                begin("xattr " + node + " " + x);
                switch (random.nextInt(4)) {
                    case 0 -> backend.setxattr(ctx, node, x, "v".getBytes(StandardCharsets.UTF_8), random.nextInt(4));
                    case 1 -> assertFalse(new String(backend.getxattr(ctx, node, x), StandardCharsets.UTF_8)
                            .contains(SECRET), "an xattr read returned the secret outside the source");
                    case 2 -> backend.listxattr(ctx, node);
                    default -> backend.removexattr(ctx, node, x);
                }
                return "xattr " + node + " " + x;
            }
            case 25 -> {
                long[] h = anyHandle(fileHandles);
                int mode = new int[] {0, 1, 3, 0x10, 0x20}[random.nextInt(5)];
                begin("fallocate " + h[0] + " mode " + mode);
                backend.fallocate(ctx, h[0], h[1], mode, random.nextInt(9000), 1 + random.nextInt(9000));
                return "fallocate";
            }
            case 26 -> {
                long[] h = anyHandle(fileHandles);
                begin("lseek " + h[0]);
                return "lseek = " + backend.lseek(ctx, h[0], h[1], random.nextInt(9000), random.nextInt(5));
            }
            case 27 -> {
                long[] in = anyHandle(fileHandles);
                long[] out = anyHandle(fileHandles);
                begin("copy_file_range " + in[0] + " -> " + out[0]);
                return "copy = " + backend.copyFileRange(ctx, in[0], in[1], random.nextInt(9000), out[0], out[1],
                        random.nextInt(9000), random.nextInt(9000), 0);
            }
            case 28 -> {
                long[] h = anyHandle(fileHandles);
                Lock lock = new Lock(random.nextInt(3), random.nextInt(100), 100 + random.nextInt(100),
                        random.nextInt(3), 4242);
                begin("lock " + h[0] + " " + lock);
                if (random.nextBoolean()) {
                    backend.getlk(ctx, h[0], h[1], lock);
                } else {
                    backend.setlk(ctx, h[0], h[1], lock, false, random.nextBoolean());
                }
                return "lock";
            }
            default -> {
                long count = random.nextInt(5) == 0 ? Long.MAX_VALUE : 1 + random.nextInt(2);
                begin("forget " + node + " " + count);
                backend.forget(node, count);
                Long held = refs.get(node);
                if (held != null && node != StorageBackend.ROOT_ID) {
                    if (held <= count) {
                        refs.remove(node);
                    } else {
                        refs.put(node, held - count);
                    }
                }
                return "forget " + node + " " + count;
            }
        }
    }

    // ------------------------------------------------------------------ the guest's bookkeeping

    /** Counts the lookup reference an entry-returning call hands the guest. */
    private String took(Entry e) throws FsException {
        String where = posix.hostPathOf(e.nodeId());
        if (!where.equals(source.toString()) && !where.startsWith(source + "/")) {
            // Stop before any call can use the node: a node outside would let the next one change the host.
            backend.forget(e.nodeId(), 1);
            fail("node " + e.nodeId() + " handed out is outside the source: " + where + "; last operations:\n"
                    + String.join("\n", lastOps));
        }
        refs.merge(e.nodeId(), 1L, Long::sum);
        seenNodes.add(e.nodeId());
        if (e.attr() != null && (e.attr().mode() & 0170000) == 0040000) {
            directories.add(e.nodeId());
        }
        return "node " + e.nodeId();
    }

    /** A node the guest holds (mostly), one it held once, or one it never had. */
    private long anyNode() {
        int pick = random.nextInt(20);
        if (pick == 0) {
            return new long[] {0, -1, Long.MAX_VALUE, 2 + random.nextInt(1000)}[random.nextInt(4)];
        }
        if (pick < 4 || refs.isEmpty()) {
            return seenNodes.get(random.nextInt(seenNodes.size()));
        }
        List<Long> held = new ArrayList<>(refs.keySet());
        return held.get(random.nextInt(held.size()));
    }

    /** Mostly a directory the guest holds (so calls get past the parent), else {@link #anyNode()}. */
    private long anyParent() {
        List<Long> held = directories.stream().filter(refs::containsKey).toList();
        if (held.isEmpty() || random.nextInt(4) == 0) {
            return anyNode();
        }
        return held.get(random.nextInt(held.size()));
    }

    private FileName anyName() throws FsException {
        if (random.nextInt(10) == 0) { // not UTF-8
            return FileName.of(new byte[] {(byte) 0xff, (byte) (0x80 + random.nextInt(64)), 'n'});
        }
        return FileName.of(NAMES.get(random.nextInt(NAMES.size())));
    }

    private int anyOpenFlags() {
        int flags = OPEN_FLAGS[random.nextInt(3)];
        for (int k = random.nextInt(3); k > 0; k--) {
            flags |= OPEN_FLAGS[random.nextInt(OPEN_FLAGS.length)];
        }
        return flags;
    }

    /** A handle the guest was given (it may have released it since), or a made-up one. */
    private long[] anyHandle(List<long[]> handles) {
        if (handles.isEmpty() || random.nextInt(15) == 0) {
            return new long[] {anyNode(), random.nextInt(3) == 0 ? -1 : random.nextInt(100)};
        }
        long[] h = handles.get(random.nextInt(handles.size()));
        return random.nextInt(10) == 0 ? new long[] {anyNode(), h[1]} : h; // sometimes with another node
    }

    private long[] takeHandle(List<long[]> handles) {
        if (handles.isEmpty() || random.nextInt(15) == 0) {
            return anyHandle(handles);
        }
        return handles.remove(random.nextInt(handles.size()));
    }

    /** Notes the call about to be made (what a failure is reported as). */
    private void begin(String description) {
        current = description;
    }

    private String kind() {
        return current.split(" ")[0];
    }

    private void remember(String op) {
        if (lastOps.size() == 30) {
            lastOps.removeFirst();
        }
        lastOps.addLast(op);
    }

    private static String show(FileName n) {
        String s = new String(n.bytes(), StandardCharsets.UTF_8);
        return s.length() > 12 ? s.substring(0, 12) + "...(" + n.length() + ")" : s;
    }

    private void releaseAndForgetEverything() throws FsException {
        for (long[] h : fileHandles) {
            backend.release(ROOT_CALLER, h[0], h[1], 0, 0);
        }
        for (long[] h : dirHandles) {
            backend.releasedir(ROOT_CALLER, h[0], h[1]);
        }
        for (Map.Entry<Long, Long> e : refs.entrySet()) {
            backend.forget(e.getKey(), e.getValue());
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

    /** Every path under {@code base} except the source, with type, mode, owner, size, times, content and xattrs. */
    private Map<String, String> hostOutsideSource() throws Exception {
        return snapshot(base, source);
    }

    /** Paths under {@code source} that {@code before} (a {@link #snapshot}) did not have. */
    private List<Path> newEntries(Map<String, String> before) throws Exception {
        try (Stream<Path> s = Files.walk(source)) {
            return s.filter(p -> !before.containsKey(p.toString())).toList();
        }
    }

    private static Map<String, String> snapshot(Path top) throws Exception {
        return snapshot(top, null);
    }

    /** Every path under {@code top} but those under {@code skip}, with type, mode, owner, size, times, content and xattrs. */
    private static Map<String, String> snapshot(Path top, Path skip) throws Exception {
        Map<String, String> all = new TreeMap<>();
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> s = Files.walk(top)) {
            s.filter(p -> skip == null || !p.startsWith(skip)).forEach(paths::add);
        }
        for (Path p : paths) {
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,size,nlink,lastModifiedTime,ctime",
                    LinkOption.NOFOLLOW_LINKS);
            StringBuilder d = new StringBuilder(new TreeMap<>(a).toString());
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                d.append(" sha256=").append(HexFormat.of().formatHex(
                        MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
            if (!Files.isSymbolicLink(p)) { // the xattr calls follow symlinks, some of which dangle
                for (String x : Xattrs.list(p.toString())) {
                    d.append(' ').append(x).append('=').append(HexFormat.of().formatHex(Xattrs.get(p.toString(), x)));
                }
            }
            all.put(p.toString(), d.toString());
        }
        return all;
    }
}
