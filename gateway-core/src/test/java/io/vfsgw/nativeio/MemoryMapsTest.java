package io.vfsgw.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class MemoryMapsTest {

    @Test
    void twoMappingsOfOneMemfdShareBytesAtAnOffset() throws Exception {
        int fd = MemoryMaps.memfdCreate("mm", 3 * 4096);
        try (MemoryMaps.Mapping whole = MemoryMaps.map(fd, 0, 3 * 4096, true);
             MemoryMaps.Mapping tail = MemoryMaps.map(fd, 4096, 2 * 4096, false)) {
            ByteBuffer w = whole.view(4096 + 10, 8);
            assertEquals(ByteOrder.LITTLE_ENDIAN, w.order());
            assertTrue(w.isDirect());
            w.putLong(0, 42L);
            assertEquals(42L, tail.view(10, 8).getLong(0));
            assertEquals(2 * 4096, tail.length());
        } finally {
            UnixSockets.close(fd);
        }
    }

    @Test
    void viewsOutsideTheMappingAndAfterCloseAreRefused() throws Exception {
        int fd = MemoryMaps.memfdCreate("mm", 4096);
        try {
            MemoryMaps.Mapping m = MemoryMaps.map(fd, 0, 4096, true);
            assertThrows(IndexOutOfBoundsException.class, () -> m.view(4090, 8));
            assertThrows(IndexOutOfBoundsException.class, () -> m.view(-1, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> m.view(0, -1));
            m.close();
            m.close();
            assertThrows(IllegalStateException.class, () -> m.view(0, 8));
        } finally {
            UnixSockets.close(fd);
        }
    }

    @Test
    void mappingABadFdFailsWithErrno() {
        assertThrows(FsException.class, () -> MemoryMaps.map(999_999, 0, 4096, true));
    }
}
