package io.vfsgw.session;

import static io.vfsgw.session.SessionFixture.O_RDWR;
import static io.vfsgw.session.SessionFixture.ROOT;
import static io.vfsgw.session.SessionFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.fuse.FileLock;
import io.vfsgw.fuse.FlushIn;
import io.vfsgw.fuse.FsyncIn;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.spi.Errno;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** File handles (this connection's own numbers) and the data path across split buffers. */
class SessionFileTest {
    private static final int MIB = 1 << 20;

    private final SessionFixture fx = new SessionFixture().initialized();
    private final FuseHarness fuse = fx.fuse;

    @AfterEach
    void close() {
        fx.close();
    }

    private static ByteBuffer encoded(int size, java.util.function.Consumer<ByteBuffer> enc) {
        ByteBuffer b = FuseHarness.buf(size);
        enc.accept(b);
        return b.flip();
    }

    @Test
    void unknownHandlesAreEbadf() {
        FuseHarness.Created c = fuse.create(ROOT, "f", 0644, O_RDWR);
        long bad = c.fh() + 1000;
        assertErrno(Errno.EBADF, () -> fuse.read(c.nodeid(), bad, 0, 10));
        assertErrno(Errno.EBADF, () -> fuse.write(c.nodeid(), bad, 0, ByteBuffer.allocate(1)));
        assertErrno(Errno.EBADF, () -> fuse.release(c.nodeid(), bad));
        assertErrno(Errno.EBADF, fuse.request(Opcode.FLUSH, c.nodeid(), encoded(FlushIn.SIZE,
                b -> new FlushIn(bad, 0).encodeTo(b))));
        assertErrno(Errno.EBADF, fuse.request(Opcode.FSYNC, c.nodeid(), encoded(FsyncIn.SIZE,
                b -> new FsyncIn(bad, 0).encodeTo(b))));
        assertErrno(Errno.EBADF, fuse.lock(Opcode.GETLK, c.nodeid(), bad, 1, new FileLock(0, 1, 1, 1), 0));
        // A directory handle is no file handle, and a file handle is no directory handle.
        long dfh = fuse.opendir(ROOT).fh();
        assertErrno(Errno.EBADF, () -> fuse.read(c.nodeid(), dfh, 0, 10));
        assertErrno(Errno.EBADF, () -> fuse.readdir(c.nodeid(), c.fh(), 0, 4096));
        assertErrno(Errno.EBADF, () -> fuse.releasedir(ROOT, c.fh()));
        // A handle is tied to the node it was opened on.
        long other = fuse.create(ROOT, "g", 0644, O_RDWR).nodeid();
        assertErrno(Errno.EBADF, () -> fuse.read(other, c.fh(), 0, 10));
        // A released handle is gone.
        fuse.release(c.nodeid(), c.fh());
        assertErrno(Errno.EBADF, () -> fuse.read(c.nodeid(), c.fh(), 0, 10));
        assertErrno(Errno.EBADF, () -> fuse.release(c.nodeid(), c.fh()));
    }

    @Test
    void anotherSessionCannotUseThisSessionsHandles() {
        FuseHarness.Created c = fuse.create(ROOT, "mine", 0644, O_RDWR);
        fuse.write(c.nodeid(), c.fh(), 0, ByteBuffer.wrap("secret".getBytes()));
        SessionFixture guest = fx.sibling().initialized();
        try {
            long n = guest.fuse.lookup(ROOT, "mine").nodeid();
            assertErrno(Errno.EBADF, () -> guest.fuse.read(n, c.fh(), 0, 10));
            assertErrno(Errno.EBADF, () -> guest.fuse.write(n, c.fh(), 0, ByteBuffer.allocate(3)));
            assertErrno(Errno.EBADF, () -> guest.fuse.release(n, c.fh()));
            // Its own open gets its own handle, and mine still works after its release.
            long gfh = guest.fuse.open(n, 0).fh();
            assertEquals("secret", text(guest.fuse.read(n, gfh, 0, 100)));
            guest.fuse.release(n, gfh);
            assertEquals("secret", text(fuse.read(c.nodeid(), c.fh(), 0, 100)));
        } finally {
            guest.close();
        }
        assertEquals("secret", text(fuse.read(c.nodeid(), c.fh(), 0, 100)), "their teardown left my handle alone");
    }

    private static String text(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return new String(a);
    }

    private static long crc(ByteBuffer b) {
        CRC32 c = new CRC32();
        c.update(b.duplicate());
        return c.getValue();
    }

    /** pageSize 0: /dev/fuse layout; else virtio-fs descriptors of that many bytes (odd sizes included). */
    @ParameterizedTest(name = "page size {0}")
    @ValueSource(ints = {0, 4096, 1000, 65536})
    void oneMibReadAndWriteAcrossSplitBuffersMoveTheRightBytes(int pageSize) {
        fuse.layout((pageSize == 0 ? FuseHarness.Layout.devFuse() : FuseHarness.Layout.virtio(pageSize))
                .withReplyCapacity(MIB + 4096));
        ByteBuffer data = ByteBuffer.allocate(MIB);
        new Random(pageSize).nextBytes(data.array());
        FuseHarness.Created c = fuse.create(ROOT, "data", 0644, O_RDWR);
        long off = 12345;   // not page aligned: the backend's pages and the descriptors do not line up
        assertEquals(MIB, fuse.write(c.nodeid(), c.fh(), off, data));
        assertEquals(off + MIB, fuse.getattr(c.nodeid()).attr().size());

        ByteBuffer back = fuse.read(c.nodeid(), c.fh(), off, MIB);
        assertEquals(MIB, back.remaining());
        assertEquals(crc(data), crc(back));
        // The hole before the data reads as zeros; a read past EOF is short.
        ByteBuffer head = fuse.read(c.nodeid(), c.fh(), 0, (int) off);
        assertEquals(off, head.remaining());
        while (head.hasRemaining()) {
            assertEquals(0, head.get());
        }
        ByteBuffer tail = fuse.read(c.nodeid(), c.fh(), off + MIB - 100, 4096);
        assertEquals(100, tail.remaining());
        assertEquals(crc(data.slice(MIB - 100, 100)), crc(tail));
        assertEquals(0, fuse.read(c.nodeid(), c.fh(), off + MIB + 5, 4096).remaining());

        // Overwrite a middle range in odd-sized pieces, then check the whole file against a model.
        ByteBuffer model = ByteBuffer.allocate(MIB);
        model.put(data.duplicate()).flip();
        Random rnd = new Random(7);
        int at = 3;
        while (at < MIB - 70000) {
            int n = 1 + rnd.nextInt(70000);
            byte[] piece = new byte[n];
            rnd.nextBytes(piece);
            assertEquals(n, fuse.write(c.nodeid(), c.fh(), off + at, ByteBuffer.wrap(piece)));
            model.put(at, piece);
            at += n + rnd.nextInt(5000);
        }
        assertEquals(crc(model), crc(fuse.read(c.nodeid(), c.fh(), off, MIB)));
    }

    @Test
    void readIsCappedByTheReplyBuffers() {
        FuseHarness.Created c = fuse.create(ROOT, "capped", 0644, O_RDWR);
        fuse.write(c.nodeid(), c.fh(), 0, ByteBuffer.allocate(8192));
        fuse.layout(FuseHarness.Layout.virtio(1000).withReplyCapacity(16 + 3000));
        assertEquals(3000, fuse.read(c.nodeid(), c.fh(), 0, 8192).remaining(),
                "never more than the descriptors hold");
        fuse.layout(FuseHarness.Layout.devFuse().withReplyCapacity(10));
        FuseHarness.HarnessReply r = fuse.request(Opcode.READ, c.nodeid(), fuse.readIn(c.fh(), 0, 10));
        assertTrue(!r.replied(), "no room even for the out-header: the buffers come back unanswered");
        fuse.layout(FuseHarness.Layout.devFuse());
        assertEquals(0, fx.session.bugCount());
    }
}
