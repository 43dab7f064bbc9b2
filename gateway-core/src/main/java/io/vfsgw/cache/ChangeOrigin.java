package io.vfsgw.cache;

/**
 * Which session the current thread works for, so a change can be attributed to it and other
 * sessions told. Set by the session around each request it dispatches.
 */
public final class ChangeOrigin {
    private static final ThreadLocal<long[]> CURRENT = ThreadLocal.withInitial(() -> new long[1]);

    private ChangeOrigin() {
    }

    public static void set(long sessionId) {
        CURRENT.get()[0] = sessionId;
    }

    public static void clear() {
        CURRENT.get()[0] = 0;
    }

    public static long current() {
        return CURRENT.get()[0];
    }
}
