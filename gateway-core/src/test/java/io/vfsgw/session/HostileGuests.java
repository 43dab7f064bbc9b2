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
    /** One guest: its session and the calls it made. */
    public record Guest(FuseWireBackend session, HostileCalls calls) {
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
        List<Guest> guests = new ArrayList<>();
        List<CompletableFuture<Void>> runs = new ArrayList<>();
        for (int g = 0; g < count; g++) {
            long guestSeed = seed * 10 + g;
            FuseWireBackend session = FuseWireBackend.over(link,
                    new FuseSession(shared, SessionConfig.defaults("guest-" + g)), guestSeed);
            Guest guest = new Guest(session, plan.apply(session, guestSeed));
            guests.add(guest);
            runs.add(CompletableFuture.runAsync(() -> guest.calls().run(callsEach),
                    runnable -> new Thread(runnable, "guest-" + guests.size()).start()));
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
            guests.get(0).calls().releaseAndForgetEverything();
        }
        for (Guest g : guests) {
            assertEquals(0, g.session().bugCount(), "requests hit an unexpected exception in a session");
            assertEquals(0, g.session().extraCompletions(), "a request was answered twice");
            g.session().close();
        }
    }
}
