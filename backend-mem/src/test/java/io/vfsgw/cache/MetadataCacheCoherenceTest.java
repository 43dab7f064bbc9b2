package io.vfsgw.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vfsgw.backend.mem.MemBackend;
import io.vfsgw.backend.mem.MemOptions;
import io.vfsgw.spi.Attr;
import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.HostileCalls;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The metadata cache under a hostile guest ({@link HostileCalls} through it to the mem backend),
 * with its clock stopped, so nothing it caches ever expires: every change goes through the cache,
 * so whatever it answers must be what the backend answers now. After each run, node by node: the
 * attributes a GETATTR gets from the cache (size, mode, owner, links, times but atime) against the
 * backend's own, asked before any new LOOKUP could refresh them, as a guest holding the node asks;
 * then for every name the calls use in every directory, what a LOOKUP finds. A difference is a
 * change whose invalidation the cache missed: guests would see it until the timeout.
 */
class MetadataCacheCoherenceTest {
    private static final RequestContext ROOT = RequestContext.ROOT;
    private static final List<String> NAMES = List.of(".", "..", "a", "b", "d", "f", "x".repeat(255), "\u00e9t\u00e9");
    private static final List<String> SYMLINK_TARGETS = List.of("/", "..", "a", "");

    /**
     * The kernel renames and unlinks a name from the dentry it holds, with no LOOKUP first, so the
     * cache must still know which node a name is after a rename, and after a call on that name that
     * failed. Before, a second rename of a renamed file, or an unlink after a failed rmdir of the same
     * name, left the node's cached ctime (and for an unlink, its link count) as it was: a GETATTR got
     * the old values until the timeout, and for ever under --cache always.
     */
    @Test
    void aNameStaysKnownAfterARenameAndAfterAFailedCallSoLaterChangesReachItsNode() throws Exception {
        MemBackend mem = new MemBackend(MemOptions.ofCapacity(64L << 20));
        ManualTicker clock = new ManualTicker();
        MetadataCache cache = new MetadataCache(mem, CacheConfig.defaults(), clock);
        try {
            long root = StorageBackend.ROOT_ID;
            long f = cache.mknod(ROOT, root, FileName.of("a"), 0100644, 0, 022).nodeId();
            cache.link(ROOT, f, root, FileName.of("hard"));
            cache.rename(ROOT, root, FileName.of("a"), root, FileName.of("b"), 0);
            cache.getattr(ROOT, f, -1);                                        // cached, as a stat would
            cache.rename(ROOT, root, FileName.of("b"), root, FileName.of("c"), 0); // by the new name
            assertEquals(describe(mem.getattr(ROOT, f, -1)), describe(cache.getattr(ROOT, f, -1)),
                    "a second rename reaches the node");
            assertThrows(FsException.class, () -> cache.rmdir(ROOT, root, FileName.of("c"))); // ENOTDIR
            cache.getattr(ROOT, f, -1);
            cache.unlink(ROOT, root, FileName.of("c"));
            assertEquals(describe(mem.getattr(ROOT, f, -1)), describe(cache.getattr(ROOT, f, -1)),
                    "an unlink after a failed rmdir of the name reaches the node");
            assertEquals(1, cache.getattr(ROOT, f, -1).nlink());
        } finally {
            cache.close();
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void whatTheCacheAnswersIsWhatTheBackendHoldsAfterAnySequence(long seed) throws Exception {
        MemBackend mem = new MemBackend(MemOptions.ofCapacity(64L << 20));
        MetadataCache cache = new MetadataCache(mem, CacheConfig.defaults(), new ManualTicker());
        try {
            HostileCalls calls = new HostileCalls(cache, seed, new HostileCalls.Checks() { }, NAMES, SYMLINK_TARGETS);
            calls.run(HostileCalls.CALLS);
            System.out.println("cache fuzz, seed " + seed + ": " + calls.summary());
            Map<String, Long> nodes = new TreeMap<>();
            collect(mem, StorageBackend.ROOT_ID, "", nodes);
            // what a guest holding each node sees at its next GETATTR, before any new LOOKUP refreshes it
            assertEquals(attrs(mem, nodes), attrs(cache, nodes), "the cache's attributes are stale (seed " + seed
                    + "); last calls:\n" + calls.lastCalls());
            assertEquals(presence(mem, nodes), presence(cache, nodes), "the cache's lookups are stale (seed " + seed
                    + "); last calls:\n" + calls.lastCalls());
            forgetAll(mem, nodes);
            calls.releaseAndForgetEverything();
        } finally {
            cache.close();
        }
    }

    /** Every path below {@code dir} in the backend, with its node id (a lookup reference held on each). */
    private static void collect(StorageBackend fs, long dir, String path, Map<String, Long> nodes) throws FsException {
        for (String name : names(fs, dir)) {
            FileName n = FileName.of(name);
            if (n.isDotOrDotDot()) {
                continue;
            }
            Entry e;
            try {
                e = fs.lookup(ROOT, dir, n);
            } catch (FsException absent) {
                continue;
            }
            nodes.put(path + "/" + name, e.nodeId());
            if (FileType.ofMode(e.attr().mode()) == FileType.DIRECTORY) {
                collect(fs, e.nodeId(), path + "/" + name, nodes);
            }
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
    private static Map<String, String> presence(StorageBackend fs, Map<String, Long> nodes) throws FsException {
        Map<String, Long> dirs = new TreeMap<>();
        dirs.put("", StorageBackend.ROOT_ID);
        for (Map.Entry<String, Long> e : nodes.entrySet()) {
            if (FileType.ofMode(fs.getattr(ROOT, e.getValue(), -1).mode()) == FileType.DIRECTORY) {
                dirs.put(e.getKey(), e.getValue());
            }
        }
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, Long> d : dirs.entrySet()) {
            for (String name : NAMES) {
                String key = d.getKey() + "/" + name;
                try {
                    Entry e = fs.lookup(ROOT, d.getValue(), FileName.of(name));
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
    private static List<String> names(StorageBackend truth, long dir) throws FsException {
        List<String> names = new ArrayList<>(NAMES);
        long fh = truth.opendir(ROOT, dir, 0).fh();
        List<DirEntry> entries = new ArrayList<>();
        truth.readdir(ROOT, dir, fh, 0, entries::add);
        truth.releasedir(ROOT, dir, fh);
        for (DirEntry d : entries) {
            String name = new String(d.name().bytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!names.contains(name)) {
                names.add(name);
            }
        }
        return names;
    }

    private static String describe(Attr a) {
        return "ino " + a.ino() + " " + FileType.ofMode(a.mode()) + " mode " + Integer.toOctalString(a.mode())
                + " size " + a.size() + " nlink " + a.nlink() + " owner " + a.uid() + ":" + a.gid()
                + " mtime " + a.mtimeNs() + " ctime " + a.ctimeNs();
    }
}
