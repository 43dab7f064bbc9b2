package io.vfsgw.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PosixDirsTest {
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

    private static byte[] c(String s) {
        return PosixFiles.cstr(s);
    }

    @Test
    void createLinkRenameRemove() throws Exception {
        PosixDirs.mkdirat(dirFd, c("d"), 0755);
        assertTrue(Files.isDirectory(dir.resolve("d")));
        assertEquals(Errno.EEXIST, assertThrows(FsException.class, () -> PosixDirs.mkdirat(dirFd, c("d"), 0755)).errno());
        PosixDirs.mknodat(dirFd, c("fifo"), 0010644, 0, 0);
        assertTrue(Files.readAttributes(dir.resolve("fifo"), "unix:mode").get("mode") instanceof Integer m
                && (m & 0170000) == 0010000);
        PosixDirs.mknodat(dirFd, c("null"), 0020600, 1, 3);
        assertEquals((1L << 8) | 3, ((Number) Files.getAttribute(dir.resolve("null"), "unix:rdev")).longValue());
        PosixDirs.symlinkat(c("../outside"), dirFd, c("sl"));
        assertEquals("../outside", Files.readSymbolicLink(dir.resolve("sl")).toString());
        Files.writeString(dir.resolve("f"), "x");
        PosixDirs.linkat(dirFd, c("f"), dirFd, c("f2"), 0);
        assertEquals(2, Files.getAttribute(dir.resolve("f"), "unix:nlink"));
        PosixDirs.renameat2(dirFd, c("f2"), dirFd, c("f3"), 0);
        assertEquals(Errno.EEXIST, assertThrows(FsException.class,
                () -> PosixDirs.renameat2(dirFd, c("f3"), dirFd, c("f"), PosixDirs.RENAME_NOREPLACE)).errno());
        Files.writeString(dir.resolve("g"), "gg");
        PosixDirs.renameat2(dirFd, c("f"), dirFd, c("g"), PosixDirs.RENAME_EXCHANGE);
        assertEquals("gg", Files.readString(dir.resolve("f")));
        PosixDirs.unlinkat(dirFd, c("f3"), 0);
        assertFalse(Files.exists(dir.resolve("f3")));
        assertEquals(Errno.EISDIR, assertThrows(FsException.class, () -> PosixDirs.unlinkat(dirFd, c("d"), 0)).errno());
        PosixDirs.unlinkat(dirFd, c("d"), PosixFiles.AT_REMOVEDIR);
        assertFalse(Files.exists(dir.resolve("d"), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void getdentsResumesFromCookies() throws Exception {
        Set<String> want = new HashSet<>(List.of(".", ".."));
        for (int i = 0; i < 300; i++) {
            String n = "entry-with-a-longish-name-" + i;
            Files.createFile(dir.resolve(n));
            want.add(n);
        }
        int fd = PosixFiles.openat(dirFd, c("."), OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY, 0);
        try {
            PosixDirs.DirBuffer buf = new PosixDirs.DirBuffer(4096);
            Set<String> seen = new HashSet<>();
            long[] cookie = {0};
            boolean end = false;
            int calls = 0;
            while (!end) {
                // take 7 entries per call, like a small reply buffer would
                int[] taken = {0};
                end = PosixDirs.getdents(fd, cookie[0], buf, d -> {
                    if (taken[0] == 7) {
                        return false;
                    }
                    taken[0]++;
                    assertTrue(seen.add(new String(d.name(), StandardCharsets.UTF_8)), "seen twice");
                    cookie[0] = d.nextOffset();
                    return true;
                });
                calls++;
            }
            assertEquals(want, seen);
            assertTrue(calls > 40);
        } finally {
            PosixFiles.closeQuietly(fd);
        }
    }
}
