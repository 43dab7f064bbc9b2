package io.vfsgw.session;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Requests that may block for long (SETLKW) register their thread here so a FUSE INTERRUPT can wake
 * them; the blocked backend call then fails with EINTR.
 *
 * <p>An INTERRUPT can overtake the request it names (several /dev/fuse reader threads: the INTERRUPT
 * is served before the SETLKW has registered), so an interrupt for a request not waiting is
 * remembered and consumed by {@link #begin}. Kernel uniques are never reused on a connection, so a
 * remembered one cannot hit another request; the memory is bounded because most such interrupts name
 * requests that already finished.
 */
final class Interrupts {
    /** How many interrupts for requests not (yet) waiting are remembered. */
    static final int MAX_PENDING = 1024;

    private final Map<Long, Thread> waiting = new ConcurrentHashMap<>();
    private final Map<Long, Boolean> pending = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
            return size() > MAX_PENDING;
        }
    };

    /** Registers the calling thread as waiting on behalf of {@code unique}; interrupts it at once if asked. */
    void begin(long unique) {
        synchronized (pending) {
            waiting.put(unique, Thread.currentThread());
            if (pending.remove(unique) != null) {
                Thread.currentThread().interrupt();
            }
        }
    }

    void end(long unique) {
        synchronized (pending) {   // so an interrupt() racing with us lands before the flag is cleared
            waiting.remove(unique);
            Thread.interrupted(); // clear a late interrupt so it cannot hit the next request on this thread
        }
    }

    /** Returns true if the request was waiting and has been interrupted; else remembers the interrupt. */
    boolean interrupt(long unique) {
        synchronized (pending) {
            Thread t = waiting.get(unique);
            if (t != null) {
                t.interrupt();
                return true;
            }
            pending.put(unique, Boolean.TRUE);
            return false;
        }
    }

    /** Wakes every waiting request (connection teardown: nobody will unlock or interrupt them any more). */
    void interruptAll() {
        synchronized (pending) {
            waiting.values().forEach(Thread::interrupt);
        }
    }

    int size() {
        return waiting.size();
    }

    int pendingCount() {
        synchronized (pending) {
            return pending.size();
        }
    }
}
