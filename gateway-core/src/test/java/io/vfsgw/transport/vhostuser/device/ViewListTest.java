package io.vfsgw.transport.vhostuser.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class ViewListTest {
    @Test
    void growsPastItsFirstArrayKeepsOrderAndEmptiesOnClear() {
        ViewList l = new ViewList();
        ByteBuffer[] views = new ByteBuffer[300]; // more than a 1 MiB write's pages
        for (int i = 0; i < views.length; i++) {
            views[i] = ByteBuffer.allocate(1);
            l.add(views[i]);
        }
        ByteBuffer[] out = l.toArray();
        assertEquals(views.length, out.length);
        for (int i = 0; i < views.length; i++) {
            assertSame(views[i], out[i]);
        }
        l.clear();
        assertEquals(0, l.toArray().length, "cleared: nothing left to read");
        l.add(views[7]);
        assertEquals(1, l.toArray().length);
        assertSame(views[7], l.toArray()[0]);
    }
}
