package io.vfsgw.backend.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfsgw.cache.CacheCoherence;
import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.ManualTicker;
import io.vfsgw.cache.MetadataCache;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The metadata cache over the posix backend under random hostile calls, its clock stopped so
 * nothing it caches expires: what it answers must be what the host holds, as with mem
 * ({@code MetadataCacheCoherenceTest}), but with the host's own ctime and link counts, which move
 * on calls mem models differently (rename, link, truncating opens).
 */
class PosixCacheCoherenceTest {
    private static final List<String> NAMES = List.of(".", "..", "a", "b", "d", "f", "x".repeat(255), "\u00e9t\u00e9");
    private static final List<String> SYMLINK_TARGETS = List.of("/", "..", "a", "");

    private static final RequestContext ROOT = RequestContext.ROOT;

    private HostTree tree;

    @BeforeEach
    void setUp() throws Exception {
        tree = HostTree.create("cache-coherence");
    }

    @AfterEach
    void cleanUp() throws Exception {
        tree.delete();
    }

    /**
     * A guest may forget a node while it still has the file open (a real kernel never does; a
     * hostile one may). The file's next lookup must find the same node, not a new one, or a write
     * through the open handle changes a node whose cached attributes no lookup reaches any more
     * while the new node's stay stale (found by two guests at once: another guest's view of the
     * file kept its old size and mtime for good under a stopped clock).
     */
    @Test
    void aNodeForgottenWhileItsFileIsOpenIsTheNodeTheNextLookupFinds() throws Exception {
        Files.writeString(tree.source().resolve("f"), "");
        PosixBackend posix = PosixBackend.open(PosixOptions.of(tree.source()));
        MetadataCache cache = new MetadataCache(posix, CacheConfig.defaults(), new ManualTicker());
        try {
            FileName f = FileName.literal("f");
            long first = cache.lookup(ROOT, StorageBackend.ROOT_ID, f).nodeId();
            long fh = cache.open(ROOT, first, OpenFlags.O_RDWR).fh();
            cache.forget(first, 1);
            Entry again = cache.lookup(ROOT, StorageBackend.ROOT_ID, f);
            assertEquals(first, again.nodeId(), "one host file, two nodes at once");
            cache.write(ROOT, first, fh, 0, new Buffers.Source("hello".getBytes()), false);
            assertEquals(5, cache.getattr(ROOT, again.nodeId(), -1).size(), "the cache missed the write");
            cache.release(ROOT, first, fh, 0, 0);
            assertEquals(2, posix.nodeCount(), "the root and f, looked up again");
            cache.forget(again.nodeId(), 1);
            assertEquals(1, posix.nodeCount(), "the node outlived its last lookup and handle");
        } finally {
            cache.close();
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2})
    void whatTheCacheAnswersIsWhatTheHostHoldsAfterAnySequence(long seed) throws Exception {
        CacheCoherence.afterRandomCalls(PosixBackend.open(PosixOptions.of(tree.source())), seed, NAMES, SYMLINK_TARGETS);
    }

    /**
     * Two guests at once, each through its own session on the one cache: no change one makes on the
     * host may have its invalidation lost to a read the other makes meanwhile.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2})
    void whatTheCacheAnswersIsWhatTheHostHoldsAfterTwoGuestsAtOnce(long seed) throws Exception {
        CacheCoherence.afterGuestsAtOnce(PosixBackend.open(PosixOptions.of(tree.source())), seed, NAMES, SYMLINK_TARGETS);
    }
}
