package io.vfsgw.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Header validation, body/extension views, and NUL-terminated names. */
class RequestDecoderTest {
    private static ByteBuffer request(int opcode, byte[] body, int extlen, int received) {
        ByteBuffer b = ByteBuffer.allocate(received).order(ByteOrder.LITTLE_ENDIAN);
        int len = InHeader.SIZE + body.length + extlen * 8;
        new InHeader(len, opcode, 77, 5, 1000, 100, 4242, extlen).encodeTo(b);
        b.put(body);
        return b.clear();
    }

    private static byte[] z(String... parts) {
        StringBuilder sb = new StringBuilder();
        for (String p : parts) {
            sb.append(p).append('\0');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void lookupDecodesToHeaderAndNameView() throws Exception {
        ByteBuffer req = request(Opcode.LOOKUP.code(), z("file.txt"), 0, 49);
        DecodedRequest d = RequestDecoder.decode(req);
        assertEquals(Opcode.LOOKUP, d.opcode());
        assertEquals(new InHeader(49, 1, 77, 5, 1000, 100, 4242, 0), d.header());
        assertEquals(77, d.unique());
        assertEquals(5, d.nodeid());
        assertEquals(0, d.body().position());
        assertEquals(9, d.body().remaining());
        assertEquals(ByteOrder.LITTLE_ENDIAN, d.body().order());
        assertEquals(0, d.extensions().remaining());
        assertArrayEquals("file.txt".getBytes(StandardCharsets.UTF_8), WireStrings.readName(d.body()));
        assertEquals(0, req.position(), "the input buffer is not moved");
    }

    @Test
    void bytesAfterLenAreIgnoredAndTheBodyStopsAtLen() throws Exception {
        ByteBuffer req = request(Opcode.READ.code(), new byte[ReadIn.SIZE], 0, 4096);
        DecodedRequest d = RequestDecoder.decode(req);
        assertEquals(ReadIn.SIZE, d.body().remaining());
        ReadIn.decode(d.body());
        assertEquals(0, d.body().remaining());
    }

    @Test
    void extensionsAreSplitOffTheBody() throws Exception {
        ByteBuffer req = request(Opcode.MKDIR.code(), new byte[16], 2, 40 + 16 + 16);
        req.putInt(56, 16).putInt(60, FuseProtocol.FUSE_EXT_GROUPS);
        DecodedRequest d = RequestDecoder.decode(req);
        assertEquals(16, d.body().remaining());
        assertEquals(16, d.extensions().remaining());
        assertEquals(new ExtHeader(16, FuseProtocol.FUSE_EXT_GROUPS), ExtHeader.decode(d.extensions()));
    }

    @Test
    void unknownOpcodeIsNotMalformed() throws Exception {
        DecodedRequest d = RequestDecoder.decode(request(9999, new byte[0], 0, 40));
        assertNull(d.opcode());
        assertEquals(9999, d.header().opcode());
    }

    @Test
    void inconsistentHeadersAreMalformed() {
        assertThrows(MalformedRequestException.class, () -> RequestDecoder.decode(ByteBuffer.allocate(39)));
        ByteBuffer longer = request(1, z("x"), 0, 42);
        longer.putInt(0, 43);   // claims one byte more than arrived
        assertThrows(MalformedRequestException.class, () -> RequestDecoder.decode(longer));
        ByteBuffer shorter = request(1, new byte[0], 0, 40);
        shorter.putInt(0, 39);
        assertThrows(MalformedRequestException.class, () -> RequestDecoder.decode(shorter));
        ByteBuffer huge = request(1, new byte[0], 0, 40);
        huge.putInt(0, -1);     // 4 GiB as u32
        assertThrows(MalformedRequestException.class, () -> RequestDecoder.decode(huge));
        ByteBuffer ext = request(1, new byte[8], 0, 48);
        ext.putShort(36, (short) 2);   // 16 extension bytes in an 8-byte body
        assertThrows(MalformedRequestException.class, () -> RequestDecoder.decode(ext));
    }

    @Test
    void scatteredHeaderIsCheckedAgainstTheTotal() throws Exception {
        ByteBuffer first = request(Opcode.WRITE.code(), new byte[0], 0, 40);
        first.putInt(0, 40 + WriteIn.SIZE + 4096);
        assertEquals(Opcode.WRITE.code(), RequestDecoder.decodeHeader(first, 40 + WriteIn.SIZE + 4096).opcode());
        assertThrows(MalformedRequestException.class, () -> RequestDecoder.decodeHeader(first, 40 + WriteIn.SIZE));
    }

    @Test
    void namesAreBoundedAndNulTerminated() throws Exception {
        ByteBuffer b = ByteBuffer.wrap(z("old", "new"));
        WireStrings.TwoNames n = WireStrings.readTwoNames(b);
        assertEquals(new WireStrings.TwoNames("old".getBytes(StandardCharsets.UTF_8), "new".getBytes(StandardCharsets.UTF_8)), n);
        assertEquals(8, b.position());

        ByteBuffer noNul = ByteBuffer.wrap("abc".getBytes(StandardCharsets.UTF_8));
        assertThrows(MalformedRequestException.class, () -> WireStrings.readName(noNul));
        assertEquals(0, noNul.position(), "failed reads do not move the buffer");

        byte[] max = new byte[256];
        java.util.Arrays.fill(max, 0, 255, (byte) 'a');
        assertEquals(255, WireStrings.readName(ByteBuffer.wrap(max)).length);
        // Over NAME_MAX is well formed on the wire (the kernel does not check it); spi.FileName
        // answers ENAMETOOLONG. Only a name without a NUL within FUSE_NAME_MAX is malformed.
        byte[] over = new byte[257];
        java.util.Arrays.fill(over, 0, 256, (byte) 'a');
        assertEquals(256, WireStrings.readName(ByteBuffer.wrap(over)).length);
        byte[] huge = new byte[WireStrings.FUSE_NAME_MAX + 2];
        java.util.Arrays.fill(huge, 0, WireStrings.FUSE_NAME_MAX + 1, (byte) 'a');
        MalformedRequestException e = assertThrows(MalformedRequestException.class,
                () -> WireStrings.readName(ByteBuffer.wrap(huge)));
        assertTrue(e.getMessage().contains("longer than " + WireStrings.FUSE_NAME_MAX), e.getMessage());

        byte[] target = new byte[4095];
        java.util.Arrays.fill(target, (byte) 't');
        ByteBuffer sym = ByteBuffer.allocate(2 + 4096);
        sym.put(z("l")).put(target).put((byte) 0).flip();
        assertEquals(4095, WireStrings.readNameAndTarget(sym).second().length);

        ByteBuffer xattr = ByteBuffer.wrap(z("user.k", "value-not-a-name"));
        assertArrayEquals("user.k".getBytes(StandardCharsets.UTF_8), WireStrings.readXattrName(xattr));
        assertEquals(7, xattr.position(), "value follows the name");

        assertArrayEquals(new byte[0], WireStrings.readName(ByteBuffer.wrap(new byte[] {0})),
                "an empty name is well-formed here; FileName rejects it with EINVAL");
    }
}
