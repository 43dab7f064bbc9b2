package io.vfsgw.session;

import static io.vfsgw.session.SessionFixture.O_RDWR;
import static io.vfsgw.session.SessionFixture.ROOT;
import static io.vfsgw.session.SessionFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.fuse.FileLock;
import io.vfsgw.fuse.LkOut;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.fuse.RequestFlags;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.StorageBackend;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Blocking locks woken by INTERRUPT, lock conflicts between guests, and RENAME2 flags. */
class SessionLockAndRenameTest {
    private static final int F_RDLCK = 0;
    private static final int F_WRLCK = 1;
    private static final int F_UNLCK = 2;

    private final SessionFixture fx = new SessionFixture().initialized();
    private final FuseHarness fuse = fx.fuse;

    @AfterEach
    void close() {
        fx.close();
    }

    /** Polls until the condition holds (5 s at most); never a fixed sleep. */
    private static void awaitCondition(java.util.function.BooleanSupplier c, String what) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    @Test
    void setlkwBlockedOnAConflictIsWokenByInterruptWithEintr() {
        FuseHarness.Created c = fuse.create(ROOT, "locked", 0644, O_RDWR);
        long n = c.nodeid();
        long fh2 = fuse.open(n, O_RDWR).fh();
        FileLock whole = new FileLock(0, Long.MAX_VALUE, F_WRLCK, 100);
        assertTrue(fuse.lock(Opcode.SETLK, n, c.fh(), 1, whole, 0).ok());
        // Another owner cannot take it without waiting.
        assertEquals(Errno.EAGAIN, fuse.lock(Opcode.SETLK, n, fh2, 2, whole, 0).errno());

        long waiting = fuse.peekUnique();
        CompletableFuture<FuseHarness.HarnessReply> blocked = fuse.lockOnThread(Opcode.SETLKW, n, fh2, 2, whole);
        awaitCondition(() -> fx.session.interrupts.size() == 1, "the SETLKW to start waiting");
        assertFalse(blocked.isDone(), "SETLKW must wait while the conflicting lock is held");

        assertFalse(fuse.interrupt(waiting).replied(), "INTERRUPT gets no reply of its own");
        FuseHarness.HarnessReply r = fuse.join(blocked);
        assertEquals(Errno.EINTR, r.errno());
        assertEquals(0, fx.session.interrupts.size());

        // The lock is still the first owner's; after unlocking, the second owner gets it at once.
        assertEquals(Errno.EAGAIN, fuse.lock(Opcode.SETLK, n, fh2, 2, whole, 0).errno());
        assertTrue(fuse.lock(Opcode.SETLK, n, c.fh(), 1, new FileLock(0, Long.MAX_VALUE, F_UNLCK, 100), 0).ok());
        assertTrue(fuse.lock(Opcode.SETLKW, n, fh2, 2, whole, 0).ok());
        // An INTERRUPT for a request that is not waiting is harmless.
        assertFalse(fuse.interrupt(123456789).replied());
        assertEquals(0, fx.session.bugCount());
    }

    @Test
    void anInterruptThatOvertakesItsSetlkwStillWakesIt() {
        // Over /dev/fuse with several reader threads, the INTERRUPT can be served before the SETLKW it
        // names has started to wait; the SETLKW must then fail with EINTR instead of waiting forever.
        FuseHarness.Created c = fuse.create(ROOT, "overtaken", 0644, O_RDWR);
        long n = c.nodeid();
        long fh2 = fuse.open(n, O_RDWR).fh();
        FileLock whole = new FileLock(0, Long.MAX_VALUE, F_WRLCK, 100);
        assertTrue(fuse.lock(Opcode.SETLK, n, c.fh(), 1, whole, 0).ok());
        long setlkw = fuse.peekUnique() + 1;   // the INTERRUPT takes the next unique, the SETLKW the one after
        assertFalse(fuse.interrupt(setlkw).replied());
        CompletableFuture<FuseHarness.HarnessReply> r = fuse.lockOnThread(Opcode.SETLKW, n, fh2, 2, whole);
        assertEquals(Errno.EINTR, fuse.join(r).errno());
        // The remembered interrupt is used up: a later SETLKW (another unique) waits and is granted.
        assertTrue(fuse.lock(Opcode.SETLK, n, c.fh(), 1, new FileLock(0, Long.MAX_VALUE, F_UNLCK, 100), 0).ok());
        assertTrue(fuse.lock(Opcode.SETLKW, n, fh2, 2, whole, 0).ok());
    }

    @Test
    void closingTheSessionWakesAWaitingSetlkw() {
        // The guest went away: nobody will INTERRUPT or unlock, and the worker thread must not hang.
        FuseHarness.Created c = fuse.create(ROOT, "teardown", 0644, O_RDWR);
        long n = c.nodeid();
        long fh2 = fuse.open(n, O_RDWR).fh();
        FileLock whole = new FileLock(0, Long.MAX_VALUE, F_WRLCK, 100);
        try (SessionFixture holder = fx.sibling().initialized()) {
            long hn = holder.fuse.lookup(ROOT, "teardown").nodeid();
            long hfh = holder.fuse.open(hn, O_RDWR).fh();
            assertTrue(holder.fuse.lock(Opcode.SETLK, hn, hfh, 9, whole, 0).ok());
            CompletableFuture<FuseHarness.HarnessReply> blocked = fuse.lockOnThread(Opcode.SETLKW, n, fh2, 2, whole);
            awaitCondition(() -> fx.session.interrupts.size() == 1, "the SETLKW to start waiting");
            fx.session.close();
            assertEquals(Errno.EINTR, fuse.join(blocked).errno());
        }
    }

    @Test
    void setlkwIsGrantedWhenTheHolderUnlocks() {
        FuseHarness.Created c = fuse.create(ROOT, "l2", 0644, O_RDWR);
        long n = c.nodeid();
        long fh2 = fuse.open(n, O_RDWR).fh();
        FileLock range = new FileLock(10, 19, F_WRLCK, 100);
        assertTrue(fuse.lock(Opcode.SETLK, n, c.fh(), 1, range, 0).ok());
        CompletableFuture<FuseHarness.HarnessReply> blocked = fuse.lockOnThread(Opcode.SETLKW, n, fh2, 2,
                new FileLock(15, 30, F_RDLCK, 200));
        awaitCondition(() -> fx.session.interrupts.size() == 1, "the SETLKW to start waiting");
        assertTrue(fuse.lock(Opcode.SETLK, n, c.fh(), 1, new FileLock(10, 19, F_UNLCK, 100), 0).ok());
        assertTrue(fuse.join(blocked).ok());
        // GETLK from the first owner now reports the reader.
        LkOut lk = decodeLk(fuse.lock(Opcode.GETLK, n, c.fh(), 1, new FileLock(0, 100, F_WRLCK, 100), 0));
        assertEquals(F_RDLCK, lk.lk().type());
        assertEquals(15, lk.lk().start());
    }

    @Test
    void locksOfTwoGuestsConflict() {
        FuseHarness.Created c = fuse.create(ROOT, "shared-lock", 0644, O_RDWR);
        try (SessionFixture other = fx.sibling().initialized()) {
            long on = other.fuse.lookup(ROOT, "shared-lock").nodeid();
            long ofh = other.fuse.open(on, O_RDWR).fh();
            assertTrue(fuse.lock(Opcode.SETLK, c.nodeid(), c.fh(), 1, new FileLock(0, 0, F_WRLCK, 1),
                    RequestFlags.FUSE_LK_FLOCK).ok());
            assertEquals(Errno.EAGAIN, other.fuse.lock(Opcode.SETLK, on, ofh, 1, new FileLock(0, 0, F_WRLCK, 1),
                    RequestFlags.FUSE_LK_FLOCK).errno());
        }
    }

    private static LkOut decodeLk(FuseHarness.HarnessReply r) {
        try {
            return LkOut.decode(r.expectOk());
        } catch (io.vfsgw.fuse.MalformedRequestException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void rename2WithBadFlagsIsEinvalAndChangesNothing() {
        fuse.create(ROOT, "a", 0644, O_RDWR);
        fuse.create(ROOT, "b", 0644, O_RDWR);
        int both = StorageBackend.RENAME_NOREPLACE | StorageBackend.RENAME_EXCHANGE;
        assertErrno(Errno.EINVAL, fuse.rename2(ROOT, "a", ROOT, "c", both));
        assertErrno(Errno.EINVAL, fuse.rename2(ROOT, "a", ROOT, "c", 1 << 7));
        assertErrno(Errno.EINVAL, fuse.rename2(ROOT, "a", ROOT, "c", -1));
        assertTrue(fuse.lookup(ROOT, "a").nodeid() != 0);
        assertEquals(0, fuse.lookup(ROOT, "c").nodeid(), "nothing was renamed");
        // The valid flags do what they say.
        assertErrno(Errno.EEXIST, fuse.rename2(ROOT, "a", ROOT, "b", StorageBackend.RENAME_NOREPLACE));
        long a = fuse.lookup(ROOT, "a").nodeid();
        long b = fuse.lookup(ROOT, "b").nodeid();
        assertTrue(fuse.rename2(ROOT, "a", ROOT, "b", StorageBackend.RENAME_EXCHANGE).ok());
        assertEquals(b, fuse.lookup(ROOT, "a").nodeid());
        assertEquals(a, fuse.lookup(ROOT, "b").nodeid());
        assertErrno(Errno.ENOENT, fuse.rename2(ROOT, "a", ROOT, "zz", StorageBackend.RENAME_EXCHANGE));
        assertTrue(fuse.rename2(ROOT, "a", ROOT, "c", 0).ok());
        assertErrno(Errno.ESTALE, fuse.rename2(ROOT, "c", 99999, "d", 0));
    }
}
