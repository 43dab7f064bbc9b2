package io.vfsgw.transport.devfuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The unprivileged path for real: a JVM running as "nobody" mounts through fusermount3, unmounts
 * on SIGTERM with fusermount3 -u, and its watchdog runs fusermount3 -u -z after SIGKILL.
 *
 * <p>fusermount3 opens /dev/fuse with the caller's rights, so it needs the device at its usual
 * mode 0666 (Debian's udev rule). Containers often create it 0600; then this test widens it for its
 * own duration and restores the old mode afterwards.
 */
class NonRootMountIT {
    private static final int NOBODY = 65534;

    @TempDir
    Path tmp;
    Path mp;
    String classpath;

    private static final Path DEV_FUSE = Path.of("/dev/fuse");
    private static Set<PosixFilePermission> devFuseMode;

    @BeforeAll
    static void openDevFuseToOrdinaryUsers() throws IOException {
        devFuseMode = Files.getPosixFilePermissions(DEV_FUSE);
        if (!devFuseMode.contains(PosixFilePermission.OTHERS_READ) || !devFuseMode.contains(PosixFilePermission.OTHERS_WRITE)) {
            System.err.println("NonRootMountIT: /dev/fuse is " + PosixFilePermissions.toString(devFuseMode)
                    + "; setting rw-rw-rw- (the distro default) for this test only");
            Files.setPosixFilePermissions(DEV_FUSE, PosixFilePermissions.fromString("rw-rw-rw-"));
        }
    }

    @AfterAll
    static void restoreDevFuseMode() throws IOException {
        Files.setPosixFilePermissions(DEV_FUSE, devFuseMode);
    }

    @BeforeEach
    void setUp() throws IOException {
        // nobody cannot read /root/.m2 or target/: give it a world-readable copy of the test classpath.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path cp = Files.createDirectory(tmp.resolve("cp"));
        List<String> entries = new ArrayList<>();
        String source = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        int i = 0;
        for (String entry : source.split(":")) {
            Path from = Path.of(entry);
            if (!Files.exists(from)) {
                continue;
            }
            Path to = cp.resolve((i++) + "-" + from.getFileName());
            copyTree(from, to);
            entries.add(to.toString());
        }
        classpath = String.join(":", entries);
        mp = Files.createDirectory(tmp.resolve("mnt"));
        UserPrincipalLookupService users = mp.getFileSystem().getUserPrincipalLookupService();
        Files.setOwner(mp, users.lookupPrincipalByName("nobody"));
    }

    @Test
    void mountsAsNobodyAndUnmountsOnSigterm() throws Exception {
        Process child = startAsNobody("--no-allow-other", "--self-check");
        try {
            BufferedReader out = reader(child);
            assertEquals("mounted", readLine(out));
            assertEquals("self-check dir=true mtime=" + TestFuseHandler.ROOT_MTIME, readLine(out));
            String line = mountinfoLine();
            assertTrue(line.contains(" - fuse.vfsgw vfsgw ") && line.contains("user_id=" + NOBODY), line);
            child.destroy(); // SIGTERM: the shutdown hook runs fusermount3 -u
            assertTrue(child.waitFor(20, TimeUnit.SECONDS));
            assertEquals(143, child.exitValue());
            assertEquals("", mountinfoLine(), "unmounted by the unprivileged JVM itself");
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void watchdogUnmountsWithFusermountAfterSigkill() throws Exception {
        Process child = startAsNobody("--no-allow-other");
        try {
            assertEquals("mounted", readLine(reader(child)));
            assertTrue(!mountinfoLine().isEmpty(), "mounted");
            child.destroyForcibly();
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));
            DevFuseMountIT.pollUntil(() -> mountinfoLine().isEmpty(), Duration.ofSeconds(10),
                    "the watchdog's fusermount3 -u -z");
        } finally {
            child.destroyForcibly();
        }
    }

    private Process startAsNobody(String... flags) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY,
                "--clear-groups", "--", java, "-XX:-UsePerfData", "-cp", classpath,
                MountAndWaitMain.class.getName(), mp.toString()));
        cmd.addAll(List.of(flags));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("HOME", tmp.toString());
        return pb.start();
    }

    private static BufferedReader reader(Process p) {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    }

    /** One line of the child's stdout within 20 s, or a failure (never a hang). */
    private static String readLine(BufferedReader r) throws Exception {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return r.readLine();
            } catch (IOException e) {
                return "read failed: " + e;
            }
        });
        return line.get(20, TimeUnit.SECONDS);
    }

    private String mountinfoLine() {
        try {
            String needle = " " + mp.toString() + " ";
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .filter(l -> l.contains(needle)).findFirst().orElse("");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
                } else {
                    Files.copy(p, target);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
        }
    }
}
