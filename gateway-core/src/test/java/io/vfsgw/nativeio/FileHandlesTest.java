package io.vfsgw.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** name_to_handle_at / open_by_handle_at and statx mount ids on the real filesystem of the temp dir. */
class FileHandlesTest {
    @TempDir
    Path dir;
    int mountFd;

    @BeforeEach
    void open() throws FsException {
        mountFd = PosixFiles.openat(PosixFiles.AT_FDCWD, PosixFiles.cstr(dir.toString()),
                OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY, 0);
    }

    @AfterEach
    void close() {
        PosixFiles.closeQuietly(mountFd);
        PosixFiles.closeQuietly(lastFd);
    }

    int oPath(Path p) throws FsException {
        return PosixFiles.openat(PosixFiles.AT_FDCWD, PosixFiles.cstr(p.toString()),
                OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW, 0);
    }

    @Test
    void aHandleReopensTheSameInodeWithoutAnyFdHeld() throws Exception {
        Path f = Files.writeString(dir.resolve("f"), "hello");
        int fd = oPath(f);
        PosixFiles.Stat before = PosixFiles.fstat(fd);
        FileHandles.FileHandle h = FileHandles.of(fd);
        PosixFiles.close(fd);
        assertTrue(h.bytes().length > 0 && h.bytes().length <= FileHandles.MAX_HANDLE_SZ);
        assertEquals(h, FileHandles.of(fd = oPath(f)), "the same object gives the same handle");
        PosixFiles.close(fd);

        Files.move(f, dir.resolve("renamed")); // a handle does not care about names
        int again = FileHandles.open(mountFd, h, OpenFlags.O_PATH);
        try {
            PosixFiles.Stat after = PosixFiles.fstat(again);
            assertEquals(before.ino(), after.ino());
            assertEquals(before.dev(), after.dev());
        } finally {
            PosixFiles.close(again);
        }
        int rd = FileHandles.open(mountFd, h, OpenFlags.O_RDONLY);
        try {
            assertEquals(5, PosixFiles.fstat(rd).size());
        } finally {
            PosixFiles.close(rd);
        }
    }

    @Test
    void aDeletedFileIsEstaleAndAnOPathMountFdIsRefused() throws Exception {
        Path f = Files.createFile(dir.resolve("gone"));
        int fd = oPath(f);
        FileHandles.FileHandle h = FileHandles.of(fd);
        PosixFiles.close(fd);
        int pathFd = oPath(dir);
        try {
            assertEquals(Errno.EBADF, assertThrows(FsException.class,
                    () -> FileHandles.open(pathFd, h, OpenFlags.O_PATH)).errno(), "the mount fd must be a real fd");
        } finally {
            PosixFiles.close(pathFd);
        }
        Files.delete(f);
        assertEquals(Errno.ESTALE, assertThrows(FsException.class,
                () -> FileHandles.open(mountFd, h, OpenFlags.O_PATH)).errno());
    }

    @Test
    void mountIdsAndMountRoots() throws Exception {
        FileHandles.MountInfo root = FileHandles.mountInfo(oPathClosing(Path.of("/")));
        assertTrue(root.mountRoot(), "/ is a mount root");
        FileHandles.MountInfo sub = FileHandles.mountInfo(oPathClosing(Files.createDirectory(dir.resolve("d"))));
        assertFalse(sub.mountRoot(), "a plain directory is not");
        int fd = oPath(dir);
        try {
            assertEquals(FileHandles.of(fd).mountId(), FileHandles.mountInfo(fd).mountId(),
                    "name_to_handle_at and statx agree on the mount id");
        } finally {
            PosixFiles.close(fd);
        }
        FileHandles.MountInfo proc = FileHandles.mountInfo(oPathClosing(Path.of("/proc")));
        assertTrue(proc.mountRoot());
        assertNotEquals(root.mountId(), proc.mountId());
    }

    private int lastFd = -1;

    /** An O_PATH fd closed by the next call (keeps the asserts short). */
    int oPathClosing(Path p) throws FsException {
        PosixFiles.closeQuietly(lastFd);
        lastFd = oPath(p);
        return lastFd;
    }
}
