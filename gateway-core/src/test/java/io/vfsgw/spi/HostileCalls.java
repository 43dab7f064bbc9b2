package io.vfsgw.spi;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * A hostile guest at random, for any {@link StorageBackend}: SPI calls with node ids and handles it
 * was given, made up (0, -1, 2^63-1, small numbers) or already forgotten, names such as {@code .},
 * {@code ..}, 255 bytes and bytes that are not UTF-8, any open flags ({@code O_PATH},
 * {@code O_TMPFILE}, {@code O_DIRECT}, {@code O_TRUNC}...), writes far out, invalid rename flags,
 * FORGETs of too many references, two callers (root and uid 1000). It keeps the guest's books (the
 * lookup references and handles it holds) so that {@link #releaseAndForgetEverything} can give
 * them all back, after which a backend should hold nothing but its root.
 *
 * <p>Every failure must be an {@link FsException}: anything else fails the test with the last 30
 * calls. What else must hold is the caller's {@link Checks}, run on each node handed out, each
 * listing and each read.
 */
public final class HostileCalls {
    /** Calls per run by default; {@code -Dvfsgw.hostileCalls=N} for a longer hunt by hand. */
    public static final int CALLS = Integer.getInteger("vfsgw.hostileCalls", 4000);
    /** The default {@link #farOffset}: 1 TiB. */
    public static final long FAR_OFFSET = 1L << 40;
    /** {@code -Dvfsgw.hostileCalls.trace=true} prints every call and its outcome, to find a failure's cause. */
    private static final boolean TRACE = Boolean.getBoolean("vfsgw.hostileCalls.trace");

    /** What the caller checks as the calls go. Each may throw an AssertionError. */
    public interface Checks {
        /** A node handed out (lookup, create...), before any call can use it. */
        default void handedOut(Entry e) throws FsException {
        }

        /** The names of one readdir call. */
        default void listed(List<String> names) {
        }

        /** The bytes of a read or of an xattr value. */
        default void read(byte[] data) {
        }
    }

    private static final RequestContext ROOT_CALLER = RequestContext.ROOT;
    private static final RequestContext USER_CALLER = new RequestContext(1000, 1000, 4242);
    private static final String[] XATTRS = {"user.fuzz", "trusted.fuzz", "security.fuzz",
        "system.posix_acl_access", "user." + "y".repeat(250), "nonamespace"};
    private static final int[] OPEN_FLAGS = {OpenFlags.O_RDONLY, OpenFlags.O_WRONLY, OpenFlags.O_RDWR,
        OpenFlags.O_TRUNC, OpenFlags.O_APPEND, OpenFlags.O_NONBLOCK, OpenFlags.O_DIRECTORY, OpenFlags.O_NOFOLLOW,
        OpenFlags.O_PATH, OpenFlags.O_DIRECT, OpenFlags.O_NOATIME, OpenFlags.O_EXCL, OpenFlags.O_CREAT,
        OpenFlags.O_TMPFILE, OpenFlags.O_SYNC};

    private final StorageBackend backend;
    private final Random random;
    private final Checks checks;
    private final List<String> names;
    private final List<String> symlinkTargets;
    private long farOffset = FAR_OFFSET;

    /** Lookup references the guest holds, per node id the backend handed out. */
    private final Map<Long, Long> refs = new HashMap<>();
    /** Node ids handed out at some point, including forgotten ones (reused as stale ids). */
    private final List<Long> seenNodes = new ArrayList<>();
    /** Node ids that were directories when handed out. */
    private final Set<Long> directories = new HashSet<>(Set.of(StorageBackend.ROOT_ID));
    private final List<long[]> fileHandles = new ArrayList<>(); // {node, fh}
    private final List<long[]> dirHandles = new ArrayList<>();
    private final Deque<String> lastOps = new ArrayDeque<>();
    private String current = "";
    /** Per call kind, how many succeeded and how many failed with an errno: the run's summary line. */
    private final Map<String, int[]> outcomes = new TreeMap<>();

    /**
     * @param names          the names calls use (besides a few that are not UTF-8)
     * @param symlinkTargets the targets of the symlinks calls make: only places a backend that
     *                       followed them by mistake could not harm
     */
    public HostileCalls(StorageBackend backend, long seed, Checks checks, List<String> names,
                        List<String> symlinkTargets) {
        this.backend = backend;
        this.random = new Random(seed);
        this.checks = checks;
        this.names = List.copyOf(names);
        this.symlinkTargets = List.copyOf(symlinkTargets);
        refs.put(StorageBackend.ROOT_ID, 1L);
        seenNodes.add(StorageBackend.ROOT_ID);
    }

    /**
     * The size truncates grow files to and the offset of far writes, now and then (1 TiB by
     * default: sparse on a host or in memory; a backend that stores whole files, as S3 does, wants
     * a few MiB).
     */
    public HostileCalls farOffset(long bytes) {
        this.farOffset = bytes;
        return this;
    }

    /** Makes {@code calls} random calls. */
    public void run(int calls) {
        for (int i = 0; i < calls; i++) {
            step(i);
        }
    }

    /** One line: per kind of call, how many succeeded and how many failed with an errno. */
    public String summary() {
        StringBuilder s = new StringBuilder("calls ok/errno:");
        outcomes.forEach((k, v) -> s.append(' ').append(k).append(' ').append(v[0]).append('/').append(v[1]));
        return s.toString();
    }

    /** Releases every handle the guest holds and forgets every reference, as a guest unmounting would. */
    public void releaseAndForgetEverything() throws FsException {
        for (long[] h : fileHandles) {
            backend.release(ROOT_CALLER, h[0], h[1], 0, 0);
        }
        fileHandles.clear();
        for (long[] h : dirHandles) {
            backend.releasedir(ROOT_CALLER, h[0], h[1]);
        }
        dirHandles.clear();
        for (Map.Entry<Long, Long> e : refs.entrySet()) {
            backend.forget(e.getKey(), e.getValue());
        }
        refs.clear();
    }

    /** The last calls made, one per line (for a failure message). */
    public String lastCalls() {
        return String.join("\n", lastOps);
    }

    // ------------------------------------------------------------------ one random call

    private void step(int i) {
        RequestContext ctx = random.nextInt(4) == 0 ? USER_CALLER : ROOT_CALLER;
        int op = random.nextInt(30);
        String what = i + ": " + (ctx == ROOT_CALLER ? "root " : "user ");
        try {
            String done = call(ctx, op);
            remember(what + current + " => " + done);
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
    private String call(RequestContext ctx, int op) throws FsException {
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
                    case 1 -> SetAttr.size(random.nextInt(3) == 0 ? farOffset : random.nextInt(9000));
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
                String target = symlinkTargets.get(random.nextInt(symlinkTargets.size()));
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
                BufferReadSink sink = BufferReadSink.direct(5000);
                backend.read(ctx, h[0], h[1], random.nextInt(3) == 0 ? random.nextLong() >>> 1 : random.nextInt(6000),
                        sink);
                checks.read(sink.bytes());
                return "read " + h[0] + " = " + sink.filled() + " bytes";
            }
            case 18 -> {
                long[] h = anyHandle(fileHandles);
                begin("write " + h[0] + " fh " + h[1]);
                int n = backend.write(ctx, h[0], h[1], random.nextInt(3) == 0 ? farOffset : random.nextInt(6000),
                        BufferWriteSource.direct(("written by the fuzzer " + random.nextInt()).getBytes(StandardCharsets.UTF_8)),
                        random.nextBoolean());
                return "write = " + n;
            }
            case 19 -> {
                long[] h = takeHandle(fileHandles);
                begin("release " + h[0] + " fh " + h[1]);
                backend.release(ctx, h[0], h[1], 0, random.nextInt(3));
                forgetHandle(fileHandles, h); // a made-up handle may be a real one: it is released now
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
                checks.listed(listed);
                return "readdir " + h[0] + " = " + listed;
            }
            case 22 -> {
                long[] h = takeHandle(dirHandles);
                begin("releasedir " + h[0] + " fh " + h[1]);
                backend.releasedir(ctx, h[0], h[1]);
                forgetHandle(dirHandles, h);
                return "releasedir";
            }
            case 23 -> {
                begin("readlink " + node);
                return "readlink " + node + " = " + new String(backend.readlink(ctx, node), StandardCharsets.UTF_8);
            }
            case 24 -> {
                String x = XATTRS[random.nextInt(XATTRS.length)];
                begin("xattr " + node + " " + x);
                switch (random.nextInt(4)) {
                    case 0 -> backend.setxattr(ctx, node, x, "v".getBytes(StandardCharsets.UTF_8), random.nextInt(4));
                    case 1 -> checks.read(backend.getxattr(ctx, node, x));
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
        try {
            checks.handedOut(e);
        } catch (AssertionError outside) {
            backend.forget(e.nodeId(), 1); // never used: with a node outside, the next call could change the host
            throw outside;
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
        return FileName.of(names.get(random.nextInt(names.size())));
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

    /** Drops a released handle from the books; node 0 names any node (the session accepts it, as libfuse does). */
    private static void forgetHandle(List<long[]> handles, long[] released) {
        handles.removeIf(h -> h[1] == released[1] && (released[0] == 0 || h[0] == released[0]));
    }

    /** Notes the call about to be made (what a failure is reported as). */
    private void begin(String description) {
        current = description;
    }

    private String kind() {
        return current.split(" ")[0];
    }

    private void remember(String op) {
        if (TRACE) {
            System.out.println("call " + op);
        }
        if (lastOps.size() == 30) {
            lastOps.removeFirst();
        }
        lastOps.addLast(op);
    }

    private static String show(FileName n) {
        String s = new String(n.bytes(), StandardCharsets.UTF_8);
        return s.length() > 12 ? s.substring(0, 12) + "...(" + n.length() + ")" : s;
    }
}
