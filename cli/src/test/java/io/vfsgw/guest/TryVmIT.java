package io.vfsgw.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code vfsgw try-vm --command ...} from the packaged jar, as a user runs it: builds/locates the
 * guest, serves the mem backend, boots QEMU, runs the command in /mnt and exits with its status.
 */
class TryVmIT {

    private static final Path JAR = Path.of("target", "vfsgw.jar");

    @Test
    void runsACommandInTheVmAndExitsWithItsStatus() throws Exception {
        assertTrue(Files.isRegularFile(JAR), JAR.toAbsolutePath() + " missing: failsafe runs after package");
        Result ok = tryVm("echo hi > /mnt/x; cat /mnt/x; ls -l /mnt/x | cut -c1-10");
        assertEquals(0, ok.exit, ok.output);
        List<String> lines = ok.output.lines().toList();
        assertTrue(lines.contains("hi"), "the command's output is printed:\n" + ok.output);
        assertTrue(lines.contains("-rw-r--r--"), ok.output);
        assertTrue(ok.output.contains("to run: echo hi > /mnt/x"), "says what it boots for:\n" + ok.output);
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("VFSGW-")), "protocol lines are hidden:\n" + ok.output);

        Result failing = tryVm("cat /mnt/does-not-exist; exit 7");
        assertEquals(7, failing.exit, failing.output);
        assertTrue(failing.output.contains("No such file or directory"), failing.output);
    }

    /** The interactive mode, driven through a pipe: the shell reads what we type once the banner is out. */
    @Test
    void interactiveShellServesTheShareAndPowersOffOnExit() throws Exception {
        Process p = new ProcessBuilder(List.of(javaBinary(), "-jar", JAR.toString(), "try-vm"))
                .redirectErrorStream(true).start();
        StringBuilder output = new StringBuilder();
        try (java.io.BufferedReader in = new java.io.BufferedReader(
                new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             java.io.Writer keys = new java.io.OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
            Thread reader = new Thread(() -> in.lines().forEach(l -> {
                synchronized (output) {
                    output.append(l.replace("\r", "")).append('\n');
                    output.notifyAll();
                }
            }), "try-vm-console");
            reader.setDaemon(true);
            reader.start();
            awaitOutput(output, "Exit the shell to power off.", p);
            assertTrue(output.toString().contains("leave with 'exit' (powers off) or Ctrl-A X"), output.toString());
            keys.write("echo typed > /mnt/typed; echo \"got:$(cat /mnt/typed)\"\n");
            keys.flush();
            awaitOutput(output, "got:typed", p);
            keys.write("exit\n");
            keys.flush();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "try-vm did not end after exit:\n" + output);
            reader.join(5000);
        } finally {
            p.destroyForcibly();
        }
        System.out.println("try-vm interactive exit " + p.exitValue() + ":\n" + output);
        assertEquals(0, p.exitValue(), output.toString());
    }

    private static void awaitOutput(StringBuilder output, String text, Process p) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        synchronized (output) {
            while (output.indexOf(text) < 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !p.isAlive()) {
                    throw new AssertionError("no '" + text + "' from try-vm (alive " + p.isAlive() + "):\n" + output);
                }
                output.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    private record Result(int exit, String output) {
    }

    private static Result tryVm(String command) throws Exception {
        Path out = Files.createTempFile("try-vm", ".out");
        try {
            Process p = new ProcessBuilder(List.of(javaBinary(), "-jar", JAR.toString(), "try-vm", "--command", command))
                    .redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("try-vm did not finish in 120 s:\n" + Files.readString(out));
            }
            String output = Files.readString(out, StandardCharsets.UTF_8);
            System.out.println("try-vm --command '" + command + "' exit " + p.exitValue() + ":\n" + output);
            return new Result(p.exitValue(), output);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
