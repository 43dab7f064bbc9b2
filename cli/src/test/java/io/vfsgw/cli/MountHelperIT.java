package io.vfsgw.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.backend.s3.S3ProxyFixture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mount(8) helper {@code mount.fuse.vfsgw}, called as mount(8) calls it for an /etc/fstab line
 * of type fuse.vfsgw: {@code mount.fuse.vfsgw SOURCE MOUNTPOINT -o OPTIONS}. It must return once the
 * mount is up, leave the daemon running, and fail with the daemon's own error otherwise.
 */
class MountHelperIT {
    private static final Path HELPER = Path.of("..", "mount.fuse.vfsgw").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    private record Result(int exit, String err) {
    }

    private static Result helper(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(HELPER.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the helper did not return");
        return new Result(p.exitValue(), err);
    }

    /** The SOURCE column of findmnt for a vfsgw mount at {@code mp}, or "" when there is none. */
    private static String mountedSource(Path mp) throws Exception {
        Process p = new ProcessBuilder("findmnt", "-rn", "-M", mp.toString(), "-t", "fuse.vfsgw", "-o", "SOURCE").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        p.waitFor();
        return out;
    }

    private static void unmount(Path mp) throws Exception {
        assertEquals(0, new ProcessBuilder("umount", mp.toString()).inheritIO().start().waitFor());
    }

    @Test
    void anFstabLineMountsInTheBackgroundAndSaysWhyWhenItCannot() throws Exception {
        Path mem = Files.createDirectory(dir.resolve("mem"));
        Path log = dir.resolve("mem.log");
        // mount(8)'s and the kernel's generic options are skipped; the rest are vfsgw's flags
        Result up = helper("mem", mem.toString(), "-o",
                "rw,nosuid,nodev,_netdev,nofail,mem-size=64M,cache_timeout=2,log=" + log);
        assertEquals(0, up.exit(), up.err());
        try {
            assertEquals("mem", mountedSource(mem), "the fstab source, so that mount -a sees the entry mounted");
            Files.writeString(mem.resolve("f"), "through the helper's mount");
            assertEquals("through the helper's mount", Files.readString(mem.resolve("f")));
            Result again = helper("mem", mem.toString(), "-o", "mem-size=64M,log=" + log);
            assertEquals(32, again.exit());
            assertTrue(again.err().contains("mem is already mounted on " + mem), again.err());
        } finally {
            unmount(mem);
        }
        assertEquals("", mountedSource(mem));
        assertTrue(waitForLine(log, "vfsgw: " + mem + " unmounted"), "the daemon ends with its mount");

        Path src = Files.createDirectory(dir.resolve("src"));
        Files.writeString(src.resolve("host"), "host data");
        Path ro = Files.createDirectory(dir.resolve("ro"));
        Result posix = helper(src.toString(), ro.toString(), "-o", "ro,log=" + dir.resolve("ro.log"));
        assertEquals(0, posix.exit(), posix.err());
        try {
            assertEquals(src.toString(), mountedSource(ro));
            assertEquals("host data", Files.readString(ro.resolve("host")));
            FileSystemException e = assertThrows(FileSystemException.class, () -> Files.writeString(ro.resolve("new"), "x"));
            assertTrue(e.getMessage().contains("Read-only file system") || e instanceof AccessDeniedException, e.toString());
        } finally {
            unmount(ro);
        }
        assertFalse(Files.exists(src.resolve("new")));

        Path bad = Files.createDirectory(dir.resolve("bad"));
        Result unknown = helper("mem", bad.toString(), "-o", "no-such-flag,log=" + dir.resolve("bad.log"));
        assertEquals(32, unknown.exit());
        assertTrue(unknown.err().contains("Unknown option: '--no-such-flag'"), unknown.err());
        assertTrue(unknown.err().contains("vfsgw did not mount mem on " + bad), unknown.err());
        Result source = helper("ftp://x", bad.toString());
        assertEquals(32, source.exit());
        assertTrue(source.err().contains("is not mem, an absolute host directory, or s3://BUCKET[/PREFIX]"), source.err());
        assertEquals("", mountedSource(bad));
    }

    @Test
    void anS3LineTakesItsCredentialsFromTheFileAndProfileItNames() throws Exception {
        S3ProxyFixture server = S3ProxyFixture.shared();
        Path credentials = Files.writeString(dir.resolve("credentials"), "[lab]\naws_access_key_id = "
                + S3ProxyFixture.ACCESS + "\naws_secret_access_key = " + S3ProxyFixture.SECRET + "\n");
        Path mp = Files.createDirectory(dir.resolve("bucket"));
        String source = "s3://" + S3ProxyFixture.BUCKET + "/helper-" + System.nanoTime();
        String options = "_netdev,endpoint=" + server.endpoint() + ",path-style,cache-dir=" + dir.resolve("cache")
                + ",aws_credentials=" + credentials + ",aws_profile=lab,log=" + dir.resolve("s3.log");
        Result up = helper(source, mp.toString(), "-o", options);
        assertEquals(0, up.exit(), up.err());
        try {
            assertEquals(source, mountedSource(mp));
            Files.writeString(mp.resolve("kept"), "in the bucket");
        } finally {
            unmount(mp);
        }
        assertTrue(waitForLine(dir.resolve("s3.log"), "vfsgw: " + mp + " unmounted"));
        // mounted again, the file comes back from S3
        Result again = helper(source, mp.toString(), "-o", options);
        assertEquals(0, again.exit(), again.err());
        try {
            assertEquals("in the bucket", Files.readString(mp.resolve("kept")));
        } finally {
            unmount(mp);
        }
    }

    private static boolean waitForLine(Path log, String line) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (Files.readString(log).contains(line)) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }
}
