package io.vfsgw.guest;

import io.vfsgw.testvm.GuestImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The guest workloads of testing/guest/workloads/: the shell scripts, and the static {@code fsops}
 * helper compiled once per JVM with the host's gcc and handed to the guest through fw_cfg.
 */
final class GuestScripts {
    /** The fw_cfg name the workloads copy fsops from (/sys/firmware/qemu_fw_cfg/by_name/...). */
    static final String FSOPS_FW_CFG = "opt/vfsgw/fsops";

    private static Path fsops;

    private GuestScripts() {
    }

    static Path workloadsDir() {
        return GuestImage.scriptsDir().resolve("workloads");
    }

    /** The text of workload {@code name} (e.g. fs-workload.sh). */
    static String workload(String name) throws IOException {
        return Files.readString(workloadsDir().resolve(name), StandardCharsets.UTF_8);
    }

    /** QEMU arguments that hand fsops to the guest. */
    static String[] fsopsQemuArgs() throws IOException, InterruptedException {
        return new String[] {"-fw_cfg", "name=" + FSOPS_FW_CFG + ",file=" + fsops()};
    }

    /** Compiles fsops.c statically (the guest has no libc) into target/, once per JVM. */
    static synchronized Path fsops() throws IOException, InterruptedException {
        if (fsops != null) {
            return fsops;
        }
        Path src = workloadsDir().resolve("fsops.c");
        Path out = Path.of("target", "guest-tools", "fsops").toAbsolutePath();
        Files.createDirectories(out.getParent());
        Path log = out.resolveSibling("fsops.gcc.log");
        Process gcc = new ProcessBuilder(List.of("gcc", "-static", "-O2", "-Wall", "-o", out.toString(), src.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!gcc.waitFor(2, TimeUnit.MINUTES)) {
            gcc.destroyForcibly();
            throw new IllegalStateException("gcc did not finish compiling " + src + " in 2 minutes");
        }
        if (gcc.exitValue() != 0) {
            throw new IllegalStateException("gcc -static failed for " + src + " (needs gcc and libc6-dev):\n"
                    + Files.readString(log));
        }
        fsops = out;
        return out;
    }
}
