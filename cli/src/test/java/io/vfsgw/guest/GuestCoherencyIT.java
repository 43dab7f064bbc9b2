package io.vfsgw.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfsgw.testvm.GuestReport;
import io.vfsgw.testvm.GuestVm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One {@code vfsgw serve} with two sockets (two devices, two sessions) over one mem backend and one
 * metadata cache; a guest mounts both, and what it changes through one mount must show through the
 * other within the 1 s cache timeout (testing/guest/workloads/coherency.sh). Two mounts in one guest
 * have separate kernel caches, so this is the multi-guest case at the cost of a single boot.
 */
class GuestCoherencyIT {

    @TempDir
    Path dir;

    @Test
    void changesThroughOneDeviceShowThroughTheOther() throws Exception {
        Path a = dir.resolve("a.sock");
        Path b = dir.resolve("b.sock");
        ServeInThread serve = ServeInThread.start("vfsgw-coherency-serve", List.of(a, b),
                "--socket-path", a.toString(), "--tag", "a", "--socket-path", b.toString(), "--tag", "b",
                "--exit-on-disconnect", "--log-level", "warn");
        GuestReport r = GuestVm.builder().name("coherency").socket(a).tag("a").virtioFs(b, "b", "/mnt2")
                .qemuArgs(GuestScripts.fsopsQemuArgs())
                .script(GuestScripts.LOAD_FSOPS + "\n" + GuestScripts.workload("coherency.sh"))
                .timeout(Duration.ofSeconds(120)).build().run();
        System.out.printf("GuestCoherencyIT: boot %s, total %s; %s%n", r.bootTime().orElse(null), r.totalTime(),
                r.results());
        r.assertOk();
        for (String name : new String[] {"b-reads-new-file", "b-sees-created-file", "b-sees-new-content",
                "b-lists-new-dir", "b-sees-removal", "a-sees-b-file", "locks-across-devices", "umount:/mnt",
                "umount:/mnt2"}) {
            r.detail(name);
        }
        // Both sockets saw their VM go: with --exit-on-disconnect, serve stops only after the last.
        assertEquals(0, serve.exitCode(Duration.ofSeconds(30)), "vfsgw serve after the guest powered off");
    }
}
