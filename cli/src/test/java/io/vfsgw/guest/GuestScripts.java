package io.vfsgw.guest;

import io.vfsgw.testvm.GuestImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The guest workloads of testing/guest/workloads/: the shell scripts, and the static {@code fsops}
 * helper compiled once per JVM with the host's gcc and handed to the guest through fw_cfg.
 */
public final class GuestScripts {
    /** The fw_cfg name the workloads copy fsops from (/sys/firmware/qemu_fw_cfg/by_name/...). */
    static final String FSOPS_FW_CFG = "opt/vfsgw/fsops";
    /** The guest script line that copies fsops from fw_cfg to $F (/tmp/fsops). */
    public static final String LOAD_FSOPS =
            "F=/tmp/fsops; cp /sys/firmware/qemu_fw_cfg/by_name/" + FSOPS_FW_CFG + "/raw $F && chmod +x $F || exit 1";

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
    public static String[] fsopsQemuArgs() throws IOException, InterruptedException {
        return new String[] {"-fw_cfg", "name=" + FSOPS_FW_CFG + ",file=" + fsops()};
    }

    /**
     * Checks the file an {@code fsops fsx} run left against the size and FNV-1a hash it printed
     * ("fsx ok: ... size S fnv1a64 H"): what the server stored is what the guest's model holds.
     */
    public static void assertFsxResult(String fsxDetail, byte[] stored) {
        Matcher m = Pattern.compile("fsx ok: .*size (\\d+) fnv1a64 ([0-9a-f]{16})").matcher(fsxDetail);
        if (!m.find()) {
            throw new AssertionError("not an fsx summary: " + fsxDetail);
        }
        long h = 0xcbf29ce484222325L;
        for (byte b : stored) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        String hash = String.format("%016x", h);
        if (stored.length != Long.parseLong(m.group(1)) || !hash.equals(m.group(2))) {
            throw new AssertionError("the server holds " + stored.length + " bytes hashing to " + hash
                    + "; the guest's model: " + fsxDetail);
        }
    }

    /** Compiles fsops.c statically (the guest has no libc) into target/, once per JVM; host tests run it too. */
    public static synchronized Path fsops() throws IOException, InterruptedException {
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
