package io.vfsgw.backend.mem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.MetadataCache;
import io.vfsgw.session.GuestLink;
import io.vfsgw.session.HostileGuests;
import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.DirListing;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.HostileCalls;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StatFs;
import io.vfsgw.spi.StorageBackend;
import io.vfsgw.transport.vhostuser.VirtioFsGuestLink;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A hostile guest at random ({@link HostileCalls}) against the in-memory backend: every failure an
 * errno, and nothing lost to it. Once the guest has released and forgotten everything and removed
 * every name, the backend's space and inodes are all free again (statfs as a fresh backend's):
 * no page or inode is held by a node no one can reach any more, whatever error paths ran.
 */
class MemBackendFuzzTest {
    private static final RequestContext ROOT = RequestContext.ROOT;
    private static final List<String> NAMES = List.of(".", "..", "a", "b", "d", "f", "x".repeat(255), "\u00e9t\u00e9");
    private static final List<String> SYMLINK_TARGETS = List.of("/", "..", "a", "");

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void randomHostileSequencesFailWithErrnosAndGiveEverythingBack(long seed) throws Exception {
        MemBackend mem = new MemBackend(MemOptions.ofCapacity(64L << 20));
        try {
            StatFs fresh = mem.statfs(ROOT, StorageBackend.ROOT_ID);
            HostileCalls calls = new HostileCalls(mem, seed, new SaneEntries(), NAMES, SYMLINK_TARGETS);
            calls.run(HostileCalls.CALLS);
            System.out.println("mem fuzz, seed " + seed + ": " + calls.summary());
            calls.releaseAndForgetEverything();
            assertEverythingFreeOnceRemoved(mem, fresh);
        } finally {
            mem.close();
        }
    }

    /**
     * The same calls as FUSE requests through a {@code FuseSession} (its decoding, node and handle
     * tables, reply encoding): every failure an errno, no request answered twice or hitting an
     * unexpected exception. Half the runs end as a guest that releases and forgets everything, half
     * as one that just goes away (the session closes with handles open and references held); either
     * way, once every name is removed, all space and inodes are free again.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4})
    void randomHostileRequestsThroughTheSessionGiveEverythingBack(long seed) throws Exception {
        guestsGiveEverythingBack(seed, 1, seed % 2 == 1);
    }

    /**
     * Two hostile guests at once, each through its own session on one shared cache and backend, as
     * `vfsgw serve` runs them: neither can name the other's nodes or handles (each session knows
     * only its own), races between them end in errnos, and once one has released everything and the
     * other has gone away, and every name is removed, all space and inodes are free again.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2})
    void twoHostileGuestsAtOnceGiveEverythingBack(long seed) throws Exception {
        guestsGiveEverythingBack(seed, 2, true);
    }

    /**
     * Two hostile guests at once as virtio-fs guests, each running two processes at once: each
     * request laid out in guest memory as a descriptor chain (at odd addresses, sometimes indirect),
     * carried over vhost-user virtqueues to a server of the guest's own, served by worker threads
     * that finish in any order, several in flight per guest. Nothing is answered twice or for no
     * request, and the guests leave everything free, as above.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2})
    void twoHostileGuestsOverVhostUserGiveEverythingBack(long seed) throws Exception {
        guestsGiveEverythingBack(new VirtioFsGuestLink(3, seed), seed, 2, 2, seed % 2 == 1);
    }

    private static void guestsGiveEverythingBack(long seed, int count, boolean firstUnmounts) throws Exception {
        guestsGiveEverythingBack(GuestLink.IN_PROCESS, seed, count, 1, firstUnmounts);
    }

    private static void guestsGiveEverythingBack(GuestLink link, long seed, int count, int processes,
                                                 boolean firstUnmounts) throws Exception {
        MemBackend mem = new MemBackend(MemOptions.ofCapacity(64L << 20));
        try {
            StatFs fresh = mem.statfs(ROOT, StorageBackend.ROOT_ID);
            List<HostileGuests.Guest> guests = HostileGuests.runAtOnce(link, new MetadataCache(mem, CacheConfig.defaults()),
                    seed, count, processes, HostileCalls.CALLS,
                    (session, guestSeed) -> new HostileCalls(session, guestSeed, new SaneEntries(), NAMES, SYMLINK_TARGETS));
            guests.forEach(g -> System.out.println("mem fuzz through a session, seed " + seed + ": " + g.calls().summary()));
            HostileGuests.leave(guests, firstUnmounts);
            assertEverythingFreeOnceRemoved(mem, fresh);
        } finally {
            mem.close();
        }
    }

    /** Removes every name, then checks that all space and inodes are free, as in {@code fresh}. */
    private static void assertEverythingFreeOnceRemoved(MemBackend mem, StatFs fresh) throws FsException {
        removeEverythingUnder(mem, StorageBackend.ROOT_ID);
        StatFs after = mem.statfs(ROOT, StorageBackend.ROOT_ID);
        assertEquals(fresh.blocksFree(), after.blocksFree(), "space still held after everything was removed");
        assertEquals(fresh.filesFree(), after.filesFree(), "inodes still held after everything was removed");
    }

    /** What any entry must look like, however it was reached. */
    private static final class SaneEntries implements HostileCalls.Checks {
        @Override
        public void handedOut(Entry e) {
            assertTrue(e.nodeId() != 0, "node id 0 handed out");
            assertTrue(e.attr() == null || e.attr().ino() == e.nodeId(), "attr of another node: " + e);
        }
    }

    /** rm -rf of everything below {@code dir}, through the SPI. */
    private static void removeEverythingUnder(StorageBackend fs, long dir) throws FsException {
        for (DirEntry d : DirListing.of(fs, ROOT, dir)) {
            FileName name = d.name();
            if (name.isDotOrDotDot()) {
                continue;
            }
            if (d.type() == FileType.DIRECTORY) {
                Entry sub = fs.lookup(ROOT, dir, name);
                removeEverythingUnder(fs, sub.nodeId());
                fs.forget(sub.nodeId(), 1);
                fs.rmdir(ROOT, dir, name);
            } else {
                fs.unlink(ROOT, dir, name);
            }
        }
    }
}
