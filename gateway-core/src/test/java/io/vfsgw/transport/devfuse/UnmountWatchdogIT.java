package io.vfsgw.transport.devfuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A JVM killed with SIGKILL leaves no mount behind; SIGTERM unmounts through the shutdown hook. */
class UnmountWatchdogIT {
    @TempDir
    Path tmp;

    @Test
    void sigkillLeavesNoMountBehindEvenWithAnAwkwardPath() throws Exception {
        Path mp = Files.createDirectory(tmp.resolve("dir with space 'and' \"quotes\" $x"));
        Process child = startMountingJvm(mp);
        try {
            awaitMounted(child, mp);
            assertTrue(Files.readAttributes(mp, PosixFileAttributes.class).isDirectory());
            child.destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));
            assertEquals(137, child.exitValue(), "killed by SIGKILL");
            DevFuseMountIT.pollUntil(() -> !isFuseMounted(mp), Duration.ofSeconds(10), "the watchdog's lazy unmount");
            assertTrue(Files.isDirectory(mp), "a plain directory again, not ENOTCONN");
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void sigtermUnmountsThroughTheShutdownHook() throws Exception {
        Path mp = Files.createDirectory(tmp.resolve("mnt"));
        Process child = startMountingJvm(mp);
        try {
            awaitMounted(child, mp);
            child.destroy(); // SIGTERM
            assertTrue(child.waitFor(20, TimeUnit.SECONDS));
            assertEquals(143, child.exitValue(), "exited on SIGTERM");
            assertFalse(isFuseMounted(mp), "unmounted before the JVM exited");
        } finally {
            child.destroyForcibly();
        }
    }

    private static Process startMountingJvm(Path mp) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return new ProcessBuilder(List.of(java, "-cp", cp, MountAndWaitMain.class.getName(), mp.toString()))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }

    /** Reads the child's stdout until "mounted" (10 s deadline) and checks the kernel agrees. */
    private static void awaitMounted(Process child, Path mp) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<Boolean> mounted = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.equals("mounted")) {
                        return true;
                    }
                }
                return false;
            } catch (java.io.IOException e) {
                return false;
            }
        });
        assertTrue(mounted.get(20, TimeUnit.SECONDS), "child JVM printed 'mounted'");
        assertTrue(isFuseMounted(mp), "mountinfo shows the mount");
    }

    private static boolean isFuseMounted(Path mp) {
        try {
            return MountTable.topAt(mp.toRealPath().toString())
                    .filter(m -> m.fsType().equals(MountPointCheck.FS_TYPE)).isPresent();
        } catch (java.io.IOException e) {
            // toRealPath fails on a dead mount (ENOTCONN): it is still there
            return MountTable.topAt(mp.toAbsolutePath().toString())
                    .filter(m -> m.fsType().equals(MountPointCheck.FS_TYPE)).isPresent();
        }
    }
}
