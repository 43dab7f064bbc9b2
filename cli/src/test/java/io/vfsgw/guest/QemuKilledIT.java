package io.vfsgw.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.testvm.GuestImage;
import io.vfsgw.testvm.GuestReport;
import io.vfsgw.testvm.GuestVm;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU dies (SIGKILL) while its guest streams writes into vfsgw, with requests in flight: the daemon
 * must release that connection's session and serve the next guest on the same socket.
 */
class QemuKilledIT {

    @TempDir
    Path dir;

    @Test
    void daemonSurvivesAKilledVmAndServesTheNextOne() throws Exception {
        try (MemGateway gw = MemGateway.start(dir)) {
            Path socket = gw.serve("vfsgw");
            // GuestVm.run() waits for the script's end; this guest never ends, so start its QEMU here.
            Path script = dir.resolve("killed.sh");
            Files.writeString(script, "mkdir -p /mnt/k\n"
                    + "while :; do dd if=/dev/zero of=/mnt/k/stream bs=256k count=64 conv=notrunc 2>/dev/null; done\n");
            List<String> cmd = GuestVm.builder().socket(socket).build().qemuCommand(GuestImage.get(), script);
            Path log = Path.of("target", "guest-vm", "killed.console.log");
            Files.createDirectories(log.getParent());
            Process qemu = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            try {
                // Data arriving in the backend means the guest is mid-stream with WRITEs in flight.
                MemGateway.await("the guest's writes reaching the backend (console " + log + ")",
                        Duration.ofSeconds(90), () -> qemu.isAlive() && sizeOf(gw, "k/stream") >= (1 << 20));
            } finally {
                qemu.destroyForcibly();      // SIGKILL: no power-off, no unmount, no vhost-user goodbye
            }
            assertTrue(qemu.waitFor(20, TimeUnit.SECONDS), "QEMU did not die after SIGKILL");
            assertEquals(137, qemu.exitValue(), "QEMU's exit status after SIGKILL");
            MemGateway.TrackedSession dead = gw.sessions().get(0);
            assertTrue(dead.awaitClosed(Duration.ofSeconds(20)), "the killed guest's session was never released");
            long sizeAtKill = sizeOf(gw, "k/stream");

            GuestReport next = GuestVm.builder().name("after-kill").socket(socket).script("""
                    check stream-visible sh -c 'test -s /mnt/k/stream && stat -c %s /mnt/k/stream'
                    check write-after sh -c 'echo alive > /mnt/k/after && cat /mnt/k/after'
                    check read-stream sh -c 'dd if=/mnt/k/stream of=/dev/null bs=1M 2>&1 | tail -1'
                    """).timeout(Duration.ofSeconds(90)).build().run().assertOk();
            System.out.printf("QemuKilledIT: killed at %d bytes; next boot %s, total %s%n", sizeAtKill,
                    next.bootTime().orElse(null), next.totalTime());
            assertEquals(Long.toString(sizeAtKill), next.detail("stream-visible"));
            assertArrayEquals("alive\n".getBytes(StandardCharsets.UTF_8), gw.read("k/after"));
            assertEquals(2, gw.sessions().size());
        }
    }

    private static long sizeOf(MemGateway gw, String path) {
        try {
            return gw.stat(path).map(a -> a.size()).orElse(0L);
        } catch (Exception e) {
            throw new AssertionError("stat " + path + " in the backend failed", e);
        }
    }
}
