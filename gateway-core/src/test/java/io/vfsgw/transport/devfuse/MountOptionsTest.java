package io.vfsgw.transport.devfuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Defaults, buffer sizing and the refusals of bad option values. */
class MountOptionsTest {
    @Test
    void defaultsAndBufferSize() {
        MountOptions o = MountOptions.defaults();
        assertEquals(4, o.workerThreads());
        assertEquals(1 << 20, o.maxWrite());
        assertEquals((1 << 20) + 4096, o.bufferSize());
        assertFalse(o.allowNonEmpty());
        assertTrue(o.watchdog());
        assertEquals(8192, o.withMaxWrite(4096).bufferSize(), "never below FUSE_MIN_READ_BUFFER");
        assertEquals(7, o.withWorkerThreads(7).workerThreads());
        assertEquals("vfsgw:b", o.withFsName("vfsgw:b").fsName());
    }

    @Test
    void refusesBadValues() {
        MountOptions o = MountOptions.defaults();
        assertThrows(IllegalArgumentException.class, () -> o.withWorkerThreads(0));
        assertThrows(IllegalArgumentException.class, () -> o.withWorkerThreads(65));
        assertThrows(IllegalArgumentException.class, () -> o.withMaxWrite(1000));
        assertThrows(IllegalArgumentException.class, () -> o.withMaxWrite(32 << 20));
        assertThrows(IllegalArgumentException.class, () -> o.withFsName("a,b"));
        assertThrows(IllegalArgumentException.class, () -> o.withFsName("a b"));
        assertThrows(IllegalArgumentException.class, () -> o.withUnmountGrace(Duration.ofSeconds(-1)));
    }
}
