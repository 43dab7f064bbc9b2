package io.vfsgw.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    /** A wrong flag or value is the error and where to look, not mount's 148 lines of usage. */
    @Test
    void aBadFlagOrValueIsOneErrorAndAPointerToHelp() {
        Result typo = run("mount", "/x", "--mem-szie", "1G");
        assertEquals(ExitCodes.USAGE, typo.code());
        assertEquals(List.of("vfsgw: Unknown options: '--mem-szie', '1G'", "Possible solutions: --mem-size, --mem-inodes",
                "Try 'vfsgw mount --help' for the options."), typo.err().lines().toList());
        Result endpoint = run("mount", "/x", "--bucket", "b", "--endpoint", "127.0.0.1:9000");
        assertEquals(ExitCodes.USAGE, endpoint.code());
        assertTrue(endpoint.err().contains("e.g. http://127.0.0.1:9000, not '127.0.0.1:9000'"), endpoint.err());
        assertEquals(2, endpoint.err().lines().count(), endpoint.err());
        Result scheme = run("s3", "recover", "--cache-dir", "/x", "--endpoint", "localhost:9000");
        assertTrue(scheme.err().contains("e.g. http://localhost:9000"), scheme.err());
        assertTrue(scheme.err().contains("Try 'vfsgw s3 recover --help'"), scheme.err());
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
    void printCapabilitiesIsJsonForLibvirtAsServeAndAsABareVirtiofsdCommandLine() {
        Result r = run("serve", "--print-capabilities");
        assertEquals(0, r.code());
        assertEquals("{\n  \"type\": \"fs\",\n  \"features\": [\n    \"separate-options\"\n  ]\n}\n", r.out());
        Result bare = run("--print-capabilities"); // libvirt runs the binary it is given with just this
        assertEquals(0, bare.code());
        assertEquals(r.out(), bare.out());
    }

    @Test
    void virtiofsdsSourceSelectsPosixUnlessAWrapperChoseAnotherBackend(@TempDir Path tmp) {
        ServeCommand plain = parsed("--fd=3", "-o", "source=" + tmp + ",cache=always,no_flock");
        assertEquals(BackendOptions.Kind.posix, plain.backend.kind());
        assertEquals(tmp, plain.backend.source);
        assertEquals("always", plain.gateway.cache);
        assertFalse(plain.gateway.flockLocks);
        assertTrue(plain.gateway.posixLocks);
        assertEquals(1, parsed("--fd=3", "--thread-pool-size=0").gateway.threads(), "virtiofsd's 'no pool'");
        ServeCommand separate = parsed("--fd=3", "--shared-dir", tmp.toString(), "--xattr", "--cache", "none");
        assertEquals(tmp, separate.backend.source);
        assertEquals("on", separate.backend.xattr);
        // libvirt always names a directory; a wrapper adding --backend s3 serves the bucket instead.
        ServeCommand wrapped = parsed("--fd=3", "-o", "source=" + tmp, "--backend", "s3", "--bucket", "b");
        assertEquals(BackendOptions.Kind.s3, wrapped.backend.kind());
        assertEquals(null, wrapped.backend.source);
    }

    /** serve's options after picocli and the virtiofsd translation, without serving. */
    private static ServeCommand parsed(String... args) {
        ServeCommand c = new ServeCommand();
        new picocli.CommandLine(c).parseArgs(args);
        c.virtiofsd.applyTo(c.backend, c.gateway);
        return c;
    }

    @Test
    void virtiofsdOptionListsSplitAtSingleCommas() {
        assertEquals(List.of("source=/srv/a,b", "cache=auto", "xattr"), VirtiofsdOptions.split("source=/srv/a,,b,cache=auto,xattr"));
        assertEquals(List.of("no_flock"), VirtiofsdOptions.split("no_flock,"));
    }

    @Test
    void virtiofsdOptionsVfsgwCannotHonourAreRefusedNotIgnored(@TempDir Path tmp) {
        String sock = tmp.resolve("s").toString();
        Result modcaps = run("--socket-path", sock, "-o", "source=" + tmp + ",modcaps=+sys_admin");
        assertEquals(ExitCodes.SETUP_FAILURE, modcaps.code());
        assertTrue(modcaps.err().contains("-o modcaps=+sys_admin: not a virtiofsd option vfsgw knows"), modcaps.err());
        Result valued = run("--socket-path", sock, "-o", "source=" + tmp + ",xattr=yes");
        assertEquals(ExitCodes.SETUP_FAILURE, valued.code());
        assertTrue(valued.err().contains("-o xattr takes no value"), valued.err());
        Result both = run("--socket-path", sock, "--fd", "3", "--shared-dir", tmp.toString());
        assertEquals(ExitCodes.SETUP_FAILURE, both.code());
        assertTrue(both.err().contains("give --socket-path or --fd, not both"), both.err());
        Result notOurs = run("--fd", "987", "--shared-dir", tmp.toString());
        assertEquals(ExitCodes.SETUP_FAILURE, notOurs.code());
        assertTrue(notOurs.err().contains("cannot serve on fd 987: it is not open in this process"), notOurs.err());
        assertFalse(Files.exists(tmp.resolve("s")), "nothing was served");
    }

    @Test
    void theBackendFollowsItsRequiredOptionAndAMismatchIsNamed(@TempDir Path tmp) {
        Result mismatch = run("mount", tmp.toString(), "--backend", "mem", "--source", tmp.toString());
        assertEquals(ExitCodes.SETUP_FAILURE, mismatch.code());
        assertTrue(mismatch.err().contains("--source is an option of --backend posix, not --backend mem"), mismatch.err());
        Result xattr = run("mount", tmp.toString(), "--source", tmp.toString(), "--xattr", "maybe");
        assertEquals(ExitCodes.SETUP_FAILURE, xattr.code());
        assertTrue(xattr.err().contains("--xattr takes on or off, not 'maybe'"), xattr.err());
        Result two = run("--socket-path", tmp.resolve("s").toString(), "--source", tmp.toString(), "--bucket", "b");
        assertEquals(ExitCodes.SETUP_FAILURE, two.code());
        assertTrue(two.err().contains("name two backends"), two.err());
    }
}
