package io.vfsgw.transport.vhostuser.device;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Notices queue threads that have spent longer than their inline budget on one request and has a
 * follower take their ring over ({@link Vring.Crew#checkStall}). One daemon thread per process; it
 * ticks every {@link #TICK_NANOS} while requests run and parks after a second without any, so an
 * idle gateway costs no wake-ups.
 */
final class StallWatch {
    static final StallWatch INSTANCE = new StallWatch();

    static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    private static final int IDLE_TICKS_BEFORE_PARKING = 500;

    private final Set<Vring.Crew> crews = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    /** Set before the watch parks for good; a request starting then unparks it (Dekker with busy flags). */
    private volatile boolean parked;
    private volatile boolean requestSeen;

    private StallWatch() {
        thread = new Thread(this::run, "vfsgw-stall-watch");
        thread.setDaemon(true);
        thread.start();
    }

    void register(Vring.Crew crew) {
        crews.add(crew);
    }

    void unregister(Vring.Crew crew) {
        crews.remove(crew);
    }

    /** A queue thread starts processing a request inline (its crew has marked itself busy first). */
    void requestStarted() {
        if (!requestSeen) {
            requestSeen = true;
        }
        if (parked) {
            LockSupport.unpark(thread);
        }
    }

    private void run() {
        int idleTicks = 0;
        while (true) {
            boolean busy = scan();
            if (busy || requestSeen) {
                requestSeen = false;
                idleTicks = 0;
            } else if (++idleTicks >= IDLE_TICKS_BEFORE_PARKING) {
                parked = true;
                // A crew that turned busy before seeing parked=true is caught by this scan.
                if (!scan()) {
                    LockSupport.park(this);
                }
                parked = false;
                idleTicks = 0;
                continue;
            }
            LockSupport.parkNanos(this, TICK_NANOS);
        }
    }

    private boolean scan() {
        long now = System.nanoTime();
        boolean busy = false;
        for (Vring.Crew c : crews) {
            busy |= c.checkStall(now);
        }
        return busy;
    }
}
