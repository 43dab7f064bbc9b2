package io.vfsgw.testvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.OptionalInt;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves the guest fixture against the reference daemon (QEMU 7.2's virtiofsd) and QEMU's 9p:
 * real kernel, real mounts, data checked on both sides.
 */
class GuestVmIT {

    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void guestReadsAndWritesThroughVirtiofsd() throws Exception {
        Path share = Files.createDirectories(tmp.resolve("share"));
        String hostSha = writeRandom(share.resolve("host.bin"), 1 << 20, 42);
        try (Virtiofsd daemon = Virtiofsd.start(tmp.resolve("vfsd.sock"), share, "auto")) {
            GuestReport r = GuestVm.builder().socket(daemon.socket()).tag("vfsgw").name("virtiofsd-roundtrip")
                    .timeout(Duration.ofSeconds(120))
                    .script("""
                            check uname uname -r
                            check mount grep ' /mnt ' /proc/mounts
                            check sha sh -c 'sha256sum /mnt/host.bin | cut -d" " -f1'
                            check write sh -c 'printf "written by the guest\\n" > /mnt/guest.txt'
                            expect readback 'written by the guest' cat /mnt/guest.txt
                            """)
                    .build().run();
            r.assertOk();
            assertEquals(GuestImage.get().kernelRelease(), r.detail("uname"));
            assertTrue(r.detail("mount").startsWith("vfsgw /mnt virtiofs "), r.detail("mount"));
            assertEquals(hostSha, r.detail("sha"));
            assertEquals("written by the guest\n", Files.readString(share.resolve("guest.txt")));
            assertEquals(0, r.qemuExit(), r.describe());
            assertTrue(r.bootTime().isPresent(), r.describe());
            System.out.printf("[GuestVmIT] virtiofsd: boot to mounted share %d ms, whole run %d ms%n",
                    r.bootTime().get().toMillis(), r.totalTime().toMillis());
        }
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void twoVirtioFsSocketsNinepAndFioInOneGuest() throws Exception {
        Path a = Files.createDirectories(tmp.resolve("a"));
        Path b = Files.createDirectories(tmp.resolve("b"));
        Path nine = Files.createDirectories(tmp.resolve("nine"));
        Files.writeString(a.resolve("which.txt"), "share a\n");
        Files.writeString(b.resolve("which.txt"), "share b\n");
        String nineSha = writeRandom(nine.resolve("data.bin"), 300_000, 7);
        try (Virtiofsd da = Virtiofsd.start(tmp.resolve("a.sock"), a, "auto");
             Virtiofsd db = Virtiofsd.start(tmp.resolve("b.sock"), b, "none")) {
            GuestReport r = GuestVm.builder().socket(da.socket()).tag("share-a")
                    .virtioFs(db.socket(), "share-b", "/mnt2")
                    .ninep(nine, "nine", "/p9")
                    .withFio()
                    .name("two-virtiofs-9p-fio").timeout(Duration.ofSeconds(150))
                    .script("""
                            expect a 'share a' cat /mnt/which.txt
                            expect b 'share b' cat /mnt2/which.txt
                            check ninemount grep ' /p9 ' /proc/mounts
                            check ninesha sh -c 'sha256sum /p9/data.bin | cut -d" " -f1'
                            check ninewrite sh -c 'echo from-guest-9p > /p9/back.txt'
                            check fio fio --name=smoke --directory=/mnt2 --size=2M --bs=64k --rw=write \
                                --ioengine=psync --minimal
                            """)
                    .build().run();
            r.assertOk();
            assertTrue(r.detail("ninemount").startsWith("nine /p9 9p "), r.detail("ninemount"));
            assertTrue(r.detail("ninemount").contains("trans=virtio"), r.detail("ninemount"));
            assertEquals(nineSha, r.detail("ninesha"));
            assertEquals("from-guest-9p\n", Files.readString(nine.resolve("back.txt")));
            // fio's terse format: version 3, then the fio version and the job name.
            assertTrue(r.detail("fio").startsWith("3;fio-"), r.detail("fio"));
            assertEquals(2 << 20, Files.size(b.resolve("smoke.0.0")));
        }
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void failuresAndExitStatusReachTheReport() throws IOException {
        GuestImage.get();   // the one-time build may open files of its own; count after it
        long fdsBefore = openFds();
        // No share at all: the fixture must also boot a bare guest.
        GuestReport r = GuestVm.builder().name("failing-script").timeout(Duration.ofSeconds(90))
                .script("""
                        result fine ok all good
                        check missing cat /no/such/file
                        exit 3
                        """)
                .build().run();
        assertFalse(r.ok());
        assertEquals(OptionalInt.of(3), r.scriptExit());
        assertEquals("all good", r.detail("fine"));
        GuestReport.Result missing = r.result("missing").orElseThrow();
        assertFalse(missing.ok());
        assertTrue(missing.detail().contains("No such file"), missing.detail());
        assertThrows(AssertionError.class, r::assertOk);
        assertEquals(fdsBefore, openFds(), "file descriptors leaked by GuestVm.run()");
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aHungGuestIsKilledAtTheDeadlineWithItsConsoleTail() {
        long start = System.nanoTime();
        GuestVmException e = assertThrows(GuestVmException.class, () -> GuestVm.builder().name("hung-script")
                .timeout(Duration.ofSeconds(30))
                .script("result started ok\nsleep 600")
                .build().run());
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        assertTrue(seconds < 45, "took " + seconds + " s");
        assertTrue(e.getMessage().contains("timed out"), e.getMessage());
        assertTrue(e.getMessage().contains("VFSGW-RESULT started ok"), e.getMessage());
    }

    private static long openFds() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    @Timeout(value = 1, unit = TimeUnit.MINUTES)
    void aSocketNobodyServesGivesAReportWithQemusError() {
        GuestReport r = GuestVm.builder().socket(tmp.resolve("nobody.sock")).name("no-daemon")
                .timeout(Duration.ofSeconds(45)).build().run();
        assertFalse(r.ok());
        assertTrue(r.scriptExit().isEmpty(), r.describe());
        assertTrue(r.qemuExit() != 0, r.describe());
        assertTrue(String.join("\n", r.console()).contains("nobody.sock"), r.describe());
    }

    /** Writes {@code size} seeded random bytes and returns their SHA-256 in hex, as sha256sum prints it. */
    private static String writeRandom(Path file, int size, long seed) throws IOException, NoSuchAlgorithmException {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        Files.write(file, data);
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

}
