package io.vfsgw.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class NodeTableTest {
    @Test
    void countsLookupsAndReleasesAtZero() {
        NodeTable t = new NodeTable(1);
        t.addLookup(5);
        t.addLookup(5);
        assertTrue(t.isKnown(5));
        assertEquals(2, t.lookupCount(5));
        assertEquals(1, t.forget(5, 1));
        assertTrue(t.isKnown(5));
        assertEquals(1, t.forget(5, 1));
        assertFalse(t.isKnown(5));
        assertEquals(0, t.size());
    }

    @Test
    void forgetNeverReleasesMoreThanHeld() {
        NodeTable t = new NodeTable(1);
        t.addLookup(7);
        assertEquals(1, t.forget(7, 1_000_000), "a hostile FORGET may only return what this connection holds");
        assertEquals(0, t.forget(7, 1));
        assertEquals(0, t.forget(99, 3), "unknown node");
    }

    @Test
    void rootIsAlwaysKnownAndNeverCounted() {
        NodeTable t = new NodeTable(1);
        assertTrue(t.isKnown(1));
        t.addLookup(1);
        assertEquals(0, t.size());
        assertEquals(0, t.forget(1, 1));
        assertFalse(t.isKnown(2));
    }

    @Test
    void drainReportsEverythingStillHeld() {
        NodeTable t = new NodeTable(1);
        t.addLookup(2);
        t.addLookup(2);
        t.addLookup(3);
        Map<Long, Long> released = new HashMap<>();
        t.drain(released::put);
        assertEquals(Map.of(2L, 2L, 3L, 1L), released);
        assertEquals(0, t.size());
    }

    @Test
    void concurrentLookupsAndForgetsBalance() throws Exception {
        NodeTable t = new NodeTable(1);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        for (int i = 0; i < 8; i++) {
            pool.execute(() -> {
                for (int k = 0; k < 10_000; k++) {
                    t.addLookup(42);
                    t.forget(42, 1);
                }
            });
        }
        pool.shutdown();
        assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        assertFalse(t.isKnown(42));
    }
}
