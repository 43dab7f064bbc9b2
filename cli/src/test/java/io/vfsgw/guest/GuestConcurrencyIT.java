package io.vfsgw.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.testvm.GuestReport;
import io.vfsgw.testvm.GuestVm;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Four guest processes write and read at once over one virtio-fs mount (own files and regions of one
 * shared file, O_DIRECT reads, sha256 checked in the guest: testing/guest/workloads/concurrency.sh);
 * the final checksums the guest prints must match the mem backend's content, recomputed here.
 * Meanwhile the guest keeps moving its virtio interrupts between vCPUs, so QEMU keeps repointing
 * the call fds; the umount at the end (checked by assertOk) needs every completion delivered.
 * The device has four request queues (serve --queues 4, QEMU's num-request-queues=4), all set up
 * by QEMU; the guest must see four (its 6.1 kernel sends on the first only).
 * The VM is laid out as libvirt lays out a large one: a q35 machine with 5 GiB in two NUMA nodes,
 * each node its own memfd, so the daemon maps regions from two fds and RAM above 4 GiB (q35 keeps
 * 2 GiB below the PCI hole and puts the rest above 4 GiB, where the guest allocates first).
 */
class GuestConcurrencyIT {

    @TempDir
    Path dir;

    @Test
    void concurrentWritersAndReadersAgreeWithTheBackend() throws Exception {
        try (MemGateway gw = MemGateway.start(dir)) {
            Path socket = gw.serve("vfsgw", 4);
            GuestReport r = GuestVm.builder().name("concurrency").socket(socket).requestQueues(4)
                    .machine("q35").memoryMiB(5120).numaNodes(2)
                    .script(GuestScripts.workload("concurrency.sh")
                            + "\nresult request-queues ok $(grep -c 'virtio[0-9]*-requests' /proc/interrupts)"
                            + "\nresult numa-nodes ok $(ls -d /sys/devices/system/node/node[0-9]* | wc -l)"
                            + "\nresult mem-total-kib ok $(awk '/^MemTotal/ {print $2}' /proc/meminfo)")
                    .timeout(Duration.ofSeconds(150)).build().run();
            System.out.printf("GuestConcurrencyIT: boot %s, total %s%n",
                    r.bootTime().map(Duration::toString).orElse("?"), r.totalTime());
            r.assertOk();
            System.out.println("GuestConcurrencyIT: virtio interrupts moved between vCPUs " + r.detail("irq-moves") + " times");
            for (int i = 0; i < 4; i++) {
                r.detail("worker-" + i);
                r.detail("own" + i + "-final");
                r.detail("region" + i + "-final");
                assertEquals(r.detail("sum-own" + i), gw.sha256("c/own" + i), "backend content of c/own" + i);
            }
            assertEquals(r.detail("sum-shared"), gw.sha256("c/shared"), "backend content of c/shared");
            assertEquals(4L << 20, gw.stat("c/shared").orElseThrow().size());
            assertEquals("4", r.detail("request-queues"), "request queues the guest's virtio-fs driver set up");
            assertEquals("2", r.detail("numa-nodes"), "NUMA nodes the guest booted with");
            assertTrue(Long.parseLong(r.detail("mem-total-kib")) > 4L << 20,
                    "guest RAM reaches above 4 GiB: " + r.detail("mem-total-kib") + " KiB");
        }
    }
}
