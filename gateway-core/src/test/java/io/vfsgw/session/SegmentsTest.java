package io.vfsgw.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class SegmentsTest {
    private static ByteBuffer[] split(byte[] data, int... sizes) {
        ByteBuffer[] out = new ByteBuffer[sizes.length];
        int off = 0;
        for (int i = 0; i < sizes.length; i++) {
            out[i] = ByteBuffer.allocateDirect(sizes[i]).order(ByteOrder.LITTLE_ENDIAN);
            out[i].put(0, data, off, Math.min(sizes[i], data.length - off));
            off += sizes[i];
        }
        return out;
    }

    @Test
    void copiesAcrossViewBoundaries() {
        byte[] data = new byte[100];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        Segments s = new Segments(split(data, 7, 0, 40, 53), 100);
        ByteBuffer dst = ByteBuffer.allocate(100);
        s.copyTo(dst, 45);
        s.copyTo(dst, 55);
        assertArrayEquals(data, dst.array());
        assertEquals(0, s.remaining());
        assertThrows(IllegalArgumentException.class, () -> s.copyTo(ByteBuffer.allocate(1), 1));
    }

    @Test
    void viewsCoverTheRangeWithoutCopying() {
        ByteBuffer[] parts = split(new byte[30], 10, 10, 10);
        Segments s = new Segments(parts, 30);
        s.skip(5);
        ByteBuffer[] v = s.views(20);
        assertEquals(3, v.length);
        assertEquals(5, v[0].remaining());
        assertEquals(10, v[1].remaining());
        assertEquals(5, v[2].remaining());
        v[1].put(0, (byte) 9);
        assertEquals(9, parts[1].get(0), "a view shares the transport's memory");
        assertEquals(25, s.remaining(), "views do not advance");
    }

    @Test
    void limitCapsWhatCounts() {
        Segments s = new Segments(split(new byte[64], 64), 40);
        assertEquals(40, s.remaining());
        assertThrows(IllegalArgumentException.class, () -> s.skip(41));
    }

    @Test
    void putAndZerosWriteAcrossViews() {
        ByteBuffer[] parts = split(new byte[12], 4, 4, 4);
        Segments s = new Segments(parts, 12);
        s.put(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6}));
        s.putZeros(2);
        s.put(ByteBuffer.wrap(new byte[] {7, 8, 9, 10}));
        byte[] all = new byte[12];
        for (int i = 0; i < 3; i++) {
            parts[i].get(0, all, i * 4, 4);
        }
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 0, 0, 7, 8, 9, 10}, all);
        assertThrows(IllegalArgumentException.class, () -> s.put(ByteBuffer.wrap(new byte[1])));
    }

    @Test
    void wholePartsAreHandedOutFromTheirStartEvenAfterAConsumerMovedThem() {
        byte[] data = new byte[30];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        ByteBuffer[] parts = split(data, 10, 10, 10);
        Segments s = new Segments(parts, 30);
        ByteBuffer[] first = s.views(30);
        assertSame(parts[1], first[1], "a part covered whole is not sliced");
        first[1].position(7); // a consumer reading with a relative get
        s.skip(10);
        ByteBuffer[] again = s.views(15);
        assertEquals(2, again.length);
        assertEquals(0, again[0].position(), "handed out afresh from its start");
        assertEquals(10, again[0].remaining());
        assertEquals(10, again[0].get());
        assertEquals(5, again[1].remaining(), "the part cut short is a slice");
        assertEquals(10, parts[2].limit(), "the part itself keeps its limit");
        assertEquals(20, again[1].get(0));
    }

    @Test
    void aOneOffCopyStartsAnywhereAndSpansViews() {
        byte[] data = new byte[30];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        ByteBuffer[] parts = split(data, 7, 0, 13, 10);
        ByteBuffer dst = ByteBuffer.allocate(12);
        Segments.copy(parts, 5, dst, 12);
        assertEquals(12, dst.position());
        for (int i = 0; i < 12; i++) {
            assertEquals(5 + i, dst.get(i));
        }
        assertThrows(IllegalArgumentException.class, () -> Segments.copy(parts, 25, ByteBuffer.allocate(8), 8));
    }
}
