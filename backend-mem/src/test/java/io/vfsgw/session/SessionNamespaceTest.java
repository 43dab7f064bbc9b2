package io.vfsgw.session;

import static io.vfsgw.session.SessionFixture.O_RDWR;
import static io.vfsgw.session.SessionFixture.ROOT;
import static io.vfsgw.session.SessionFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.fuse.Opcode;
import io.vfsgw.spi.Errno;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Names ("..", bad names), and many threads sharing one session. */
class SessionNamespaceTest {
    private final SessionFixture fx = new SessionFixture().initialized();
    private final FuseHarness fuse = fx.fuse;

    @AfterEach
    void close() {
        fx.close();
    }

    @Test
    void dotDotLookupFindsTheParentForNfsExport() {
        // With FUSE_EXPORT_SUPPORT the kernel looks up ".." to reconnect a file handle to its parent.
        long a = fuse.mkdir(ROOT, "a", 0755).nodeid();
        long b = fuse.mkdir(a, "b", 0755).nodeid();
        assertEquals(a, fuse.lookup(b, "..").nodeid());
        assertEquals(b, fuse.lookup(b, ".").nodeid());
        assertEquals(ROOT, fuse.lookup(a, "..").nodeid());
    }

    @Test
    void theCallersCredentialsReachTheBackend() {
        long shared = fuse.mkdir(ROOT, "shared", 01777).nodeid();
        fuse.credentials(1000, 1001, 77);
        FuseHarness.Created c = fuse.create(shared, "mine", 0600, O_RDWR);
        assertEquals(1000, c.entry().attr().uid());
        assertEquals(1001, c.entry().attr().gid());
        // Mode bits and the sticky bit are the kernel's job (virtio-fs and our /dev/fuse mounts use
        // default_permissions); the backend takes the caller for the ownership of what it creates.
        fuse.credentials(2000, 2002, 78);
        assertEquals(2000, fuse.mkdir(shared, "theirs", 0755).attr().uid());
        assertEquals(2002, fuse.lookup(shared, "theirs").attr().gid());
        fuse.credentials(0, 0, 1);
    }

    @Test
    void badNamesGetClearErrors() {
        assertErrno(Errno.EINVAL, () -> fuse.mkdir(ROOT, "a/b", 0755));
        assertErrno(Errno.EINVAL, () -> fuse.mkdir(ROOT, "", 0755));
        assertErrno(Errno.EIO, () -> fuse.mkdir(ROOT, "n".repeat(256), 0755));   // the kernel never sends these
        assertErrno(Errno.EEXIST, () -> fuse.mkdir(ROOT, "..", 0755));
        assertEquals(0, fx.session.bugCount());
        assertTrue(fuse.request(Opcode.DESTROY, 0, FuseHarness.buf(0)).ok());
    }

    @Test
    void manyThreadsShareOneSession() throws Exception {
        long freeBefore = fuse.statfs(ROOT).bfree();
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> all = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                all.add(pool.submit(() -> {
                    long dir = fuse.mkdir(ROOT, "t" + id, 0755).nodeid();
                    for (int i = 0; i < 80; i++) {
                        FuseHarness.Created c = fuse.create(dir, "f" + i, 0644, O_RDWR);
                        ByteBuffer data = ByteBuffer.allocate(3000 + i);
                        data.putInt(0, id * 1000 + i);
                        fuse.write(c.nodeid(), c.fh(), i, data);
                        ByteBuffer back = fuse.read(c.nodeid(), c.fh(), i, 8192);
                        assertEquals(crc(data), crc(back));
                        fuse.release(c.nodeid(), c.fh());
                        fuse.unlink(dir, "f" + i);
                        fuse.forget(c.nodeid(), 1);
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, fx.session.bugCount());
        assertEquals(0, fuse.extraCompletions());
        assertEquals(0, fx.session.openHandleCount());
        assertEquals(threads, fx.session.knownNodeCount(), "only the directories are still referenced");
        assertTrue(fuse.statfs(ROOT).bfree() >= freeBefore - threads, "file storage came back");
    }

    private static long crc(ByteBuffer b) {
        CRC32 c = new CRC32();
        c.update(b.duplicate());
        return c.getValue();
    }
}
