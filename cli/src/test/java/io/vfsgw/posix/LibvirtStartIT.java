package io.vfsgw.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.testvm.GuestReport;
import io.vfsgw.testvm.GuestVm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * vfsgw started the way libvirt starts a virtio-fs daemon named in a domain's {@code <binary>}: the
 * parent binds and listens on the socket, makes it non-blocking, and executes the binary (here the
 * {@code ./vfsgw} launcher) with nothing but the fd and virtiofsd's options, once in the C daemon's
 * {@code -o} form and once in the Rust daemon's separate options. A guest mounts both shares; at
 * the end the "libvirt" side stops each daemon with SIGTERM, as libvirt does.
 */
class LibvirtStartIT {
    private static final Path LAUNCHER = Path.of("..", "vfsgw").toAbsolutePath().normalize();

    /**
     * libvirt's part: bind, listen, non-blocking, then exec with the fd's number in the arguments.
     * The fd is moved to 9 on purpose: a launcher that used fixed descriptor 9 for itself (ours did,
     * for its build lock) would have clobbered it.
     */
    private static final String LIBVIRT = String.join("\n",
            "import os, socket, sys",
            "path, cmd = sys.argv[1], sys.argv[2:]",
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
            "s.bind(path)",
            "s.listen(1)",
            "s.setblocking(False)",
            "os.dup2(s.fileno(), 9)",
            "os.set_inheritable(9, True)",
            "os.execvp(cmd[0], [a.replace('{fd}', '9') for a in cmd])");

    private static final String SCRIPT = String.join("\n",
            "expect a-host-file 'from the host a' cat /mnt/hostfile",
            "check a-write sh -c 'echo written-in-the-guest > /mnt/guestfile'",
            "check a-chown chown 1234:5678 /mnt/guestfile",
            "expect b-host-file 'from the host b' cat /mnt2/hostfile",
            "expect b-readonly 'Read-only file system' sh -c '(echo x > /mnt2/new) 2>&1 | grep -o \"Read-only file system\"'",
            "check sync sync");

    @TempDir
    Path dir;

    @Test
    void aGuestUsesSharesServedByVfsgwStartedAsLibvirtStartsVirtiofsd() throws Exception {
        assertTrue(Files.isExecutable(LAUNCHER), LAUNCHER + " missing");
        Path a = Sh.diskDir("libvirt-a");
        Path b = Sh.diskDir("libvirt-b");
        for (Path p : List.of(a, b)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.writeString(a.resolve("hostfile"), "from the host a");
        Files.writeString(b.resolve("hostfile"), "from the host b");
        Path sockA = dir.resolve("a.sock");
        Path sockB = dir.resolve("b.sock");
        // libvirt's two ways: the C virtiofsd's -o list, and separate options when the binary's
        // --print-capabilities says "separate-options" (ours does).
        Process daemonA = libvirtStarts(sockA, dir.resolve("a.log"), "--fd={fd}", "-o",
                "source=" + a + ",cache=auto,xattr,flock,posix_lock", "--thread-pool-size=2");
        Process daemonB = libvirtStarts(sockB, dir.resolve("b.log"), "--fd={fd}", "--shared-dir", b.toString(),
                "--cache", "always", "--sandbox", "chroot", "--xattr", "--readonly");
        try {
            GuestReport r = GuestVm.builder().name("libvirt-start").socket(sockA).tag("vfsgw")
                    .virtioFs(sockB, "b", "/mnt2").script(SCRIPT)
                    .timeout(Duration.ofSeconds(120)).build().run();
            r.assertOk();
            Path g = a.resolve("guestfile");
            assertEquals("written-in-the-guest\n", Files.readString(g));
            assertEquals(1234, Files.getAttribute(g, "unix:uid"));
            assertFalse(Files.exists(b.resolve("new")), "--readonly kept the guest out of b");
        } finally {
            for (Process p : List.of(daemonA, daemonB)) {
                p.destroy(); // SIGTERM, as libvirt stops it
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), "vfsgw did not stop on SIGTERM");
            }
        }
        String logA = Files.readString(dir.resolve("a.log"), StandardCharsets.UTF_8);
        String logB = Files.readString(dir.resolve("b.log"), StandardCharsets.UTF_8);
        assertTrue(logA.contains("listening on fd 9 (" + sockA + ")"), logA);
        assertTrue(logA.contains("serving posix " + a), logA);
        assertTrue(logB.contains("sandbox=chroot: vfsgw does not sandbox its process"), logB);
        for (String log : List.of(logA, logB)) {
            assertFalse(log.contains("ERROR") || log.contains("Exception"), log);
        }
        // The socket files are libvirt's: it removes them after stopping the daemon.
        assertTrue(Files.exists(sockA, LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.exists(sockB, LinkOption.NOFOLLOW_LINKS));
    }

    /** Runs {@code ./vfsgw ARGS} as libvirt would, its output in {@code log}; returns once the socket exists. */
    private static Process libvirtStarts(Path socket, Path log, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Sh.PYTHON, "-c", LIBVIRT, socket.toString(), LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            assertTrue(p.isAlive(), "the libvirt stand-in exited: " + Files.readString(log));
            assertTrue(System.nanoTime() < deadline, "no socket after 30 s");
            Thread.sleep(20);
        }
        return p;
    }
}
