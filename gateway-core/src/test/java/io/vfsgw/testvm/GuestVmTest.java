package io.vfsgw.testvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console protocol parser and the QEMU command line, without booting anything. */
class GuestVmTest {

    @Test
    void parsesResultLines() {
        assertEquals(Optional.of(new GuestReport.Result("read", true, "hello world")),
                GuestVm.parseResult("VFSGW-RESULT read ok hello world"));
        assertEquals(Optional.of(new GuestReport.Result("write", false, "rc=1 EIO")),
                GuestVm.parseResult("VFSGW-RESULT write fail rc=1 EIO  "));
        assertEquals(Optional.of(new GuestReport.Result("empty", true, "")),
                GuestVm.parseResult("VFSGW-RESULT empty ok"));
        assertEquals(Optional.empty(), GuestVm.parseResult("VFSGW-RESULT bad maybe x"));
        assertEquals(Optional.empty(), GuestVm.parseResult("[    1.23] virtio-fs: tag <vfsgw> not found"));
    }

    @Test
    void parsesDoneLine() {
        assertEquals(OptionalInt.of(0), GuestVm.parseDone("VFSGW-DONE rc=0"));
        assertEquals(OptionalInt.of(121), GuestVm.parseDone("VFSGW-DONE rc=121"));
        assertEquals(OptionalInt.empty(), GuestVm.parseDone("VFSGW-READY uptime=3.1"));
    }

    @Test
    void reportIsOkOnlyWithZeroExitAndNoFailure() {
        GuestReport.Result ok = new GuestReport.Result("a", true, "x");
        GuestReport.Result bad = new GuestReport.Result("b", false, "y");
        assertTrue(report(List.of(ok), OptionalInt.of(0)).ok());
        assertFalse(report(List.of(ok, bad), OptionalInt.of(0)).ok());
        assertFalse(report(List.of(ok), OptionalInt.of(2)).ok());
        assertFalse(report(List.of(ok), OptionalInt.empty()).ok());
        AssertionError e = assertThrows(AssertionError.class, () -> report(List.of(bad), OptionalInt.of(0)).assertOk());
        assertTrue(e.getMessage().contains("console line"), e.getMessage());
        assertEquals("x", report(List.of(ok), OptionalInt.of(0)).detail("a"));
        assertThrows(AssertionError.class, () -> report(List.of(bad), OptionalInt.of(0)).detail("b"));
    }

    @Test
    void commandLineCarriesSharesAndScript() {
        GuestImage image = new GuestImage(Path.of("/k/vmlinux"), Path.of("/k/initrd.img"),
                Path.of("/k/initrd-fio.img"), "6.1.0-test");
        GuestVm vm = GuestVm.builder().socket(Path.of("/tmp/a.sock")).tag("main").mountOptions("dax")
                .virtioFs(Path.of("/tmp/b.sock"), "second", "/mnt2")
                .ninep(Path.of("/srv/nine"), "nine", "/p9")
                .memoryMiB(512).cpus(1).withFio().build();
        List<String> cmd = vm.qemuCommand(image, Path.of("/tmp/s.sh"));
        String joined = String.join(" ", cmd);
        assertTrue(joined.contains("-accel tcg"), joined);
        assertTrue(joined.contains("memory-backend-memfd,id=mem,size=512M,share=on"), joined);
        assertTrue(joined.contains("-initrd /k/initrd-fio.img"), joined);
        assertTrue(joined.contains("-chardev socket,id=vfs0,path=/tmp/a.sock -device vhost-user-fs-pci,chardev=vfs0,tag=main,queue-size=1024"), joined);
        assertTrue(joined.contains("-chardev socket,id=vfs1,path=/tmp/b.sock -device vhost-user-fs-pci,chardev=vfs1,tag=second,queue-size=1024"), joined);
        assertTrue(joined.contains("-fsdev local,id=p92,path=/srv/nine,security_model=passthrough"), joined);
        assertTrue(joined.contains("-fw_cfg name=opt/vfsgw/script,file=/tmp/s.sh"), joined);
        String append = cmd.get(cmd.indexOf("-append") + 1);
        assertEquals("console=ttyS0 quiet panic=-1 vfsgw.mode=script vfsgw.tag=main vfsgw.opts=dax"
                + " vfsgw.mount=virtiofs:second:/mnt2 vfsgw.mount=9p:nine:/p9", append);
    }

    @Test
    void numaNodesEachGetTheirOwnMemfdAndTheirShareOfTheVcpus() {
        GuestImage image = new GuestImage(Path.of("/k/vmlinux"), Path.of("/k/initrd.img"),
                Path.of("/k/initrd-fio.img"), "6.1.0-test");
        List<String> cmd = GuestVm.builder().machine("q35").memoryMiB(6144).cpus(3).numaNodes(2).build()
                .qemuCommand(image, Path.of("/tmp/s.sh"));
        String joined = String.join(" ", cmd);
        assertTrue(joined.contains("-machine q35"), joined);
        assertTrue(joined.contains("-object memory-backend-memfd,id=mem0,size=3072M,share=on"
                + " -numa node,nodeid=0,memdev=mem0,cpus=0,cpus=2"), joined);
        assertTrue(joined.contains("-object memory-backend-memfd,id=mem1,size=3072M,share=on"
                + " -numa node,nodeid=1,memdev=mem1,cpus=1"), joined);
        assertFalse(joined.contains("id=mem,"), joined);
        assertThrows(IllegalArgumentException.class, () -> GuestVm.builder().memoryMiB(1000).numaNodes(3).build());
    }

    @Test
    void rejectsValuesThatWouldBreakTheKernelCommandLine() {
        assertThrows(IllegalArgumentException.class, () -> GuestVm.builder().tag("two words"));
        assertThrows(IllegalArgumentException.class, () -> GuestVm.builder().ninep(Path.of("/x"), "t", "/a:b"));
        assertThrows(IllegalArgumentException.class, () -> GuestVm.builder().memoryMiB(16));
    }

    @Test
    void readsTheEnvFileWrittenByBuildGuest(@TempDir Path dir) throws IOException {
        Path env = dir.resolve("guest.env");
        Files.writeString(env, "KERNEL=/c/vmlinux\nINITRD=/c/initrd.img\nINITRD_FIO=/c/initrd-fio.img\n"
                + "KERNEL_RELEASE=6.1.0-56-amd64\n");
        assertEquals(new GuestImage(Path.of("/c/vmlinux"), Path.of("/c/initrd.img"), Path.of("/c/initrd-fio.img"),
                "6.1.0-56-amd64"), GuestImage.fromEnvFile(env));
        Files.writeString(env, "KERNEL=/c/vmlinux\n");
        assertThrows(IOException.class, () -> GuestImage.fromEnvFile(env));
    }

    private static GuestReport report(List<GuestReport.Result> results, OptionalInt rc) {
        return new GuestReport(results, rc, 0, List.of("console line"), Path.of("x.log"), Optional.empty(),
                Duration.ofSeconds(1));
    }
}
