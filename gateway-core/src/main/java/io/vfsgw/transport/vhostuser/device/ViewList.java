package io.vfsgw.transport.vhostuser.device;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The guest memory views a descriptor walk collects, reused from chain to chain: a typed array, so
 * the exact-size copy a chain keeps is a plain array copy (an ArrayList's {@code toArray} checks
 * every element's type on the way, a visible cost per request under C1). Arrays are made with
 * {@code new ByteBuffer[n]}, never {@code Arrays.copyOf}, which creates them reflectively: a native
 * call under C1.
 */
final class ViewList {
    private ByteBuffer[] items = new ByteBuffer[8];
    private int size;

    void add(ByteBuffer view) {
        if (size == items.length) {
            items = copy(items.length * 2);
        }
        items[size++] = view;
    }

    /** The views collected, in order, as a new array of exactly that length. */
    ByteBuffer[] toArray() {
        return copy(size);
    }

    private ByteBuffer[] copy(int length) {
        ByteBuffer[] a = new ByteBuffer[length];
        System.arraycopy(items, 0, a, 0, size);
        return a;
    }

    /** Empties the list, dropping its references so no guest memory view outlives its chain here. */
    void clear() {
        Arrays.fill(items, 0, size, null);
        size = 0;
    }
}
