package io.vfsgw.session;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ObjLongConsumer;

/**
 * The lookup references one FUSE connection holds, per node id. The kernel may only name nodes it
 * was given; FORGET returns at most what the connection holds (a hostile guest cannot release
 * references another guest holds on the shared backend), and at DESTROY or disconnect everything
 * still held is returned.
 */
public final class NodeTable {
    private final Map<Long, long[]> counts = new ConcurrentHashMap<>();
    private final long rootId;

    public NodeTable(long rootId) {
        this.rootId = rootId;
    }

    /** Records one more reference handed to the kernel. */
    public void addLookup(long node) {
        if (node == rootId) {
            return;
        }
        counts.compute(node, (k, v) -> {
            if (v == null) {
                return new long[] {1};
            }
            v[0]++;
            return v;
        });
    }

    /** True if the kernel may name this node (root, or at least one reference held). */
    public boolean isKnown(long node) {
        return node == rootId || counts.containsKey(node);
    }

    /**
     * Drops up to {@code n} references and returns how many were really held (what the backend
     * should be told to forget).
     */
    public long forget(long node, long n) {
        if (node == rootId || n <= 0) {
            return 0;
        }
        long[] released = new long[1];
        counts.computeIfPresent(node, (k, v) -> {
            long r = Math.min(v[0], n);
            released[0] = r;
            v[0] -= r;
            return v[0] == 0 ? null : v;
        });
        return released[0];
    }

    public long lookupCount(long node) {
        long[] v = counts.get(node);
        return v == null ? 0 : v[0];
    }

    public int size() {
        return counts.size();
    }

    /** Removes every reference, reporting each (node, count) so the backend can be told. */
    public void drain(ObjLongConsumer<Long> onRelease) {
        for (Long node : counts.keySet()) {
            long[] v = counts.remove(node);
            if (v != null && v[0] > 0) {
                onRelease.accept(node, v[0]);
            }
        }
    }
}
