package io.vfsgw.session;

import static io.vfsgw.session.SessionFixture.O_RDWR;
import static io.vfsgw.session.SessionFixture.ROOT;
import static io.vfsgw.session.SessionFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.fuse.Direntplus;
import io.vfsgw.fuse.ForgetOne;
import io.vfsgw.fuse.OpenIn;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.spi.Errno;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Lookup references: what the kernel may name, what FORGET releases, and what teardown returns. */
class SessionReferencesTest {
    private final SessionFixture fx = new SessionFixture().initialized();
    private final FuseHarness fuse = fx.fuse;

    @AfterEach
    void close() {
        fx.close();
    }

    private long freeBlocks() {
        return fuse.statfs(ROOT).bfree();
    }

    @Test
    void nodesNeverHandedOutAreStale() {
        long ghost = 424242;
        assertErrno(Errno.ESTALE, () -> fuse.getattr(ghost));
        assertErrno(Errno.ESTALE, () -> fuse.lookup(ghost, "x"));
        assertErrno(Errno.ESTALE, () -> fuse.open(ghost, 0));
        assertErrno(Errno.ESTALE, () -> fuse.mkdir(ghost, "d", 0755));
        assertErrno(Errno.ESTALE, fuse.statfsReply(ghost));
        // A node that exists in the backend but was never given to THIS connection is stale too.
        SessionFixture other = fx.sibling().initialized();
        try {
            long n = other.fuse.create(ROOT, "theirs", 0644, O_RDWR).nodeid();
            assertErrno(Errno.ESTALE, () -> fuse.getattr(n));
            assertEquals(n, fuse.lookup(ROOT, "theirs").nodeid());
            assertEquals(0, fuse.getattr(n).attr().size());
        } finally {
            other.close();
        }
    }

    @Test
    void forgetReleasesAtMostWhatWasHeld() {
        long n = fuse.mkdir(ROOT, "d", 0755).nodeid();
        fuse.lookup(ROOT, "d");
        assertEquals(2, fx.session.nodes.lookupCount(n));
        assertFalse(fuse.forget(n, 1).replied(), "FORGET gets no reply");
        assertEquals(1, fx.session.nodes.lookupCount(n));
        assertEquals(2, fuse.getattr(n).attr().nlink(), "still usable with one reference");

        // Another guest holds the same node; a hostile FORGET of a huge count must not release that.
        SessionFixture other = fx.sibling().initialized();
        try {
            other.fuse.lookup(ROOT, "d");
            assertFalse(fuse.forget(n, Long.MAX_VALUE).replied());
            assertEquals(0, fx.session.nodes.lookupCount(n));
            assertErrno(Errno.ESTALE, () -> fuse.getattr(n));
            assertFalse(fuse.forget(n, 5).replied(), "forgetting an unknown node is ignored");
            // rmdir while the other guest still holds it: its node must stay usable until it forgets.
            assertTrue(fuse.request(Opcode.RMDIR, ROOT, FuseHarness.args(FuseHarness.names("d"))).ok());
            assertEquals(0, other.fuse.getattr(n).attr().nlink());
        } finally {
            other.close();
        }
        assertEquals(0, fx.session.bugCount());
    }

    @Test
    void batchForgetReleasesNodesSoUnlinkedStorageIsFreed() {
        long before = freeBlocks();
        FuseHarness.Created c = fuse.create(ROOT, "big", 0644, O_RDWR);
        ByteBuffer data = ByteBuffer.allocate(1 << 20);
        assertEquals(1 << 20, fuse.write(c.nodeid(), c.fh(), 0, data));
        fuse.release(c.nodeid(), c.fh());
        fuse.lookup(ROOT, "big");                        // two references now
        long dir = fuse.mkdir(ROOT, "sub", 0755).nodeid();
        assertTrue(freeBlocks() <= before - 256, "1 MiB is in use");

        fuse.unlink(ROOT, "big");
        assertTrue(freeBlocks() <= before - 256, "unlinked but still referenced: storage stays");
        // One entry returns only part of the references; a second entry names a node never handed out.
        assertFalse(fuse.batchForget(new ForgetOne(c.nodeid(), 1), new ForgetOne(777777, 3)).replied());
        assertTrue(freeBlocks() <= before - 256, "one reference is still held");
        assertFalse(fuse.batchForget(new ForgetOne(c.nodeid(), 1), new ForgetOne(dir, 1)).replied());
        assertEquals(0, fx.session.knownNodeCount());
        fuse.request(Opcode.RMDIR, ROOT, FuseHarness.args(FuseHarness.names("sub"))).expectOk();
        assertEquals(before, freeBlocks(), "storage of the unlinked file came back");
        assertErrno(Errno.ESTALE, () -> fuse.getattr(c.nodeid()));
    }

    @Test
    void readdirplusHandsOutReferencesOnlyForEntriesThatFit() {
        Map<String, Long> ids = new HashMap<>();
        for (int i = 0; i < 12; i++) {
            String name = "file-" + i;
            FuseHarness.Created c = fuse.create(ROOT, name, 0644, O_RDWR);
            fuse.release(c.nodeid(), c.fh());
            ids.put(name, c.nodeid());
            fuse.forget(c.nodeid(), 1);
        }
        assertEquals(0, fx.session.knownNodeCount());
        long fh = fuse.opendir(ROOT).fh();
        // Room for exactly 4 entries with 6-byte names ("." and ".." are smaller, so 5 may not fit).
        int one = Direntplus.encodedSize(6);
        List<Direntplus> first = fuse.readdirplus(ROOT, fh, 0, 4 * one);
        assertFalse(first.isEmpty());
        List<String> seen = new ArrayList<>();
        long next = 0;
        for (Direntplus d : first) {
            String name = new String(d.dirent().name(), StandardCharsets.UTF_8);
            next = d.dirent().off();
            if (name.equals(".") || name.equals("..")) {
                assertEquals(0, d.entryOut().nodeid(), "no reference for . and ..");
                continue;
            }
            seen.add(name);
            assertEquals(ids.get(name), d.entryOut().nodeid());
            assertEquals(1, fx.session.nodes.lookupCount(d.entryOut().nodeid()));
        }
        assertEquals(seen.size(), fx.session.knownNodeCount(), "only listed entries were looked up");
        assertTrue(seen.size() < 12);
        // The rest, from the cookie, in a roomy buffer.
        while (true) {
            List<Direntplus> more = fuse.readdirplus(ROOT, fh, next, 64 * 1024);
            if (more.isEmpty()) {
                break;
            }
            for (Direntplus d : more) {
                String name = new String(d.dirent().name(), StandardCharsets.UTF_8);
                next = d.dirent().off();
                assertFalse(seen.contains(name), "listed twice: " + name);
                if (!name.equals(".") && !name.equals("..")) {
                    seen.add(name);
                    assertNotEquals(0, d.entryOut().nodeid());
                }
            }
        }
        assertEquals(12, seen.size());
        assertEquals(12, fx.session.knownNodeCount());
        for (long id : ids.values()) {
            assertEquals(1, fx.session.nodes.lookupCount(id), "exactly one reference per listed entry");
        }
        // A buffer too small for any entry: nothing listed, nothing referenced.
        long fresh = fuse.mkdir(ROOT, "empty-ish", 0755).nodeid();
        fuse.create(fresh, "only", 0644, O_RDWR);
        long dfh = fuse.opendir(fresh).fh();
        int known = fx.session.knownNodeCount();
        assertEquals(List.of(), fuse.readdirplus(fresh, dfh, 0, 10));
        assertEquals(known, fx.session.knownNodeCount());
        fuse.releasedir(fresh, dfh);
        fuse.releasedir(ROOT, fh);
    }

    @Test
    void closeReturnsEveryHandleAndReference() {
        long before = freeBlocks();
        long beforeInodes = fuse.statfs(ROOT).ffree();
        FuseHarness.Created c = fuse.create(ROOT, "open-unlinked", 0644, O_RDWR);
        fuse.write(c.nodeid(), c.fh(), 0, ByteBuffer.allocate(512 * 1024));
        fuse.unlink(ROOT, "open-unlinked");
        long d = fuse.mkdir(ROOT, "dir", 0755).nodeid();
        fuse.opendir(d);
        fuse.open(c.nodeid(), 0);
        fuse.lookup(ROOT, "dir");
        assertEquals(3, fx.session.openHandleCount());
        assertEquals(2, fx.session.knownNodeCount());
        assertTrue(freeBlocks() < before);

        fx.session.close();
        assertEquals(0, fx.session.openHandleCount());
        assertEquals(0, fx.session.knownNodeCount());
        // Another guest sees the storage of the open-unlinked file freed; only "dir" remains.
        SessionFixture other = fx.sibling().initialized();
        try {
            other.fuse.request(Opcode.RMDIR, ROOT, FuseHarness.args(FuseHarness.names("dir"))).expectOk();
            assertEquals(before, other.fuse.statfs(ROOT).bfree());
            assertEquals(beforeInodes, other.fuse.statfs(ROOT).ffree());
        } finally {
            other.close();
        }
    }

    @Test
    void aNewInitAfterDestroyStartsFromACleanSlate() {
        // virtio-fs: the guest unmounts (DESTROY) and mounts again (INIT) on the same device. Whatever the
        // old mount still held is meaningless to the new one and must go back to the backend.
        long before = freeBlocks();
        FuseHarness.Created c = fuse.create(ROOT, "left-open", 0644, O_RDWR);
        fuse.write(c.nodeid(), c.fh(), 0, ByteBuffer.allocate(256 * 1024));
        fuse.unlink(ROOT, "left-open");
        assertTrue(fuse.request(Opcode.DESTROY, 0, FuseHarness.buf(0)).ok());
        fuse.init();
        assertEquals(0, fx.session.openHandleCount());
        assertEquals(0, fx.session.knownNodeCount());
        assertEquals(before, freeBlocks(), "the open-unlinked file of the old mount was freed");
        assertErrno(Errno.EBADF, () -> fuse.read(ROOT, c.fh(), 0, 1));
    }

    @Test
    void forgottenNodesLeaveNothingBehindInTheSession() {
        // A long-lived session over millions of files must not keep per-node state after FORGET.
        for (int i = 0; i < 50; i++) {
            FuseHarness.Created c = fuse.create(ROOT, "tmp" + i, 0644, O_RDWR);
            fuse.release(c.nodeid(), c.fh());
            fuse.forget(c.nodeid(), 1);
        }
        assertEquals(0, fx.session.knownNodeCount());
        assertEquals(0, fx.session.trackedOpenVersions(), "close-to-open versions of forgotten nodes");
    }

    @Test
    void openOnANodeOfTheWrongKindIsRefusedWithoutLeakingAHandle() {
        long d = fuse.mkdir(ROOT, "d2", 0755).nodeid();
        FuseHarness.HarnessReply r = fuse.request(Opcode.OPEN, d, FuseHarness.args(new OpenIn(O_RDWR, 0)));
        assertEquals(Errno.EISDIR, r.errno());
        assertEquals(0, fx.session.openHandleCount());
    }
}
