package io.vfsgw.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Differential POSIX conformance of the posix backend: testing/conformance/posix-checks.sh prints
 * what the kernel answers to a battery of calls; a plain ext4 directory is the reference and a posix
 * mount of another ext4 directory must print exactly the same lines, as root and as uid 65534. The
 * mount has --allow-devices so the device checks compare too (the default EPERM is PosixMountIT's).
 */
class PosixConformanceDiffIT {
    private static Path reference;
    private static Path source;
    private static PosixGateway gw;

    @BeforeAll
    static void setUp() throws IOException {
        reference = Sh.diskDir("conformance-ext4-");
        source = Sh.diskDir("conformance-src-");
        for (Path p : List.of(reference, source)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxrwxrwx"));
        }
        gw = PosixGateway.mount(source, "--allow-devices");
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (gw != null) {
                gw.close();
            }
        } finally {
            Sh.deleteTree(reference);
            Sh.deleteTree(source);
        }
    }

    @Test
    void asRootThePosixMountAnswersLikeExt4() throws IOException {
        compare("root", List.of());
    }

    @Test
    void asNobodyThePosixMountAnswersLikeExt4() throws IOException {
        compare("nobody", Sh.AS_NOBODY);
    }

    private static void compare(String who, List<String> prefix) throws IOException {
        String expected = runChecks(reference, who, prefix);
        String got = runChecks(gw.dir(), who, prefix);
        Path a = Files.writeString(Path.of("target", "conformance-ext4-" + who + ".txt"), expected);
        Path b = Files.writeString(Path.of("target", "conformance-posix-" + who + ".txt"), got);
        assertTrue(expected.lines().count() > 200, "the reference run printed too little:\n" + expected);
        String diff = Sh.run("diff", "-u", a.toString(), b.toString()).out();
        assertEquals("", diff, "the posix mount differs from ext4 (" + who + "), - ext4 + posix mount:\n" + diff);
    }

    /** Runs the battery in a fresh world-writable subdirectory of {@code root}; returns its output. */
    private static String runChecks(Path root, String who, List<String> prefix) throws IOException {
        Path d = Files.createDirectory(root.resolve(who));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxrwx"));
        Sh.run("chmod", "1777", d.toString()).ok();
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Sh.repoRoot().resolve("testing/conformance/posix-checks.sh").toString());
        cmd.add(d.toString());
        Sh.Result r = Sh.run(Duration.ofSeconds(120), cmd);
        assertEquals(0, r.exit(), "posix-checks.sh in " + d + " failed:\n" + r.err() + r.out());
        return r.out();
    }
}
