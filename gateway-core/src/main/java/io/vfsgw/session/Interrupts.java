package io.vfsgw.session;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Requests that may block for long (SETLKW) register their thread here so a FUSE INTERRUPT can wake
 * them; the blocked backend call then fails with EINTR.
 */
final class Interrupts {
    private final Map<Long, Thread> waiting = new ConcurrentHashMap<>();

    void begin(long unique) {
        waiting.put(unique, Thread.currentThread());
    }

    void end(long unique) {
        waiting.remove(unique);
        Thread.interrupted(); // clear a late interrupt so it cannot hit the next request on this thread
    }

    /** Returns true if the request was waiting and has been interrupted. */
    boolean interrupt(long unique) {
        Thread t = waiting.get(unique);
        if (t != null) {
            t.interrupt();
            return true;
        }
        return false;
    }

    int size() {
        return waiting.size();
    }
}
