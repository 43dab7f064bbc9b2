package io.vfsgw.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.testvm.GuestReport;
import io.vfsgw.testvm.GuestVm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One vfsgw keeps serving across guest reboots: a guest writes a file and powers off, a second guest
 * boots against the same running server, gets a fresh session, reads the file back and writes another.
 */
class GuestRebootIT {

    @TempDir
    Path dir;

    @Test
    void secondGuestOnTheSameDaemonSeesTheFirstGuestsFiles() throws Exception {
        try (MemGateway gw = MemGateway.start(dir)) {
            Path socket = gw.serve("vfsgw");
            GuestReport first = GuestVm.builder().name("reboot-1").socket(socket).script("""
                    mkdir -p /mnt/reboot
                    seq 1 50000 > /mnt/reboot/first
                    result first-sum ok "$(sha256sum < /mnt/reboot/first | cut -d' ' -f1)"
                    """).timeout(Duration.ofSeconds(90)).build().run().assertOk();
            String sum = first.detail("first-sum");
            assertEquals(sum, gw.sha256("reboot/first"));
            List<MemGateway.TrackedSession> afterFirst = gw.sessions();
            assertEquals(1, afterFirst.size(), "sessions after the first boot");
            assertTrue(afterFirst.get(0).awaitClosed(Duration.ofSeconds(20)),
                    "the first guest's session was not closed after it powered off");

            GuestReport second = GuestVm.builder().name("reboot-2").socket(socket).script("""
                    expect first-sum-again %s sh -c "sha256sum < /mnt/reboot/first | cut -d' ' -f1"
                    expect first-lines 50000 sh -c 'wc -l < /mnt/reboot/first'
                    check write-second sh -c 'echo written after the reboot > /mnt/reboot/second'
                    """.formatted(sum)).timeout(Duration.ofSeconds(90)).build().run().assertOk();
            System.out.printf("GuestRebootIT: boots %s and %s, totals %s and %s%n",
                    first.bootTime().orElse(null), second.bootTime().orElse(null), first.totalTime(), second.totalTime());
            second.detail("first-sum-again");
            assertArrayEquals("written after the reboot\n".getBytes(StandardCharsets.UTF_8), gw.read("reboot/second"));
            List<MemGateway.TrackedSession> sessions = gw.sessions();
            assertEquals(2, sessions.size(), "each connection gets its own session");
            assertNotSame(sessions.get(0).session(), sessions.get(1).session());
        }
    }
}
