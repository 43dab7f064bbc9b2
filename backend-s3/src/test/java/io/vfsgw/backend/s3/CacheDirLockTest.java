package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One process per S3 cache directory: another process is refused while it lives (after waiting a
 * moment for it to go), and only then.
 */
class CacheDirLockTest {
    @TempDir
    Path dir;

    /** Run in a child JVM: holds the lock until its stdin closes. */
    public static void main(String[] args) throws Exception {
        try (CacheDirLock lock = CacheDirLock.acquire(Path.of(args[0]))) {
            System.out.println("held");
            System.out.flush();
            while (System.in.read() >= 0) {
                // wait for the parent to close our stdin
            }
        }
    }

    @Test
    void anotherProcessIsRefusedWhileTheHolderLivesAndAdmittedAfter() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process holder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                CacheDirLockTest.class.getName(), dir.toString()).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("held", out.readLine());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> CacheDirLock.acquire(dir));
            assertTrue(e.getMessage().contains("in use by another vfsgw (pid " + holder.pid() + ")"), e.getMessage());
            assertTrue(e.getMessage().contains("--cache-dir"), e.getMessage());
        } finally {
            holder.getOutputStream().close();
            assertTrue(holder.waitFor(30, TimeUnit.SECONDS), "holder exits when its stdin closes");
        }
        try (CacheDirLock free = CacheDirLock.acquire(dir)) {
            // the kernel dropped the dead holder's lock
        }
    }

    @Test
    void aStartWaitsAMomentForAHolderThatIsGoing() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process holder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                CacheDirLockTest.class.getName(), dir.toString()).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("held", out.readLine());
        // `umount; mount`: the old gateway lets go of the directory while the new one starts
        Thread going = new Thread(() -> {
            try {
                Thread.sleep(300);
                holder.getOutputStream().close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        going.start();
        long t0 = System.nanoTime();
        try (CacheDirLock lock = CacheDirLock.acquire(dir)) {
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms < CacheDirLock.HOLDER_EXIT_WAIT_MS, "admitted once the holder went, after " + ms + " ms");
        } finally {
            going.join();
            assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void backendsOfOneProcessShareTheDirectory() throws Exception {
        CacheDirLock a = CacheDirLock.acquire(dir);
        CacheDirLock b = CacheDirLock.acquire(dir);
        a.close();
        a.close();   // twice is harmless, and does not release b's use
        Process probe = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), CacheDirLockTest.class.getName(), dir.toString())
                .redirectErrorStream(true).start();
        probe.getOutputStream().close();
        assertTrue(probe.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, probe.exitValue(), "still held by b: the other process is refused");
        b.close();
    }
}
