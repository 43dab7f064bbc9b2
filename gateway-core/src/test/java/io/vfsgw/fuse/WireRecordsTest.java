package io.vfsgw.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vfsgw.spi.Attr;
import io.vfsgw.spi.StatFs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Hand-built bytes for the records whose size depends on the protocol version or on a name. */
class WireRecordsTest {
    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer bytes(int... values) {
        ByteBuffer b = le(values.length * 4);
        for (int v : values) {
            b.putInt(v);
        }
        return b.flip();
    }

    @Test
    void initInOfA738KernelHas64BytesWithFlags2() throws Exception {
        ByteBuffer b = le(64);
        b.putInt(0, 7).putInt(4, 38).putInt(8, 131072).putInt(12, (int) InitFlags.FUSE_INIT_EXT | 1).putInt(16, 0b1001);
        InitIn in = InitIn.decode(b);
        assertEquals(new InitIn(7, 38, 131072, (int) InitFlags.FUSE_INIT_EXT | 1, 0b1001), in);
        assertEquals(64, b.position());
        assertEquals(InitFlags.FUSE_INIT_EXT | InitFlags.FUSE_ASYNC_READ | InitFlags.FUSE_SECURITY_CTX
                | InitFlags.FUSE_HAS_EXPIRE_ONLY, in.flags64());
        ByteBuffer out = le(64);
        in.encodeTo(out);
        assertArrayEquals(b.array(), out.array());
    }

    @Test
    void initInFlags2IsIgnoredWithoutInitExt() throws Exception {
        ByteBuffer b = le(64);
        b.putInt(0, 7).putInt(4, 38).putInt(12, 1).putInt(16, -1);
        assertEquals(1L, InitIn.decode(b).flags64());
    }

    @Test
    void initInOfOldKernelsIsShort() throws Exception {
        ByteBuffer b = bytes(7, 31, 65536, 0x1234);
        InitIn in = InitIn.decode(b);
        assertEquals(new InitIn(7, 31, 65536, 0x1234, 0), in);
        assertEquals(16, b.position());

        ByteBuffer ancient = bytes(7, 4);
        assertEquals(new InitIn(7, 4, 0, 0, 0), InitIn.decode(ancient));
        assertEquals(8, ancient.position());
        assertEquals(8, InitIn.bodySize(5));
        assertEquals(16, InitIn.bodySize(35));
        assertEquals(64, InitIn.bodySize(36));
    }

    @Test
    void initInShorterThanItsVersionNeedsIsMalformed() {
        assertThrows(MalformedRequestException.class, () -> InitIn.decode(bytes(7, 36, 0, 0)));
        assertThrows(MalformedRequestException.class, () -> InitIn.decode(bytes(7, 6)));
        assertThrows(MalformedRequestException.class, () -> InitIn.decode(bytes(7)));
    }

    @Test
    void initOutWritesTheSizeItsMinorExpects() throws Exception {
        InitOut out = new InitOut(7, 38, 0x20000, 0x40000001, 64, 48, 1 << 20, 1, 256, 12, 0x8);
        ByteBuffer b = le(80);
        Arrays.fill(b.array(), (byte) 0xEE);
        out.encodeTo(b);
        assertEquals(64, b.position());
        assertEquals(7, b.getInt(0));
        assertEquals(38, b.getInt(4));
        assertEquals(0x20000, b.getInt(8));
        assertEquals(0x40000001, b.getInt(12));
        assertEquals(64, b.getShort(16));
        assertEquals(48, b.getShort(18));
        assertEquals(1 << 20, b.getInt(20));
        assertEquals(1, b.getInt(24));
        assertEquals(256, b.getShort(28));
        assertEquals(12, b.getShort(30));
        assertEquals(8, b.getInt(32));
        for (int off = 36; off < 64; off++) {
            assertEquals(0, b.get(off), "unused byte " + off);
        }
        assertEquals((byte) 0xEE, b.get(64));
        assertEquals(out, InitOut.decode(b.flip()));
        assertEquals(0x8_4000_0001L, out.flags64());

        InitOut old = new InitOut(7, 22, 0x20000, 1, 12, 9, 4096, 0, 0, 0, 0);
        ByteBuffer b22 = le(64);
        old.encodeTo(b22);
        assertEquals(24, b22.position());
        assertEquals(old, InitOut.decode(b22.flip()));

        ByteBuffer b4 = le(64);
        new InitOut(7, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1).encodeTo(b4);
        assertEquals(8, b4.position());
        assertEquals(new InitOut(7, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0), InitOut.decode(b4.flip()));

        assertEquals(8, InitOut.replySize(4));
        assertEquals(24, InitOut.replySize(5));
        assertEquals(24, InitOut.replySize(22));
        assertEquals(64, InitOut.replySize(23));
        assertEquals(64, InitOut.replySize(45));
    }

    @Test
    void compatReadWriteMknodCreateGetattrLayouts() throws Exception {
        ByteBuffer r = le(24);
        r.putLong(0, 11).putLong(8, 4096).putInt(16, 8192).putInt(20, 0x7777);
        assertEquals(new ReadIn(11, 4096, 8192, 0, 0, 0), ReadIn.decode(r, 8));
        assertEquals(24, r.position());
        assertThrows(MalformedRequestException.class, () -> ReadIn.decode(le(24), 9));

        ByteBuffer w = le(24 + 3);
        w.putLong(0, 12).putLong(8, 100).putInt(16, 3).putInt(20, RequestFlags.FUSE_WRITE_CACHE);
        assertEquals(new WriteIn(12, 100, 3, RequestFlags.FUSE_WRITE_CACHE, 0, 0), WriteIn.decode(w, 8));
        assertEquals(24, w.position(), "data starts after the compat struct");

        assertEquals(new MknodIn(0100644, 7, 0), MknodIn.decode(bytes(0100644, 7), 11));
        assertEquals(new MknodIn(0100644, 7, 022), MknodIn.decode(bytes(0100644, 7, 022, 0), 12));
        assertEquals(new CreateIn(0101, 0644, 0, 0), CreateIn.decode(bytes(0101, 0644), 11));
        assertEquals(new CreateIn(0101, 0644, 022, 1), CreateIn.decode(bytes(0101, 0644, 022, 1), 38));

        ByteBuffer empty = le(0);
        assertEquals(new GetattrIn(0, 0), GetattrIn.decode(empty, 8));
        ByteBuffer g = le(16);
        g.putInt(0, RequestFlags.FUSE_GETATTR_FH).putLong(8, 99);
        assertEquals(new GetattrIn(RequestFlags.FUSE_GETATTR_FH, 99), GetattrIn.decode(g, 38));
    }

    @Test
    void setxattrInIs16BytesOnlyWithSetxattrExt() throws Exception {
        ByteBuffer ext = bytes(5, 1, RequestFlags.FUSE_SETXATTR_ACL_KILL_SGID, 0);
        assertEquals(new SetxattrIn(5, 1, 1), SetxattrIn.decode(ext, true));
        assertEquals(16, ext.position());
        ByteBuffer compat = bytes(5, 2, 'n', 0);   // the name starts right after 8 bytes
        assertEquals(new SetxattrIn(5, 2, 0), SetxattrIn.decode(compat, false));
        assertEquals(8, compat.position());
        NegotiatedProtocol withExt = new NegotiatedProtocol(38, 38, -1L, InitFlags.FUSE_SETXATTR_EXT, 4096, 0, 0, 0);
        assertEquals(new SetxattrIn(5, 1, 1), SetxattrIn.decode(bytes(5, 1, 1, 0), withExt));
    }

    @Test
    void compatRepliesAreShorter() {
        FuseAttr a = new FuseAttr(1, 2, 3, 4, 5, 6, 7, 8, 9, 0100644, 1, 0, 0, 0, 4096, 0);
        ByteBuffer b = le(EntryOut.SIZE);
        new EntryOut(5, 0, 1, 1, 0, 0, a).encodeTo(b, 8);
        assertEquals(120, b.position());
        assertEquals(128, EntryOut.replySize(9));
        assertEquals(96, AttrOut.replySize(8));
        assertEquals(104, AttrOut.replySize(38));
        assertEquals(48, StatfsOut.replySize(3));
        assertEquals(80, StatfsOut.replySize(4));
    }

    @Test
    void direntIsPaddedToEightBytes() throws Exception {
        byte[] name = "hello".getBytes(StandardCharsets.UTF_8);
        assertEquals(32, Dirent.encodedSize(5));
        assertEquals(24, Dirent.encodedSize(0));
        assertEquals(32, Dirent.encodedSize(8));
        assertEquals(40, Dirent.encodedSize(9));
        Dirent d = new Dirent(42, 3, 8, name);
        ByteBuffer b = le(40);
        Arrays.fill(b.array(), (byte) 0xEE);
        d.encodeTo(b);
        assertEquals(32, b.position());
        assertEquals(42, b.getLong(0));
        assertEquals(3, b.getLong(8));
        assertEquals(5, b.getInt(16));
        assertEquals(8, b.getInt(20));
        assertEquals('h', b.get(24));
        assertEquals('o', b.get(28));
        assertEquals(0, b.get(29));
        assertEquals(0, b.get(31));
        assertEquals((byte) 0xEE, b.get(32));
        assertEquals(d, Dirent.decode(b.flip()));
        assertEquals(32, b.position());
    }

    @Test
    void direntplusPutsTheNameAt152() throws Exception {
        FuseAttr a = new FuseAttr(42, 10, 1, 1, 2, 3, 0, 0, 0, 0100600, 1, 1000, 1000, 0, 4096, 0);
        Direntplus d = new Direntplus(new EntryOut(42, 0, 1, 1, 0, 0, a), new Dirent(42, 7, 8, new byte[] {'x'}));
        assertEquals(160, d.encodedSize());
        assertEquals(152, Direntplus.encodedSize(0));
        ByteBuffer b = le(200);
        d.encodeTo(b);
        assertEquals(160, b.position());
        assertEquals(42, b.getLong(0));
        assertEquals(42, b.getLong(40));       // entry_out.attr.ino
        assertEquals(42, b.getLong(128));      // dirent.ino
        assertEquals(7, b.getLong(136));       // dirent.off
        assertEquals(1, b.getInt(144));        // dirent.namelen
        assertEquals('x', b.get(152));
        assertEquals(d.dirent(), Direntplus.decode(b.flip()).dirent());
    }

    @Test
    void direntWithNameLongerThanTheBufferIsMalformed() {
        ByteBuffer b = le(32);
        b.putInt(16, 9);
        assertThrows(MalformedRequestException.class, () -> Dirent.decode(b));
        b.putInt(16, -1);
        assertThrows(MalformedRequestException.class, () -> Dirent.decode(b));
        assertEquals(0, b.position());
    }

    @Test
    void fuseAttrSplitsNanosecondsWithFloorSemantics() {
        Attr attr = new Attr(9, 100, 8, 1_500_000_000L, -1L, 0L, 0100644, 1, 1000, 100, 0, 4096);
        FuseAttr f = FuseAttr.of(attr, RequestFlags.FUSE_ATTR_DAX);
        assertEquals(1, f.atime());
        assertEquals(500_000_000, f.atimensec());
        assertEquals(-1, f.mtime());
        assertEquals(999_999_999, f.mtimensec());
        assertEquals(0, f.ctime());
        assertEquals(0100644, f.mode());
        assertEquals(RequestFlags.FUSE_ATTR_DAX, f.flags());
        Kstatfs k = Kstatfs.of(new StatFs(100, 50, 40, 10, 5, 4096, 255, 4096));
        assertEquals(new Kstatfs(100, 50, 40, 10, 5, 4096, 255, 4096), k);
    }

    @Test
    void opcodesMatchTheKernelNumbers() {
        assertEquals(Opcode.LOOKUP, Opcode.fromCode(1));
        assertEquals(Opcode.INIT, Opcode.fromCode(26));
        assertEquals(Opcode.READDIRPLUS, Opcode.fromCode(44));
        assertEquals(Opcode.SETUPMAPPING, Opcode.fromCode(48));
        assertEquals(Opcode.TMPFILE, Opcode.fromCode(51));
        assertEquals(Opcode.STATX, Opcode.fromCode(52));
        assertEquals(Opcode.CUSE_INIT, Opcode.fromCode(4096));
        assertEquals(null, Opcode.fromCode(7));
        assertEquals(null, Opcode.fromCode(19));
        assertEquals(null, Opcode.fromCode(0));
        assertEquals(null, Opcode.fromCode(-1));
        assertEquals(null, Opcode.fromCode(436207616));   // FUSE_INIT_BSWAP_RESERVED
        for (Opcode o : Opcode.values()) {
            assertEquals(o, Opcode.fromCode(o.code()));
        }
        assertEquals(false, Opcode.FORGET.expectsReply());
        assertEquals(false, Opcode.BATCH_FORGET.expectsReply());
        assertEquals(true, Opcode.LOOKUP.expectsReply());
    }

    @Test
    void initFlagsDescribeNamesBits() {
        assertEquals("ASYNC_READ|INIT_EXT|HAS_EXPIRE_ONLY|bit63",
                InitFlags.describe(InitFlags.FUSE_ASYNC_READ | InitFlags.FUSE_INIT_EXT | InitFlags.FUSE_HAS_EXPIRE_ONLY | 1L << 63));
        assertEquals(1L << 36, InitFlags.FUSE_DIRECT_IO_ALLOW_MMAP);
        assertEquals(1L << 34, InitFlags.FUSE_CREATE_SUPP_GROUP);
    }
}
