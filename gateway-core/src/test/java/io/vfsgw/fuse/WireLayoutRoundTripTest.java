package io.vfsgw.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * For every fixed-size record: bytes built by hand at the offsets of {@link WireLayouts} decode to
 * the right components, and encoding gives back exactly those bytes (padding as zeros).
 */
class WireLayoutRoundTripTest {
    /** Variable-size records, covered by {@link WireRecordsTest}. */
    private static final Set<Class<?>> VARIABLE = Set.of(InitIn.class, InitOut.class, Dirent.class, Direntplus.class);

    static Stream<WireLayouts.Layout> fixedLayouts() {
        return WireLayouts.ALL.stream().filter(l -> !VARIABLE.contains(l.type()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixedLayouts")
    void decodeThenEncodeIsByteExact(WireLayouts.Layout layout) throws Exception {
        // Distinct nonzero bytes in every field, zeros in padding.
        byte[] wire = new byte[layout.size()];
        for (WireLayouts.Field f : layout.fields()) {
            for (int i = 0; i < f.width(); i++) {
                wire[f.offset() + i] = (byte) (0x81 + f.offset() * 3 + i);
            }
        }
        int at = 5;   // not at position 0, to catch absolute/relative mix-ups
        ByteBuffer in = ByteBuffer.allocate(at + layout.size() + 7).order(ByteOrder.LITTLE_ENDIAN);
        in.position(at);
        in.put(wire).position(at);

        Method decode = layout.type().getMethod("decode", ByteBuffer.class);
        Object rec = decode.invoke(null, in);
        assertEquals(at + layout.size(), in.position(), "decode advances by SIZE");

        for (WireLayouts.Field f : layout.fields()) {
            long expected = 0;
            for (int i = f.width() - 1; i >= 0; i--) {
                expected = (expected << 8) | (wire[f.offset() + i] & 0xFF);
            }
            Object actual = component(rec, f.component());
            long got = actual instanceof Long l ? l : ((Integer) actual).longValue();
            long mask = f.width() == 8 ? -1L : (1L << (8 * f.width())) - 1;
            assertEquals(expected, got & mask, layout.cStruct() + "." + f.cPath());
            if (f.width() == 2) {
                assertTrue(got >= 0 && got <= 0xFFFF, f.cPath() + " is a u16 held unsigned");
            }
        }

        ByteBuffer out = ByteBuffer.allocate(at + layout.size() + 7).order(ByteOrder.LITTLE_ENDIAN);
        Arrays.fill(out.array(), (byte) 0xEE);   // stale bytes: encode must zero the padding itself
        out.position(at);
        layout.type().getMethod("encodeTo", ByteBuffer.class).invoke(rec, out);
        assertEquals(at + layout.size(), out.position(), "encodeTo advances by SIZE");
        assertArrayEquals(wire, Arrays.copyOfRange(out.array(), at, at + layout.size()), layout.cStruct() + " bytes");
        assertEquals((byte) 0xEE, out.get(at + layout.size()), "nothing written past SIZE");
        assertEquals((byte) 0xEE, out.get(at - 1), "nothing written before the position");
    }

    static Object component(Object rec, String path) throws Exception {
        Object cur = rec;
        for (String name : path.split("\\.")) {
            RecordComponent rc = Arrays.stream(cur.getClass().getRecordComponents())
                    .filter(c -> c.getName().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError("no component " + name + " in " + rec.getClass()));
            cur = rc.getAccessor().invoke(cur);
        }
        return cur;
    }
}
