package io.vfsgw.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfsgw.cache.MetadataCache;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.HostileCalls;
import io.vfsgw.spi.StorageBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * Several hostile guests of one gateway at once, as `vfsgw serve` serves several VMs: each makes
 * its random calls ({@link HostileCalls}) as FUSE requests through its own session
 * ({@link FuseWireBackend}) on one shared cache and backend, on a thread of its own.
 */
public final class HostileGuests {
    /**
     * One process of a guest: the guest's number, the process's way to its session, and the calls
     * it made. A guest of one process is one of these.
     */
    public record Guest(int guest, FuseWireBackend session, HostileCalls calls) {
    }

    private HostileGuests() {
    }

    /**
     * Runs {@code count} guests at once, each making {@code callsEach} calls, and returns them once
     * all are done (at most 5 minutes). {@code plan} makes a guest's calls from its session and its
     * seed (derived from {@code seed}, one per guest).
     */
    public static List<Guest> runAtOnce(MetadataCache shared, long seed, int count, int callsEach,
                                        BiFunction<StorageBackend, Long, HostileCalls> plan) throws Exception {
        return runAtOnce(GuestLink.IN_PROCESS, shared, seed, count, callsEach, plan);
    }

    /** As {@link #runAtOnce(MetadataCache, long, int, int, BiFunction)}, each guest reaching its session through {@code link}. */
    public static List<Guest> runAtOnce(GuestLink link, MetadataCache shared, long seed, int count, int callsEach,
                                        BiFunction<StorageBackend, Long, HostileCalls> plan) throws Exception {
        return runAtOnce(link, shared, seed, count, 1, callsEach, plan);
    }

    /**
     * As above, each guest running {@code processes} processes at once over its one connection and
     * session, as a VM's programs do; the list holds every process, a guest's first process first.
     */
    public static List<Guest> runAtOnce(GuestLink link, MetadataCache shared, long seed, int count, int processes,
                                        int callsEach, BiFunction<StorageBackend, Long, HostileCalls> plan)
            throws Exception {
        List<Guest> guests = new ArrayList<>();
        List<CompletableFuture<Void>> runs = new ArrayList<>();
        for (int g = 0; g < count; g++) {
            long guestSeed = seed * 10 + g;
            FuseWireBackend first = FuseWireBackend.over(link,
                    new FuseSession(shared, SessionConfig.defaults("guest-" + g)), guestSeed);
            for (int p = 0; p < processes; p++) {
                long processSeed = guestSeed + 1000L * p;
                FuseWireBackend session = p == 0 ? first : first.anotherProcess(processSeed);
                Guest process = new Guest(g, session, plan.apply(session, processSeed));
                guests.add(process);
                runs.add(CompletableFuture.runAsync(() -> process.calls().run(callsEach),
                        runnable -> new Thread(runnable, "guest-" + process.guest() + "-process-" + runs.size()).start()));
            }
        }
        for (CompletableFuture<Void> run : runs) {
            run.get(5, TimeUnit.MINUTES);
        }
        return guests;
    }

    /**
     * Ends every guest's session: the first, if {@code firstUnmounts}, after releasing and forgetting
     * everything it holds, the others as guests that just go away (their sessions return what they
     * held). Fails if a session hit an unexpected exception or answered a request twice.
     */
    public static void leave(List<Guest> guests, boolean firstUnmounts) throws FsException {
        if (firstUnmounts) {
            for (Guest process : guests) {
                if (process.guest() == 0) {
                    process.calls().releaseAndForgetEverything();
                }
            }
        }
        for (Guest g : guests) {
            assertEquals(0, g.session().bugCount(), "requests hit an unexpected exception in a session");
            assertEquals(0, g.session().extraCompletions(), "a request was answered twice");
        }
        for (Guest g : guests) {
            g.session().close();   // a guest's first process ends it; the others end nothing
        }
    }
}
