package io.vfsgw.backend.posix;

import io.vfsgw.cache.CacheCoherence;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
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

    private HostTree tree;

    @BeforeEach
    void setUp() throws Exception {
        tree = HostTree.create("cache-coherence");
    }

    @AfterEach
    void cleanUp() throws Exception {
        tree.delete();
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
