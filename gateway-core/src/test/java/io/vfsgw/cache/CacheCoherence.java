package io.vfsgw.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfsgw.session.HostileGuests;
import io.vfsgw.spi.Attr;
import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.DirListing;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.HostileCalls;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Whether a {@link MetadataCache} answers what its backend holds: every node's attributes as a
 * GETATTR gets them from the cache, asked before any new LOOKUP could refresh them (as a guest
 * holding the node asks), then for every name the calls used in every directory, what a LOOKUP
 * finds. For tests that made every change through the cache, so any difference is one it missed.
 */
public final class CacheCoherence {
    private static final RequestContext ROOT = RequestContext.ROOT;

    private CacheCoherence() {
    }

    /**
     * Makes {@link HostileCalls#CALLS} random calls through a cache whose clock never moves (nothing
     * it caches expires) over {@code backend}, then {@link #assertCoherent}; closes the cache and
     * with it the backend.
     */
    public static void afterRandomCalls(StorageBackend backend, long seed, List<String> names,
                                        List<String> symlinkTargets) throws FsException {
        afterRandomCalls(backend, seed, names, symlinkTargets, HostileCalls.CALLS, HostileCalls.FAR_OFFSET);
    }

    /**
     * As above, with {@code count} calls and {@code farOffset} as {@link HostileCalls#farOffset} (a
     * backend that stores whole files wants fewer, smaller ones).
     */
    public static void afterRandomCalls(StorageBackend backend, long seed, List<String> names,
                                        List<String> symlinkTargets, int count, long farOffset) throws FsException {
        MetadataCache cache = new MetadataCache(backend, CacheConfig.defaults(), new ManualTicker());
        try {
            HostileCalls calls = new HostileCalls(cache, seed, new HostileCalls.Checks() { }, names, symlinkTargets)
                    .farOffset(farOffset);
            calls.run(count);
            System.out.println("cache coherence over " + backend.name() + ", seed " + seed + ": " + calls.summary());
            assertCoherent(backend, cache, names, "seed " + seed + "; last calls:\n" + calls.lastCalls());
            calls.releaseAndForgetEverything();
        } finally {
            cache.close();
        }
    }

    /**
     * Two guests at once ({@link HostileGuests}), each through its own session on one cache whose
     * clock never moves, over {@code backend}; then {@link #assertCoherent}: no change one guest made
     * may have its invalidation lost to a read the other made meanwhile. Closes the cache and with
     * it the backend.
     */
    public static void afterGuestsAtOnce(StorageBackend backend, long seed, List<String> names,
                                         List<String> symlinkTargets) throws Exception {
        afterGuestsAtOnce(backend, seed, names, symlinkTargets, HostileCalls.CALLS, HostileCalls.FAR_OFFSET);
    }

    /** As above, with {@code count} calls per guest and {@code farOffset} as {@link HostileCalls#farOffset}. */
    public static void afterGuestsAtOnce(StorageBackend backend, long seed, List<String> names,
                                         List<String> symlinkTargets, int count, long farOffset) throws Exception {
        MetadataCache cache = new MetadataCache(backend, CacheConfig.defaults(), new ManualTicker());
        try {
            List<HostileGuests.Guest> guests = HostileGuests.runAtOnce(cache, seed, 2, count,
                    (session, guestSeed) -> new HostileCalls(session, guestSeed, new HostileCalls.Checks() { }, names,
                            symlinkTargets).farOffset(farOffset));
            assertCoherent(backend, cache, names, "two guests at once, seed " + seed);
            HostileGuests.leave(guests, false);
        } finally {
            cache.close();
        }
    }

    /** Fails with {@code context} when the cache and the backend disagree on any node or name. */
    public static void assertCoherent(StorageBackend backend, MetadataCache cache, List<String> callNames,
                                      String context) throws FsException {
        Map<String, Long> nodes = new TreeMap<>();
        collect(backend, StorageBackend.ROOT_ID, "", nodes, callNames);
        try {
            assertEquals(attrs(backend, nodes), attrs(cache, nodes), "the cache's attributes are stale (" + context + ")");
            assertEquals(presence(backend, nodes, callNames), presence(cache, nodes, callNames),
                    "the cache's lookups are stale (" + context + ")");
        } finally {
            forgetAll(backend, nodes);
        }
    }

    /** Every path below {@code dir} in the backend, with its node id (a lookup reference held on each). */
    private static void collect(StorageBackend fs, long dir, String path, Map<String, Long> nodes,
                                List<String> callNames) throws FsException {
        for (String name : names(fs, dir, callNames)) {
            FileName n = FileName.of(name);
            if (n.isDotOrDotDot()) {
                continue;
            }
            Entry e;
            try {
                e = confirmedLookup(fs, dir, n);
            } catch (FsException absent) {
                continue;
            }
            nodes.put(path + "/" + name, e.nodeId());
            if (FileType.ofMode(e.attr().mode()) == FileType.DIRECTORY) {
                collect(fs, e.nodeId(), path + "/" + name, nodes, callNames);
            }
        }
    }

    /**
     * A lookup as the session makes it for the kernel: attributes the backend left provisional (an
     * S3 object first seen in a listing) are confirmed by a getattr, and when that finds the object
     * is of another type (ESTALE), the name is looked up again and has its new node.
     */
    private static Entry confirmedLookup(StorageBackend fs, long dir, FileName name) throws FsException {
        Entry e = fs.lookup(ROOT, dir, name);
        if (!e.attrProvisional()) {
            return e;
        }
        try {
            fs.getattr(ROOT, e.nodeId(), -1);
            return e;
        } catch (FsException ex) {
            fs.forget(e.nodeId(), 1);
            if (ex.errno() != Errno.ESTALE) {
                throw ex;
            }
            return fs.lookup(ROOT, dir, name);
        }
    }

    private static void forgetAll(StorageBackend fs, Map<String, Long> nodes) {
        nodes.values().forEach(id -> fs.forget(id, 1));
    }

    /** Each node's attributes as {@code fs} gives them to a GETATTR. */
    private static Map<String, String> attrs(StorageBackend fs, Map<String, Long> nodes) throws FsException {
        Map<String, String> out = new TreeMap<>();
        out.put("/", describe(fs.getattr(ROOT, StorageBackend.ROOT_ID, -1)));
        for (Map.Entry<String, Long> e : nodes.entrySet()) {
            out.put(e.getKey(), describe(fs.getattr(ROOT, e.getValue(), -1)));
        }
        return out;
    }

    /** For each directory and each name the calls use: which node a LOOKUP finds, or its errno. */
    private static Map<String, String> presence(StorageBackend fs, Map<String, Long> nodes, List<String> callNames)
            throws FsException {
        Map<String, Long> dirs = new TreeMap<>();
        dirs.put("", StorageBackend.ROOT_ID);
        for (Map.Entry<String, Long> e : nodes.entrySet()) {
            if (FileType.ofMode(fs.getattr(ROOT, e.getValue(), -1).mode()) == FileType.DIRECTORY) {
                dirs.put(e.getKey(), e.getValue());
            }
        }
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, Long> d : dirs.entrySet()) {
            for (String name : callNames) {
                String key = d.getKey() + "/" + name;
                try {
                    Entry e = confirmedLookup(fs, d.getValue(), FileName.of(name));
                    out.put(key, "node " + e.nodeId());
                    fs.forget(e.nodeId(), 1);
                } catch (FsException absent) {
                    out.put(key, absent.errno().toString());
                }
            }
        }
        return out;
    }

    /** The names the calls use, and every name the directory has (in {@code truth}). */
    private static List<String> names(StorageBackend truth, long dir, List<String> callNames) throws FsException {
        List<String> names = new ArrayList<>(callNames);
        for (DirEntry d : DirListing.of(truth, ROOT, dir)) {
            String name = new String(d.name().bytes(), StandardCharsets.UTF_8);
            if (!names.contains(name)) {
                names.add(name);
            }
        }
        return names;
    }

    /** The attributes compared: all but atime (reads move it, and a cache need not follow). */
    public static String describe(Attr a) {
        return "ino " + a.ino() + " " + FileType.ofMode(a.mode()) + " mode " + Integer.toOctalString(a.mode())
                + " size " + a.size() + " nlink " + a.nlink() + " owner " + a.uid() + ":" + a.gid()
                + " mtime " + a.mtimeNs() + " ctime " + a.ctimeNs();
    }
}
