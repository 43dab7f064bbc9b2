package io.vfsgw.nativeio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PosixFilesTest {
    @TempDir
    Path dir;
    int dirFd;

    @BeforeEach
    void open() throws FsException {
        dirFd = PosixFiles.openat(PosixFiles.AT_FDCWD, PosixFiles.cstr(dir.toString()),
                OpenFlags.O_PATH | OpenFlags.O_DIRECTORY, 0);
    }

    @AfterEach
    void close() {
        PosixFiles.closeQuietly(dirFd);
    }

    private int openFile(String name, int flags) throws FsException {
        return PosixFiles.openat(dirFd, PosixFiles.cstr(name), flags, 0644);
    }

    @Test
    void linkTargetIsBelowComparesWholeComponents() throws Exception {
        Files.createSymbolicLink(dir.resolve("deep"), Path.of("/srv/share/sub"));
        Files.createSymbolicLink(dir.resolve("same"), Path.of("/srv/share"));
        Files.createSymbolicLink(dir.resolve("sibling"), Path.of("/srv/shared/x"));
        byte[] share = "/srv/share".getBytes(StandardCharsets.UTF_8);
        assertTrue(PosixFiles.linkTargetIsBelow(dirFd, PosixFiles.cstr("deep"), share));
        assertFalse(PosixFiles.linkTargetIsBelow(dirFd, PosixFiles.cstr("same"), share), "the directory itself");
        assertFalse(PosixFiles.linkTargetIsBelow(dirFd, PosixFiles.cstr("sibling"), share), "a longer name");
        assertFalse(PosixFiles.linkTargetIsBelow(dirFd, PosixFiles.cstr("deep"), "/srv/sha".getBytes()));
        assertArrayEquals("/srv/share/sub".getBytes(), PosixFiles.readlinkat(dirFd, PosixFiles.cstr("deep")),
                "the copying read still returns the whole target");
        assertEquals(Errno.ENOENT, assertThrows(FsException.class,
                () -> PosixFiles.linkTargetIsBelow(dirFd, PosixFiles.cstr("none"), share)).errno());
    }

    @Test
    void openatReportsExactErrno() {
        FsException e = assertThrows(FsException.class, () -> openFile("missing", OpenFlags.O_RDONLY));
        assertEquals(Errno.ENOENT, e.errno());
        FsException e2 = assertThrows(FsException.class, () -> openFile("missing/x", OpenFlags.O_RDONLY));
        assertEquals(Errno.ENOENT, e2.errno());
    }

    @Test
    void openat2RefusesEscapesAndSymlinks() throws Exception {
        Files.createSymbolicLink(dir.resolve("up"), Path.of("/"));
        long jail = PosixFiles.RESOLVE_BENEATH | PosixFiles.RESOLVE_NO_SYMLINKS | PosixFiles.RESOLVE_NO_MAGICLINKS;
        assertEquals(Errno.EXDEV, assertThrows(FsException.class,
                () -> PosixFiles.openat2(dirFd, PosixFiles.cstr(".."), OpenFlags.O_PATH, 0, jail)).errno());
        assertEquals(Errno.ELOOP, assertThrows(FsException.class,
                () -> PosixFiles.openat2(dirFd, PosixFiles.cstr("up/etc"), OpenFlags.O_PATH, 0, jail)).errno());
        // the symlink itself can be held (O_PATH|O_NOFOLLOW): it is a node, never followed
        int fd = PosixFiles.openat2(dirFd, PosixFiles.cstr("up"), OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW, 0, jail);
        try {
            assertTrue(PosixFiles.fstat(fd).isSymlink());
        } finally {
            PosixFiles.closeQuietly(fd);
        }
    }

    @Test
    void statxSeesWhatJavaSees() throws Exception {
        Path f = dir.resolve("f");
        Files.write(f, new byte[1234]);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
        Files.setLastModifiedTime(f, FileTime.fromMillis(1_600_000_000_123L));
        int fd = openFile("f", OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW);
        try {
            PosixFiles.Stat st = PosixFiles.fstat(fd);
            assertEquals(1234, st.size());
            assertEquals(0100640, st.mode());
            assertEquals(1, st.nlink());
            assertEquals(Files.getAttribute(f, "unix:ino"), st.ino());
            assertEquals(1_600_000_000_123_000_000L, st.mtimeNs());
            assertTrue(st.isRegular());
        } finally {
            PosixFiles.closeQuietly(fd);
        }
    }

    @Test
    void preadvIntoSeveralDirectBuffersWithoutMovingThem() throws Exception {
        Files.writeString(dir.resolve("f"), "hello world, zero copy");
        int fd = openFile("f", OpenFlags.O_RDONLY);
        try {
            ByteBuffer a = ByteBuffer.allocateDirect(8);
            a.position(2); // the view starts mid-buffer, as a reply buffer after its header
            ByteBuffer b = ByteBuffer.allocateDirect(5);
            long n = PosixFiles.preadv(fd, new ByteBuffer[] {a, b}, 6);
            assertEquals(11, n);
            assertEquals(2, a.position());
            byte[] got = new byte[6];
            a.get(got);
            assertEquals("world,", new String(got, StandardCharsets.US_ASCII));
            byte[] got2 = new byte[5];
            b.get(got2);
            assertEquals(" zero", new String(got2, StandardCharsets.US_ASCII));
            assertEquals(0, PosixFiles.preadv(fd, new ByteBuffer[] {ByteBuffer.allocateDirect(4)}, 100));
        } finally {
            PosixFiles.closeQuietly(fd);
        }
    }

    @Test
    void pwritevAndHeapFallback() throws Exception {
        int fd = openFile("w", OpenFlags.O_RDWR | OpenFlags.O_CREAT);
        try {
            ByteBuffer d = ByteBuffer.allocateDirect(3).put("abc".getBytes()).flip();
            ByteBuffer h = ByteBuffer.wrap("defg".getBytes());
            assertEquals(3, PosixFiles.pwritev(fd, new ByteBuffer[] {d}, 0));
            assertEquals(4, PosixFiles.pwritev(fd, new ByteBuffer[] {h}, 3));
            assertEquals("abcdefg", Files.readString(dir.resolve("w")));
            ByteBuffer heap = ByteBuffer.allocate(7);
            assertEquals(7, PosixFiles.preadv(fd, new ByteBuffer[] {heap}, 0));
            assertEquals("abcdefg", new String(heap.array(), StandardCharsets.US_ASCII));
            FsException e = assertThrows(FsException.class,
                    () -> PosixFiles.pwritev(dirFd, new ByteBuffer[] {ByteBuffer.allocateDirect(1)}, 0));
            assertEquals(Errno.EBADF, e.errno()); // an O_PATH fd cannot be written
        } finally {
            PosixFiles.closeQuietly(fd);
        }
    }

    @Test
    void truncateAllocateSeekCopy() throws Exception {
        int fd = openFile("s", OpenFlags.O_RDWR | OpenFlags.O_CREAT);
        int out = openFile("t", OpenFlags.O_RDWR | OpenFlags.O_CREAT);
        try {
            PosixFiles.ftruncate(fd, 1 << 20);
            PosixFiles.pwritev(fd, new ByteBuffer[] {ByteBuffer.allocateDirect(4096)}, 8192);
            assertEquals(8192, PosixFiles.lseek(fd, 0, 3)); // SEEK_DATA
            assertEquals(0, PosixFiles.lseek(fd, 0, 4)); // SEEK_HOLE
            assertEquals(Errno.ENXIO, assertThrows(FsException.class, () -> PosixFiles.lseek(fd, 2 << 20, 3)).errno());
            PosixFiles.fallocate(fd, 0x01, 1 << 20, 4096); // KEEP_SIZE
            assertEquals(1 << 20, Files.size(dir.resolve("s")));
            assertEquals(100, PosixFiles.copyFileRange(fd, 8192, out, 10, 100, 0));
            assertEquals(110, Files.size(dir.resolve("t")));
            PosixFiles.fsync(fd, false);
            PosixFiles.fsync(fd, true);
            PosixFiles.syncfs(fd);
        } finally {
            PosixFiles.closeQuietly(fd);
            PosixFiles.closeQuietly(out);
        }
    }

    @Test
    void ownershipModesTimesOnOpathFds() throws Exception {
        Path f = Files.createFile(dir.resolve("o"));
        Files.createSymbolicLink(dir.resolve("l"), Path.of("o"));
        int fd = openFile("o", OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW);
        int lfd = openFile("l", OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW);
        try {
            PosixFiles.fchown(fd, 1000, 1001);
            assertEquals(1000, Files.getAttribute(f, "unix:uid"));
            assertEquals(1001, Files.getAttribute(f, "unix:gid"));
            PosixFiles.fchown(lfd, 1002, -1); // lchown: the link, not its target
            assertEquals(1002, Files.getAttribute(dir.resolve("l"), "unix:uid",
                    java.nio.file.LinkOption.NOFOLLOW_LINKS));
            assertEquals(1000, Files.getAttribute(f, "unix:uid"));
            PosixFiles.futimens(fd, 5_000_000_007L, false, PosixFiles.UTIME_OMIT, true);
            assertEquals(5_000_000_007L, PosixFiles.fstat(fd).atimeNs());
            assertArrayEquals("o".getBytes(), PosixFiles.readlink(lfd));
            assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> PosixFiles.readlink(fd)).errno());
            PosixFiles.fchmodat(dirFd, PosixFiles.cstr("o"), 0600, 0);
            assertEquals(0100600, PosixFiles.fstat(fd).mode());
            PosixFiles.FsStat fs = PosixFiles.fstatfs(fd);
            assertTrue(fs.blocks() > 0 && fs.bsize() > 0 && fs.namelen() == 255);
        } finally {
            PosixFiles.closeQuietly(fd);
            PosixFiles.closeQuietly(lfd);
        }
    }

    @Test
    void ofdLocksConflictBetweenDescriptionsAndFlock() throws Exception {
        Files.write(dir.resolve("k"), new byte[100]);
        int a = openFile("k", OpenFlags.O_RDWR);
        int b = openFile("k", OpenFlags.O_RDWR);
        try {
            PosixFiles.ofdLock(a, PosixFiles.F_OFD_SETLK, 1, 0, 10); // F_WRLCK bytes 0..9
            FsException e = assertThrows(FsException.class,
                    () -> PosixFiles.ofdLock(b, PosixFiles.F_OFD_SETLK, 0, 5, 1));
            assertEquals(Errno.EAGAIN, e.errno());
            PosixFiles.FlockInfo c = PosixFiles.ofdLock(b, PosixFiles.F_OFD_GETLK, 0, 5, 1);
            assertEquals(1, c.type());
            assertEquals(0, c.start());
            assertEquals(10, c.len());
            assertEquals(-1, c.pid()); // OFD locks report pid -1
            PosixFiles.ofdLock(b, PosixFiles.F_OFD_SETLK, 0, 10, 5); // no overlap
            PosixFiles.flock(a, PosixFiles.LOCK_EX | PosixFiles.LOCK_NB);
            assertEquals(Errno.EAGAIN, assertThrows(FsException.class,
                    () -> PosixFiles.flock(b, PosixFiles.LOCK_SH | PosixFiles.LOCK_NB)).errno());
            PosixFiles.flock(a, PosixFiles.LOCK_UN);
            PosixFiles.flock(b, PosixFiles.LOCK_SH | PosixFiles.LOCK_NB);
        } finally {
            PosixFiles.closeQuietly(a);
            PosixFiles.closeQuietly(b);
        }
    }

    @Test
    void closeAndDup() throws Exception {
        int fd = openFile("d", OpenFlags.O_RDWR | OpenFlags.O_CREAT);
        int d = PosixFiles.dup(fd);
        PosixFiles.close(d);
        PosixFiles.close(fd);
        // Not close(fd) again: another thread of the test JVM may have been given that number
        // meanwhile (CI saw it once), and closing it would pull a file from under that thread.
        // No process has an fd this high.
        assertEquals(Errno.EBADF, assertThrows(FsException.class, () -> PosixFiles.close(Integer.MAX_VALUE)).errno());
    }
}
