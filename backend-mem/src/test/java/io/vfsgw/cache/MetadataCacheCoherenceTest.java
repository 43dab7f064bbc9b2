package io.vfsgw.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vfsgw.backend.mem.MemBackend;
import io.vfsgw.backend.mem.MemOptions;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.util.List;
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
            assertEquals(CacheCoherence.describe(mem.getattr(ROOT, f, -1)), CacheCoherence.describe(cache.getattr(ROOT, f, -1)),
                    "a second rename reaches the node");
            assertThrows(FsException.class, () -> cache.rmdir(ROOT, root, FileName.of("c"))); // ENOTDIR
            cache.getattr(ROOT, f, -1);
            cache.unlink(ROOT, root, FileName.of("c"));
            assertEquals(CacheCoherence.describe(mem.getattr(ROOT, f, -1)), CacheCoherence.describe(cache.getattr(ROOT, f, -1)),
                    "an unlink after a failed rmdir of the name reaches the node");
            assertEquals(1, cache.getattr(ROOT, f, -1).nlink());
        } finally {
            cache.close();
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void whatTheCacheAnswersIsWhatTheBackendHoldsAfterAnySequence(long seed) throws Exception {
        CacheCoherence.afterRandomCalls(new MemBackend(MemOptions.ofCapacity(64L << 20)), seed, NAMES, SYMLINK_TARGETS);
    }

    /** The same with two guests at once, each through its own session, racing each other's changes. */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2})
    void twoGuestsAtOnceLeaveTheCacheAnsweringWhatTheBackendHolds(long seed) throws Exception {
        CacheCoherence.afterGuestsAtOnce(new MemBackend(MemOptions.ofCapacity(64L << 20)), seed, NAMES, SYMLINK_TARGETS);
    }
}
