package io.vfsgw.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** mount(2)/umount2(2) against the real kernel with a tmpfs (we run as root). */
class MountsTest {
    @TempDir
    Path dir;

    @Test
    void mountsAndUnmountsTmpfs() throws Exception {
        String target = dir.toRealPath().toString();
        Mounts.mount("vfsgw-test", target, "tmpfs", Mounts.MS_NOSUID | Mounts.MS_NODEV, "size=1m");
        try {
            assertTrue(mountinfo().contains(" " + target + " "), "mounted at " + target);
            assertEquals("tmpfs", Files.getFileStore(Path.of(target)).type());
        } finally {
            Mounts.umount2(target, 0);
        }
        assertFalse(mountinfo().contains(" " + target + " "), "unmounted");
    }

    @Test
    void busyMountNeedsDetach() throws Exception {
        String target = dir.toRealPath().toString();
        Mounts.mount("vfsgw-test", target, "tmpfs", 0, "size=1m");
        Path file = Path.of(target, "held");
        try (var ch = Files.newByteChannel(file, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE)) {
            FsException e = assertThrows(FsException.class, () -> Mounts.umount2(target, 0));
            assertEquals(Errno.EBUSY, e.errno());
            Mounts.umount2(target, Mounts.MNT_DETACH);
            assertFalse(mountinfo().contains(" " + target + " "), "detached while the file is open");
        }
    }

    @Test
    void unmountingANonMountPointIsEinval() {
        FsException e = assertThrows(FsException.class, () -> Mounts.umount2(dir.toString(), 0));
        assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
    }

    @Test
    void mountOfAnUnknownFilesystemTypeKeepsTheErrno() {
        FsException e = assertThrows(FsException.class,
                () -> Mounts.mount("x", dir.toString(), "no-such-fs-type", 0, null));
        assertEquals(Errno.ENODEV, e.errno(), e.getMessage());
    }

    private static String mountinfo() throws Exception {
        return Files.readString(Path.of("/proc/self/mountinfo"));
    }
}
