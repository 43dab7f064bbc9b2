package io.vfsgw.session;

import static io.vfsgw.session.SessionFixture.O_RDWR;
import static io.vfsgw.session.SessionFixture.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.fuse.AccessIn;
import io.vfsgw.fuse.CopyFileRangeIn;
import io.vfsgw.fuse.CreateIn;
import io.vfsgw.fuse.FallocateIn;
import io.vfsgw.fuse.FlushIn;
import io.vfsgw.fuse.ForgetIn;
import io.vfsgw.fuse.ForgetOne;
import io.vfsgw.fuse.FsyncIn;
import io.vfsgw.fuse.GetxattrIn;
import io.vfsgw.fuse.InHeader;
import io.vfsgw.fuse.InitIn;
import io.vfsgw.fuse.InterruptIn;
import io.vfsgw.fuse.LinkIn;
import io.vfsgw.fuse.LkIn;
import io.vfsgw.fuse.LseekIn;
import io.vfsgw.fuse.MkdirIn;
import io.vfsgw.fuse.MknodIn;
import io.vfsgw.fuse.OpenIn;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.fuse.ReadIn;
import io.vfsgw.fuse.ReleaseIn;
import io.vfsgw.fuse.Rename2In;
import io.vfsgw.fuse.RenameIn;
import io.vfsgw.fuse.SetattrIn;
import io.vfsgw.fuse.SetxattrIn;
import io.vfsgw.fuse.SyncfsIn;
import io.vfsgw.fuse.WriteIn;
import io.vfsgw.spi.Errno;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Truncated and random requests: an EIO (or, for no-reply opcodes, silence), never an exception or a hang. */
class SessionRobustnessTest {
    /** Opcodes the kernel expects no reply to, even when their body is garbage. */
    private static final Set<Opcode> NO_REPLY = EnumSet.of(Opcode.FORGET, Opcode.BATCH_FORGET, Opcode.INTERRUPT,
            Opcode.NOTIFY_REPLY);

    private final SessionFixture fx = new SessionFixture();
    private final FuseHarness fuse = fx.fuse;
    private long file;
    private long fileFh;
    private long dirFh;

    @BeforeEach
    void setUp() {
        fuse.init();
        FuseHarness.Created c = fuse.create(ROOT, "f", 0644, O_RDWR);
        file = c.nodeid();
        fileFh = c.fh();
        fuse.write(file, fileFh, 0, ByteBuffer.wrap(new byte[100]));
        assertTrue(fuse.setxattr(file, "user.x", ByteBuffer.wrap(new byte[] {1, 2, 3}), 0).ok());
        dirFh = fuse.opendir(ROOT).fh();
    }

    @AfterEach
    void close() {
        fx.close();
    }

    /** Zero bytes standing in for a struct: only the lengths matter for truncation. */
    private static byte[] struct(int size) {
        return new byte[size];
    }

    private static byte[] names(String... n) {
        return FuseHarness.names(n);
    }

    private static byte[] cat(Object... parts) {
        ByteBuffer b = FuseHarness.args(parts);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private static byte[] encoded(int size, java.util.function.Consumer<ByteBuffer> enc) {
        ByteBuffer b = FuseHarness.buf(size);
        enc.accept(b);
        return b.array();
    }

    /** A complete body per opcode (node, bytes); every shorter prefix of it is malformed. */
    private Map<Opcode, Object[]> completeBodies() {
        Map<Opcode, Object[]> m = new LinkedHashMap<>();
        byte[] readIn = encoded(ReadIn.SIZE, b -> new ReadIn(fileFh, 0, 10, 0, 0, 0).encodeTo(b));
        byte[] dirRead = encoded(ReadIn.SIZE, b -> new ReadIn(dirFh, 0, 4096, 0, 0, 0).encodeTo(b));
        byte[] lk = encoded(LkIn.SIZE, b -> new LkIn(fileFh, 1, new io.vfsgw.fuse.FileLock(0, 10, 1, 1), 0).encodeTo(b));
        m.put(Opcode.INIT, new Object[] {0L, encoded(InitIn.SIZE, b -> new InitIn(7, 38, 0, 0, 0).encodeTo(b))});
        m.put(Opcode.LOOKUP, new Object[] {ROOT, names("f")});
        m.put(Opcode.FORGET, new Object[] {file, encoded(ForgetIn.SIZE, b -> new ForgetIn(1).encodeTo(b))});
        m.put(Opcode.BATCH_FORGET, new Object[] {0L, cat(new io.vfsgw.fuse.BatchForgetIn(1), new ForgetOne(file, 1))});
        m.put(Opcode.SETATTR, new Object[] {file, struct(SetattrIn.SIZE)});
        m.put(Opcode.SYMLINK, new Object[] {ROOT, names("l", "target")});
        m.put(Opcode.MKNOD, new Object[] {ROOT, cat(struct(MknodIn.SIZE), names("n"))});
        m.put(Opcode.MKDIR, new Object[] {ROOT, cat(struct(MkdirIn.SIZE), names("d"))});
        m.put(Opcode.UNLINK, new Object[] {ROOT, names("nope")});
        m.put(Opcode.RMDIR, new Object[] {ROOT, names("nope")});
        m.put(Opcode.RENAME, new Object[] {ROOT, cat(encoded(RenameIn.SIZE, b -> new RenameIn(ROOT).encodeTo(b)),
                names("a", "b"))});
        m.put(Opcode.RENAME2, new Object[] {ROOT, cat(new Rename2In(ROOT, 0), names("a", "b"))});
        m.put(Opcode.LINK, new Object[] {ROOT, cat(encoded(LinkIn.SIZE, b -> new LinkIn(file).encodeTo(b)), names("h"))});
        m.put(Opcode.OPEN, new Object[] {file, struct(OpenIn.SIZE)});
        m.put(Opcode.READ, new Object[] {file, readIn});
        m.put(Opcode.WRITE, new Object[] {file, encoded(WriteIn.SIZE + 4,
                b -> new WriteIn(fileFh, 0, 4, 0, 0, 0).encodeTo(b))});
        m.put(Opcode.RELEASE, new Object[] {file, struct(ReleaseIn.SIZE)});
        m.put(Opcode.FSYNC, new Object[] {file, encoded(FsyncIn.SIZE, b -> new FsyncIn(fileFh, 0).encodeTo(b))});
        m.put(Opcode.FLUSH, new Object[] {file, encoded(FlushIn.SIZE, b -> new FlushIn(fileFh, 0).encodeTo(b))});
        m.put(Opcode.SETXATTR, new Object[] {file, cat(encoded(SetxattrIn.SIZE, b -> new SetxattrIn(3, 0, 0).encodeTo(b)),
                names("user.y"), new byte[] {1, 2, 3})});
        m.put(Opcode.GETXATTR, new Object[] {file, cat(new GetxattrIn(0), names("user.x"))});
        m.put(Opcode.LISTXATTR, new Object[] {file, cat(new GetxattrIn(0))});
        m.put(Opcode.REMOVEXATTR, new Object[] {file, names("user.nope")});
        m.put(Opcode.OPENDIR, new Object[] {ROOT, struct(OpenIn.SIZE)});
        m.put(Opcode.READDIR, new Object[] {ROOT, dirRead});
        m.put(Opcode.READDIRPLUS, new Object[] {ROOT, dirRead});
        m.put(Opcode.RELEASEDIR, new Object[] {ROOT, struct(ReleaseIn.SIZE)});
        m.put(Opcode.FSYNCDIR, new Object[] {ROOT, encoded(FsyncIn.SIZE, b -> new FsyncIn(dirFh, 0).encodeTo(b))});
        m.put(Opcode.GETLK, new Object[] {file, lk});
        m.put(Opcode.SETLK, new Object[] {file, lk});
        m.put(Opcode.SETLKW, new Object[] {file, lk});
        m.put(Opcode.ACCESS, new Object[] {file, encoded(AccessIn.SIZE, b -> new AccessIn(0).encodeTo(b))});
        m.put(Opcode.CREATE, new Object[] {ROOT, cat(new CreateIn(O_RDWR, 0100644, 0, 0), names("c"))});
        m.put(Opcode.INTERRUPT, new Object[] {0L, encoded(InterruptIn.SIZE, b -> new InterruptIn(1).encodeTo(b))});
        m.put(Opcode.FALLOCATE, new Object[] {file, encoded(FallocateIn.SIZE,
                b -> new FallocateIn(fileFh, 0, 10, 0).encodeTo(b))});
        m.put(Opcode.LSEEK, new Object[] {file, encoded(LseekIn.SIZE, b -> new LseekIn(fileFh, 0, 3).encodeTo(b))});
        m.put(Opcode.COPY_FILE_RANGE, new Object[] {file, encoded(CopyFileRangeIn.SIZE,
                b -> new CopyFileRangeIn(fileFh, 0, file, fileFh, 50, 10, 0).encodeTo(b))});
        m.put(Opcode.SYNCFS, new Object[] {ROOT, struct(SyncfsIn.SIZE)});
        m.put(Opcode.TMPFILE, new Object[] {ROOT, cat(new CreateIn(O_RDWR, 0100644, 0, 0))});
        return m;
    }

    @Test
    void everyTruncatedBodyIsAnsweredEioOrIgnoredWhenNoReplyIsExpected() {
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<Opcode, Object[]> e : completeBodies().entrySet()) {
            Opcode op = e.getKey();
            long node = (Long) e.getValue()[0];
            byte[] body = (byte[]) e.getValue()[1];
            for (int len = 0; len < body.length; len++) {
                FuseHarness.HarnessReply r = fuse.request(op, node, ByteBuffer.wrap(body, 0, len).slice());
                boolean right = NO_REPLY.contains(op) ? !r.replied() : r.replied() && r.errno() == Errno.EIO;
                if (!right) {
                    wrong.add(op + " with " + len + " of " + body.length + " bytes: "
                            + (r.replied() ? "error " + r.error() : "no reply"));
                    break;
                }
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(0, fx.session.bugCount());
        assertEquals(0, fuse.extraCompletions());
        assertEquals(100, fuse.getattr(file).attr().size(), "still serving, file untouched");
    }

    @Test
    void completeBodiesAreNotMalformed() {
        // The other half of the truncation test: the full bodies decode (whatever the backend then says).
        long before = fx.session.malformedCount();
        for (Map.Entry<Opcode, Object[]> e : completeBodies().entrySet()) {
            if (e.getKey() == Opcode.SETLKW || e.getKey() == Opcode.RELEASE || e.getKey() == Opcode.RELEASEDIR
                    || e.getKey() == Opcode.FORGET || e.getKey() == Opcode.BATCH_FORGET) {
                continue;   // would block on our own lock, or drop the handles and nodes later ops use
            }
            FuseHarness.HarnessReply r = fuse.request(e.getKey(), (Long) e.getValue()[0],
                    ByteBuffer.wrap((byte[]) e.getValue()[1]));
            assertTrue(!r.replied() || r.errno() != Errno.EIO, e.getKey() + " answered EIO");
        }
        assertEquals(before, fx.session.malformedCount());
    }

    @Test
    void writeDataShorterThanItsSizeIsEio() {
        ByteBuffer in = FuseHarness.buf(WriteIn.SIZE);
        new WriteIn(fileFh, 0, 4096, 0, 0, 0).encodeTo(in);
        FuseHarness.HarnessReply r = fuse.request(Opcode.WRITE, file, in.flip(), ByteBuffer.wrap(new byte[100]));
        assertEquals(Errno.EIO, r.errno());
        assertEquals(100, fuse.getattr(file).attr().size());
    }

    @Test
    void seededFuzzGetsExactlyOneCompletionPerRequestAndNoBugs() {
        Random rnd = new Random(0x5EED_F00DL);
        long[] nodes = {0, ROOT, file, 2, 3, 999, Long.MAX_VALUE, -1};
        long[] fhs = {fileFh, dirFh, 0, 1, 2, 3, -1, 1L << 40};
        Opcode[] ops = Opcode.values();
        int replied = 0;
        for (int i = 0; i < 4000; i++) {
            int code = rnd.nextInt(10) == 0 ? rnd.nextInt() : ops[rnd.nextInt(ops.length)].code();
            if (code == Opcode.SETLKW.code() || code == Opcode.INIT.code() || code == Opcode.DESTROY.code()) {
                continue;   // SETLKW could wait on a random lock forever; INIT/DESTROY are tested on their own
            }
            ByteBuffer body = FuseHarness.buf(rnd.nextInt(8) == 0 ? rnd.nextInt(2000) : rnd.nextInt(120));
            while (body.hasRemaining()) {
                body.put((byte) rnd.nextInt());
            }
            body.flip();
            if (body.remaining() >= 8 && rnd.nextBoolean()) {
                body.putLong(0, fhs[rnd.nextInt(fhs.length)]);   // most structs start with fh
            }
            if (rnd.nextInt(3) == 0) {
                // A short NUL-terminated name after a struct-sized prefix, so name decoding is reached.
                int at = Math.min(body.limit(), rnd.nextInt(64));
                for (int k = at; k < Math.min(body.limit(), at + 3); k++) {
                    body.put(k, (byte) ('a' + rnd.nextInt(3)));
                }
                if (at + 3 < body.limit()) {
                    body.put(at + 3, (byte) 0);
                }
            }
            fuse.layout(rnd.nextBoolean() ? FuseHarness.Layout.devFuse().withReplyCapacity(8192)
                    : FuseHarness.Layout.virtio(1 + rnd.nextInt(4096)).withReplyCapacity(rnd.nextInt(9000)));
            FuseHarness.HarnessReply r = fuse.request(code, nodes[rnd.nextInt(nodes.length)], body, null);
            if (r.replied()) {
                replied++;
            }
        }
        fuse.layout(FuseHarness.Layout.devFuse());
        assertEquals(0, fuse.extraCompletions(), "a request was completed twice");
        assertEquals(0, fx.session.bugCount(), "a random request hit an unexpected exception");
        assertTrue(replied > 1000, "most fuzz requests get a reply: " + replied);
        assertEquals(1, fuse.getattr(ROOT).attr().ino(), "still serving");
    }

    @Test
    void tooLargeArgumentsGetEioNotSilence() {
        int n = (1 << 20) + 16;
        FuseHarness.HarnessReply r = fuse.request(Opcode.SETXATTR, file, ByteBuffer.allocate(n));
        assertTrue(r.replied(), "the header was valid, so the kernel must get an answer");
        assertEquals(Errno.EIO, r.errno());
        assertFalse(fx.session.bugCount() > 0);
        assertEquals(InHeader.SIZE, 40);
    }
}
