package io.vfsgw.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Differential POSIX conformance: testing/conformance/posix-checks.sh prints what the kernel
 * answers to a battery of calls; kernel tmpfs is the reference and the vfsgw mem mount must print
 * exactly the same lines, as root and as uid 65534. Checks where a FUSE file system legitimately
 * differs are left out by the script itself (see docs/conformance.md).
 */
class PosixConformanceIT {
    private static Path tmpfs;
    private static MountedGateway gw;

    @BeforeAll
    static void mountBoth() throws IOException {
        tmpfs = Files.createTempDirectory("vfsgw-tmpfs-ref-");
        Shell.run("mount", "-t", "tmpfs", "-o", "mode=1777,size=512M", "tmpfs", tmpfs.toString()).ok();
        gw = MountedGateway.inProcess("--mem-size", "1G");
    }

    @AfterAll
    static void unmountBoth() {
        try {
            if (gw != null) {
                gw.close();
            }
        } finally {
            if (tmpfs != null) {
                Shell.run("umount", tmpfs.toString());
                tmpfs.toFile().delete();
            }
        }
    }

    @Test
    void asRootVfsgwAnswersLikeTmpfs() throws IOException {
        compare("root", List.of());
    }

    @Test
    void asNobodyVfsgwAnswersLikeTmpfs() throws IOException {
        compare("nobody", Shell.AS_NOBODY);
    }

    private static void compare(String who, List<String> prefix) throws IOException {
        String reference = runChecks(tmpfs, who, prefix);
        String tested = runChecks(gw.dir(), who, prefix);
        Path target = Path.of("target");
        Path a = Files.writeString(target.resolve("conformance-tmpfs-" + who + ".txt"), reference);
        Path b = Files.writeString(target.resolve("conformance-vfsgw-" + who + ".txt"), tested);
        assertTrue(reference.lines().count() > 200, "the reference run printed too little:\n" + reference);
        String diff = Shell.run("diff", "-u", a.toString(), b.toString()).out();
        assertEquals("", diff, "vfsgw differs from tmpfs (" + who + "), - tmpfs + vfsgw:\n" + diff);
    }

    /** Runs the battery in a fresh world-writable subdirectory of {@code root}; returns its output. */
    private static String runChecks(Path root, String who, List<String> prefix) throws IOException {
        Path d = Files.createDirectory(root.resolve(who));
        Shell.run("chmod", "1777", d.toString()).ok();
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Shell.repoRoot().resolve("testing/conformance/posix-checks.sh").toString());
        cmd.add(d.toString());
        Shell.Result r = Shell.run(Duration.ofSeconds(120), cmd);
        assertEquals(0, r.exit(), "posix-checks.sh in " + d + " failed:\n" + r.err() + r.out());
        return r.out();
    }
}
