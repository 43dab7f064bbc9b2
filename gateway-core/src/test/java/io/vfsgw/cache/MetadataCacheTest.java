package io.vfsgw.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Attr;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import io.vfsgw.spi.StatFs;
import io.vfsgw.spi.StorageBackend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MetadataCacheTest {
    /** A flat directory whose files' sizes the test changes "behind the gateway's back". */
    static final class FlatBackend implements StorageBackend {
        final Map<String, Long> ids = new ConcurrentHashMap<>();
        final Map<Long, Long> sizes = new ConcurrentHashMap<>();
        /** A node's ctime once a rename moved it (the size until then). */
        final Map<Long, Long> ctimes = new ConcurrentHashMap<>();
        final AtomicInteger getattrCalls = new AtomicInteger();
        final AtomicInteger lookupCalls = new AtomicInteger();
        /** Runs inside the next getattr, after it has read the attributes and before it returns them. */
        volatile FsRunnable duringGetattr;
        /** Runs inside the next lookup that misses, before it answers ENOENT. */
        volatile FsRunnable duringMiss;
        /** Runs inside the next lookup that finds its name, after it has read the attributes. */
        volatile FsRunnable duringHit;

        long add(String name, long size) {
            long id = ids.size() + 2;
            ids.put(name, id);
            sizes.put(id, size);
            return id;
        }

        Attr attr(long id) {
            long size = sizes.getOrDefault(id, 0L);
            return new Attr(id, size, 0, 0, size, ctimes.getOrDefault(id, size), id == 1 ? 040755 : 0100644, 1, 0, 0, 0, 4096);
        }

        @Override
        public String name() {
            return "flat";
        }

        @Override
        public Entry lookup(RequestContext ctx, long parent, FileName name) throws FsException {
            lookupCalls.incrementAndGet();
            Long id = ids.get(name.toString());
            if (id == null) {
                FsRunnable hook = duringMiss;
                duringMiss = null;
                if (hook != null) {
                    hook.run();
                }
                throw FsException.of(Errno.ENOENT);
            }
            Entry found = new Entry(id, 0, attr(id));
            FsRunnable hook = duringHit;
            duringHit = null;
            if (hook != null) {
                hook.run();
            }
            return found;
        }

        @Override
        public void forget(long node, long nlookup) {
        }

        @Override
        public Attr getattr(RequestContext ctx, long node, long fh) throws FsException {
            getattrCalls.incrementAndGet();
            Attr read = attr(node);
            FsRunnable hook = duringGetattr;
            duringGetattr = null;
            if (hook != null) {
                hook.run();
            }
            return read;
        }

        @Override
        public Attr setattr(RequestContext ctx, long node, SetAttr changes) {
            if (changes.size() != null) {
                sizes.put(node, changes.size());
            }
            return attr(node);
        }

        @Override
        public Entry mkdir(RequestContext ctx, long parent, FileName name, int mode, int umask) {
            long id = add(name.toString(), 0);
            return new Entry(id, 0, attr(id));
        }

        @Override
        public void rename(RequestContext ctx, long parent, FileName name, long newParent, FileName newName, int flags)
                throws FsException {
            Long id = ids.remove(name.toString());
            if (id == null) {
                throw FsException.of(Errno.ENOENT);
            }
            ids.put(newName.toString(), id);
            ctimes.put(id, ctimes.getOrDefault(id, sizes.get(id)) + 1);
        }

        @Override
        public StatFs statfs(RequestContext ctx, long node) {
            return new StatFs(1, 1, 1, 1, 1, 4096, 255, 4096);
        }
    }

    interface FsRunnable {
        void run() throws FsException;
    }

    private final RequestContext ctx = RequestContext.ROOT;
    private final ManualTicker ticker = new ManualTicker();
    private final FlatBackend backend = new FlatBackend();

    private MetadataCache cache(CacheMode mode) {
        return new MetadataCache(backend, new CacheConfig(mode, Duration.ofSeconds(1), 1000), ticker);
    }

    @Test
    void attributesAreServedFromCacheUntilTheTimeout() throws Exception {
        long id = backend.add("f", 10);
        MetadataCache c = cache(CacheMode.AUTO);
        c.getattr(ctx, id, -1);
        c.getattr(ctx, id, -1);
        assertEquals(1, backend.getattrCalls.get());
        ticker.advance(Duration.ofMillis(1001));
        c.getattr(ctx, id, -1);
        assertEquals(2, backend.getattrCalls.get());
        assertEquals(1, c.stats().attrHits());
    }

    @Test
    void modeNoneCachesNothing() throws Exception {
        long id = backend.add("f", 10);
        MetadataCache c = cache(CacheMode.NONE);
        c.getattr(ctx, id, -1);
        c.getattr(ctx, id, -1);
        assertEquals(2, backend.getattrCalls.get());
        assertThrows(FsException.class, () -> c.lookup(ctx, 1, FileName.literal("missing")));
        assertThrows(FsException.class, () -> c.lookup(ctx, 1, FileName.literal("missing")));
        assertEquals(2, backend.lookupCalls.get());
    }

    @Test
    void aMutationThroughTheGatewayIsSeenAtOnceAndBumpsTheVersion() throws Exception {
        long id = backend.add("f", 10);
        MetadataCache c = cache(CacheMode.ALWAYS);
        assertEquals(10, c.getattr(ctx, id, -1).size());
        long v = c.version(id);
        c.setattr(ctx, id, SetAttr.size(99));
        assertEquals(99, c.getattr(ctx, id, -1).size());
        assertNotEquals(v, c.version(id));
    }

    /**
     * Another guest's change lands while a getattr is reading the backend: the attributes read are
     * already old, and must not be cached as current (they would be served until the timeout, and
     * for ever under --cache always).
     */
    @Test
    void aGetattrThatAChangeOvertookCachesNothing() throws Exception {
        long id = backend.add("f", 10);
        MetadataCache c = cache(CacheMode.ALWAYS);
        backend.duringGetattr = () -> c.setattr(ctx, id, SetAttr.size(99));
        assertEquals(10, c.getattr(ctx, id, -1).size(), "the read that was overtaken");
        assertEquals(99, c.getattr(ctx, id, -1).size());
    }

    /**
     * Likewise the attributes a lookup found: another guest's change landing while the lookup reads
     * the backend makes them old before the lookup returns (found by two guests at once on posix,
     * where a lookup takes long enough: a write's new size hidden for good under a stopped clock).
     */
    @Test
    void aLookupThatAChangeOvertookCachesNoAttributes() throws Exception {
        long id = backend.add("f", 10);
        MetadataCache c = cache(CacheMode.ALWAYS);
        c.getattr(ctx, id, -1);   // the node is known: it has a version the change moves
        ticker.advance(Duration.ofDays(1));
        backend.duringHit = () -> c.setattr(ctx, id, SetAttr.size(99));
        assertEquals(10, c.lookup(ctx, StorageBackend.ROOT_ID, FileName.literal("f")).attr().size(),
                "the lookup that was overtaken");
        assertEquals(99, c.getattr(ctx, id, -1).size());
    }

    /**
     * A rename by a name no lookup through the cache resolved (a hostile kernel may send one; so may
     * a kernel whose dentries outlived the cache's emptied map) still reaches the moved node's
     * cached attributes: its ctime moved.
     */
    @Test
    void aRenameOfANameNeverLookedUpHereReachesTheMovedNodesAttributes() throws Exception {
        long id = backend.add("f", 10);
        MetadataCache c = cache(CacheMode.ALWAYS);
        long ctime = c.getattr(ctx, id, -1).ctimeNs();   // cached; the cache never saw the name
        c.rename(ctx, StorageBackend.ROOT_ID, FileName.literal("f"), StorageBackend.ROOT_ID, FileName.literal("g"), 0);
        assertNotEquals(ctime, c.getattr(ctx, id, -1).ctimeNs());
    }

    /** Likewise a miss that a create of the name overtook is not cached as a negative entry. */
    @Test
    void aMissThatACreateOvertookIsNotCached() throws Exception {
        MetadataCache c = cache(CacheMode.ALWAYS);
        backend.duringMiss = () -> c.mkdir(ctx, StorageBackend.ROOT_ID, FileName.literal("d"), 0755, 022);
        assertThrows(FsException.class, () -> c.lookup(ctx, StorageBackend.ROOT_ID, FileName.literal("d")));
        assertEquals(backend.ids.get("d"), c.lookup(ctx, StorageBackend.ROOT_ID, FileName.literal("d")).nodeId());
    }

    @Test
    void negativeLookupIsCachedAndDroppedWhenTheNameIsCreated() throws Exception {
        MetadataCache c = cache(CacheMode.AUTO);
        assertThrows(FsException.class, () -> c.lookup(ctx, 1, FileName.literal("d")));
        assertThrows(FsException.class, () -> c.lookup(ctx, 1, FileName.literal("d")));
        assertEquals(1, backend.lookupCalls.get(), "second ENOENT answered from the cache");
        c.mkdir(ctx, 1, FileName.literal("d"), 0755, 0);
        assertEquals("d", backend.ids.keySet().iterator().next());
        c.lookup(ctx, 1, FileName.literal("d"));
    }

    @Test
    void aChangeBehindOurBackIsDetectedWhenTheCacheExpires() throws Exception {
        long id = backend.add("f", 10);
        MetadataCache c = cache(CacheMode.AUTO);
        c.getattr(ctx, id, -1);
        long v = c.version(id);
        backend.sizes.put(id, 20L);
        assertEquals(10, c.getattr(ctx, id, -1).size(), "still trusted within the timeout");
        ticker.advance(Duration.ofSeconds(2));
        assertEquals(20, c.getattr(ctx, id, -1).size());
        assertNotEquals(v, c.version(id), "a detected change moves the version (drops keep_cache)");
    }

    @Test
    void listenersHearWhoChangedWhat() throws Exception {
        long id = backend.add("f", 10);
        MetadataCache c = cache(CacheMode.AUTO);
        List<String> events = new ArrayList<>();
        c.addListener(new ChangeListener() {
            @Override
            public void nodeChanged(long origin, long node) {
                events.add("node " + origin + " " + node);
            }

            @Override
            public void entryChanged(long origin, long parent, FileName name) {
                events.add("entry " + origin + " " + parent + " " + name);
            }
        });
        ChangeOrigin.set(7);
        try {
            c.setattr(ctx, id, SetAttr.size(1));
            c.mkdir(ctx, 1, FileName.literal("sub"), 0755, 0);
        } finally {
            ChangeOrigin.clear();
        }
        assertEquals(List.of("node 7 " + id, "node 7 1", "entry 7 1 sub"), events);
    }

    @Test
    void aFullCacheEmptiesItselfAndNeverServesAnAttributeItCanNoLongerInvalidate() throws Exception {
        long[] ids = {backend.add("a", 1), backend.add("b", 2), backend.add("c", 3)};
        MetadataCache c = new MetadataCache(backend, new CacheConfig(CacheMode.ALWAYS, Duration.ofSeconds(1), 2),
                ticker);
        c.lookup(ctx, 1, FileName.literal("a"));
        c.lookup(ctx, 1, FileName.literal("b"));
        c.getattr(ctx, ids[0], -1);
        assertEquals(0, backend.getattrCalls.get(), "a's attributes came with its lookup");
        c.lookup(ctx, 1, FileName.literal("c")); // the child map is full: it and the attributes start over
        c.getattr(ctx, ids[0], -1);
        assertEquals(1, backend.getattrCalls.get(), "a's attributes went with the entry that invalidates them");
        c.getattr(ctx, ids[2], -1);
        assertEquals(1, backend.getattrCalls.get(), "c's were cached after the reset");
        for (int i = 0; i < 50; i++) {
            assertThrows(FsException.class, () -> c.lookup(ctx, 1, FileName.literal("missing" + ticker.read())));
            ticker.advance(Duration.ofNanos(1));
        }
        assertTrue(c.stats().size() <= 4, "attributes and negative entries stay within their bounds");
    }
}
