package io.vfsgw.nativeio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class XattrsTest {
    @TempDir
    Path dir;

    @Test
    void setGetListRemoveThroughProcFdOfOpathDescriptor() throws Exception {
        Path f = Files.createFile(dir.resolve("f"));
        int fd = PosixFiles.openat(PosixFiles.AT_FDCWD, PosixFiles.cstr(f.toString()),
                OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW, 0);
        String p = "/proc/self/fd/" + fd;
        try {
            Xattrs.set(p, "user.k", new byte[] {1, 2, 3}, 0);
            assertArrayEquals(new byte[] {1, 2, 3}, Xattrs.get(p, "user.k"));
            Xattrs.set(p, "user.empty", new byte[0], 0);
            assertEquals(0, Xattrs.get(p, "user.empty").length);
            assertTrue(Xattrs.list(p).containsAll(java.util.List.of("user.k", "user.empty")));
            assertEquals(Errno.EEXIST, assertThrows(FsException.class,
                    () -> Xattrs.set(p, "user.k", new byte[1], Xattrs.XATTR_CREATE)).errno());
            assertEquals(Errno.ENODATA, assertThrows(FsException.class,
                    () -> Xattrs.set(p, "user.nope", new byte[1], Xattrs.XATTR_REPLACE)).errno());
            Xattrs.remove(p, "user.k");
            assertEquals(Errno.ENODATA, assertThrows(FsException.class, () -> Xattrs.get(p, "user.k")).errno());
            // the host side sees what we set
            assertEquals(0, ((java.nio.file.attribute.UserDefinedFileAttributeView) Files.getFileAttributeView(f,
                    java.nio.file.attribute.UserDefinedFileAttributeView.class)).size("empty"));
        } finally {
            PosixFiles.closeQuietly(fd);
        }
    }

    @Test
    void userXattrOnSymlinkIsEpermAsOnLinux() throws Exception {
        Path l = Files.createSymbolicLink(dir.resolve("l"), Path.of("target"));
        int fd = PosixFiles.openat(PosixFiles.AT_FDCWD, PosixFiles.cstr(l.toString()),
                OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW, 0);
        try {
            assertEquals(Errno.EPERM, assertThrows(FsException.class,
                    () -> Xattrs.set("/proc/self/fd/" + fd, "user.k", new byte[1], 0)).errno());
        } finally {
            PosixFiles.closeQuietly(fd);
        }
    }
}
