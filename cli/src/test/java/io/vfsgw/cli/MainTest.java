package io.vfsgw.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's contract: exit codes and one-line errors that say what to do. */
class MainTest {
    private record Result(int code, String out, String err) {
    }

    private static synchronized Result run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void versionAndHelpExitZero() {
        Result v = run("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().startsWith("vfsgw "), v.out());
        Result h = run("mount", "--help");
        assertEquals(0, h.code());
        for (String flag : new String[] {"--backend", "--mem-size", "--source", "--bucket", "--cache", "--threads",
                "--log-level"}) {
            assertTrue(h.out().contains(flag), "mount --help lists " + flag);
        }
        assertTrue(run("serve", "--help").out().contains("--socket-path"));
    }

    @Test
    void badUsageExitsTwo() {
        assertEquals(ExitCodes.USAGE, run("mount").code(), "missing mount point");
        assertEquals(ExitCodes.USAGE, run("mount", "/x", "--backend", "ftp").code());
        Result r = run("mount", "/x", "--mem-size", "lots");
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("is not a size"), r.err());
        assertEquals(ExitCodes.USAGE, run("frobnicate").code());
    }

    @Test
    void setupProblemsExitThreeWithOneLineSayingWhatToDo(@TempDir Path tmp) throws Exception {
        Result noSource = run("mount", tmp.toString(), "--backend", "posix");
        assertEquals(ExitCodes.SETUP_FAILURE, noSource.code());
        assertTrue(noSource.err().contains("--source"), noSource.err());

        Result missingSource = run("mount", tmp.toString(), "--backend", "posix", "--source", tmp.resolve("nope").toString());
        assertEquals(ExitCodes.SETUP_FAILURE, missingSource.code());
        assertTrue(missingSource.err().contains("does not exist"), missingSource.err());

        Result noBucket = run("serve", "--socket-path", tmp.resolve("s").toString(), "--backend", "s3");
        assertEquals(ExitCodes.SETUP_FAILURE, noBucket.code());
        assertTrue(noBucket.err().contains("--bucket"), noBucket.err());

        Result noSocket = run("serve");
        assertEquals(ExitCodes.SETUP_FAILURE, noSocket.code());
        assertTrue(noSocket.err().contains("--socket-path"), noSocket.err());

        Result badCache = run("mount", tmp.toString(), "--cache", "sometimes");
        assertEquals(ExitCodes.SETUP_FAILURE, badCache.code());
        assertTrue(badCache.err().contains("none, auto or always"), badCache.err());

        Files.writeString(tmp.resolve("occupied"), "x");
        Result notEmpty = run("mount", tmp.toString());
        assertEquals(ExitCodes.SETUP_FAILURE, notEmpty.code());
        assertTrue(notEmpty.err().contains("not empty"), notEmpty.err());

        Result missing = run("mount", tmp.resolve("absent").toString());
        assertEquals(ExitCodes.SETUP_FAILURE, missing.code());
    }

    @Test
    void printCapabilitiesIsJsonForLibvirt() {
        Result r = run("serve", "--print-capabilities");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("\"type\": \"fs\""), r.out());
    }
}
