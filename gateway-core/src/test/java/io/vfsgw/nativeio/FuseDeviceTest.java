package io.vfsgw.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The /dev/fuse binding against the real kernel, before any mount (mounted use is in the ITs). */
class FuseDeviceTest {
    @Test
    void opensCloseOnExecAndClosesOnce() throws Exception {
        FuseDevice dev = FuseDevice.open();
        int fd = dev.fd();
        assertTrue(fd > 2, "fd " + fd);
        String flags = Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd)).stream()
                .filter(l -> l.startsWith("flags:")).findFirst().orElseThrow();
        int octal = Integer.parseInt(flags.substring("flags:".length()).trim(), 8);
        assertEquals(02000000, octal & 02000000, "O_CLOEXEC set: " + flags);
        assertEquals(02, octal & 03, "O_RDWR: " + flags);
        dev.close();
        dev.close();
        assertTrue(!Files.exists(Path.of("/proc/self/fd/" + fd)) || !Files.readSymbolicLink(
                Path.of("/proc/self/fd/" + fd)).toString().equals("/dev/fuse"), "fd closed");
    }

    @Test
    void readAndWriteBeforeMountAreRefusedWithEperm() throws Exception {
        try (FuseDevice dev = FuseDevice.open()) {
            ByteBuffer buf = ByteBuffer.allocateDirect(FuseDevice.MIN_READ_BUFFER);
            FsException r = assertThrows(FsException.class, () -> dev.read(buf));
            assertEquals(Errno.EPERM, r.errno(), r.getMessage());
            FsException w = assertThrows(FsException.class, () -> dev.write(buf, 16));
            assertEquals(Errno.EPERM, w.errno(), w.getMessage());
        }
    }

    @Test
    void cloneOfAnUnmountedFdIsRefused() throws Exception {
        try (FuseDevice dev = FuseDevice.open()) {
            FsException e = assertThrows(FsException.class, dev::cloneDevice);
            // EINVAL up to Linux 6.x, EPERM on newer kernels: both say "not bound to a connection"
            assertTrue(e.errno() == Errno.EINVAL || e.errno() == Errno.EPERM, e.getMessage());
        }
    }

    @Test
    void heapBuffersAndOutOfRangeLengthsAreRejectedBeforeTheSyscall() throws Exception {
        try (FuseDevice dev = FuseDevice.open()) {
            assertThrows(IllegalArgumentException.class, () -> dev.read(ByteBuffer.allocate(8192)));
            FsException e = assertThrows(FsException.class, () -> dev.write(ByteBuffer.allocateDirect(16), 17));
            assertEquals(Errno.EINVAL, e.errno());
        }
    }
}
