package io.vfsgw.session;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.CacheMode;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What a session offers the kernel, as the cache mode decides it. */
class SessionConfigTest {

    @Test
    void cacheNoneListsNamesOnlyAndTheOtherModesWithAttributes() {
        SessionConfig none = SessionConfig.defaults("test")
                .withCache(new CacheConfig(CacheMode.NONE, Duration.ofSeconds(1), 100));
        assertFalse(none.initPolicy().readdirplus(), "cache none: READDIRPLUS would be looked up and forgotten");
        for (CacheMode m : new CacheMode[] {CacheMode.AUTO, CacheMode.ALWAYS}) {
            assertTrue(none.withCache(new CacheConfig(m, Duration.ofSeconds(1), 100)).initPolicy().readdirplus(), m.name());
        }
        assertTrue(SessionConfig.defaults("test").initPolicy().readdirplus());
    }
}
