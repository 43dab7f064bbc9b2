package io.vfsgw.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.guest.GuestScripts;
import io.vfsgw.guest.ServeInThread;
import io.vfsgw.testvm.GuestReport;
import io.vfsgw.testvm.GuestVm;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A QEMU guest mounts {@code vfsgw serve --backend posix} (virtio-fs over vhost-user), runs a short
 * workload as guest root, and the test checks the result on the host: contents, modes, owners,
 * links, special files, and that a file the host prepared read correctly in the guest.
 */
class PosixGuestIT {
    private static final String SCRIPT = String.join("\n",
            "cd /mnt || exit 1",
            "expect host-file 'made on the host' cat hostfile",
            "check write sh -c 'echo hello-from-guest > greeting'",
            "check chmod chmod 0640 greeting",
            "check chown chown 1234:5678 greeting",
            "check mkdir mkdir -p dir/sub",
            "check chmod-dir chmod 0700 dir",
            "check symlink ln -s greeting ln",
            "check hardlink ln greeting hard",
            "check fifo mkfifo fifo",
            "check big dd if=/dev/zero of=big bs=4096 count=256",
            "check rm rm doomed",
            "check mv mv dir/sub dir/moved",
            "expect read-back hello-from-guest cat greeting",
            "expect stat-owner '1234:5678 640' stat -c '%u:%g %a' greeting",
            "check sync sync",
            GuestScripts.LOAD_FSOPS,
            "check fsx $F fsx fsx.dat 3000 11");

    @Test
    void aGuestWorkloadLandsOnTheHostAsTheGuestMadeIt() throws Exception {
        Path source = Sh.diskDir("guest-src");
        Path socket = Files.createTempDirectory("vfsgw-posix-guest").resolve("vfsgw.sock");
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(source.resolve("hostfile"), "made on the host");
        Files.writeString(source.resolve("doomed"), "x");
        ServeInThread serve = ServeInThread.start("vfsgw-posix-serve", List.of(socket), "--socket-path",
                socket.toString(), "--exit-on-disconnect", "--backend", "posix", "--source", source.toString(),
                "--log-level", "warn");
        try {
            GuestReport r = GuestVm.builder().name("posix-guest").socket(socket).tag("vfsgw").script(SCRIPT)
                    .qemuArgs(GuestScripts.fsopsQemuArgs())
                    .timeout(Duration.ofSeconds(150)).build().run();
            r.assertOk();
            GuestScripts.assertFsxResult(r.detail("fsx"), Files.readAllBytes(source.resolve("fsx.dat")));
            assertEquals(0, serve.exitCode(Duration.ofSeconds(30)), "vfsgw serve after the guest powered off");

            Path g = source.resolve("greeting");
            assertEquals("hello-from-guest\n", Files.readString(g));
            assertEquals(0100640, attr(g, "mode"));
            assertEquals(1234, attr(g, "uid"));
            assertEquals(5678, attr(g, "gid"));
            assertEquals(2, attr(g, "nlink"));
            assertEquals(attr(g, "ino"), attr(source.resolve("hard"), "ino"));
            assertEquals(Path.of("greeting"), Files.readSymbolicLink(source.resolve("ln")));
            assertEquals(0, attr(source.resolve("ln"), "uid")); // made by guest root: host root
            assertEquals(0010000, (Integer) attr(source.resolve("fifo"), "mode") & 0170000);
            assertEquals(1L << 20, Files.size(source.resolve("big")));
            assertEquals(0040700, attr(source.resolve("dir"), "mode"));
            assertTrue(Files.isDirectory(source.resolve("dir/moved")));
            assertFalse(Files.exists(source.resolve("dir/sub")));
            assertFalse(Files.exists(source.resolve("doomed")));
            assertEquals("made on the host", Files.readString(source.resolve("hostfile")));
        } finally {
            if (!serve.exited()) {
                System.err.println("PosixGuestIT: vfsgw serve still running; it stops with the test JVM");
            }
            Files.deleteIfExists(socket);
            Files.deleteIfExists(socket.getParent());
            Sh.deleteTree(source);
        }
    }

    private static Object attr(Path p, String name) throws Exception {
        return Files.getAttribute(p, "unix:" + name, LinkOption.NOFOLLOW_LINKS);
    }
}
