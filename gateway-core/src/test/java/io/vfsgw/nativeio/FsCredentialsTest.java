package io.vfsgw.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FsCredentialsTest {
    @TempDir
    Path dir;

    @Test
    void becomeIsPerThreadAndRestored() throws Exception {
        Assumptions.assumeTrue(FsCredentials.currentFsUid() == 0, "needs root to switch fsuid; running as non-root");
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        // A thread inherits its creator's credentials, so the other thread must exist before the switch.
        java.util.concurrent.ExecutorService other = java.util.concurrent.Executors.newSingleThreadExecutor();
        assertEquals(0, other.submit(FsCredentials::currentFsUid).get());
        try (FsCredentials.Scope s = FsCredentials.become(1000, 1001)) {
            assertEquals(1000, FsCredentials.currentFsUid());
            assertEquals(0, other.submit(FsCredentials::currentFsUid).get());
            int fd = PosixFiles.openat(PosixFiles.AT_FDCWD, PosixFiles.cstr(dir.resolve("f").toString()),
                    OpenFlags.O_CREAT | OpenFlags.O_WRONLY, 0600);
            PosixFiles.closeQuietly(fd);
        }
        other.shutdown();
        assertEquals(0, FsCredentials.currentFsUid());
        assertEquals(0, FsCredentials.currentFsGid());
        assertEquals(1000, Files.getAttribute(dir.resolve("f"), "unix:uid"));
        assertEquals(1001, Files.getAttribute(dir.resolve("f"), "unix:gid"));
    }

    @Test
    void privateUmaskZeroOnlyForThisThread() throws Exception {
        int before = CompletableFuture.supplyAsync(FsCredentials::currentUmask).get();
        int mine = CompletableFuture.supplyAsync(() -> {
            try {
                FsCredentials.privateUmaskZero();
                int fd = PosixFiles.openat(PosixFiles.AT_FDCWD, PosixFiles.cstr(dir.resolve("g").toString()),
                        OpenFlags.O_CREAT | OpenFlags.O_WRONLY, 0777);
                PosixFiles.closeQuietly(fd);
                return FsCredentials.currentUmask();
            } catch (FsException e) {
                throw new IllegalStateException(e);
            }
        }).get();
        assertEquals(0, mine);
        assertEquals(0777, Files.getAttribute(dir.resolve("g"), "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS)
                instanceof Integer m ? m & 0777 : -1);
        assertEquals(before, FsCredentials.currentUmask());
    }
}
