package io.vfsgw.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real fusermount3 hands us a mounted /dev/fuse fd over SCM_RIGHTS (run as root here). */
class FusermountHelperIT {
    @TempDir
    Path dir;

    @Test
    void receivesTheMountedFdFromFusermount3() throws Exception {
        assertNotNull(FusermountHelper.findFusermount(), "fusermount3 is installed (Debian package fuse3)");
        String target = dir.toRealPath().toString();
        long fdsBefore = countFds();
        FuseDevice dev = FusermountHelper.mount(target, "rw,nosuid,nodev,fsname=vfsgw-test,subtype=vfsgwtest");
        try {
            assertEquals("/dev/fuse", Files.readSymbolicLink(Path.of("/proc/self/fd/" + dev.fd())).toString());
            String line = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .filter(l -> l.contains(" " + target + " ")).findFirst().orElseThrow();
            assertTrue(line.contains(" - fuse.vfsgwtest vfsgw-test "), line);
            try (FuseDevice clone = dev.cloneDevice()) {
                assertTrue(clone.fd() != dev.fd(), "the received fd is bound to a live connection");
            }
        } finally {
            Mounts.umount2(target, Mounts.MNT_DETACH);
            dev.close();
        }
        assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + target + " "));
        assertEquals(fdsBefore, countFds(), "socketpair ends and the fd are closed");
    }

    @Test
    void aRefusedMountIsAClearErrorNotAHang() throws Exception {
        FsException e = assertThrows(FsException.class,
                () -> FusermountHelper.mount(dir.resolve("missing").toString(), "rw"));
        assertEquals(Errno.EIO, e.errno());
        assertTrue(e.getMessage().contains("fusermount3 could not mount"), e.getMessage());
    }

    private static long countFds() throws Exception {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
