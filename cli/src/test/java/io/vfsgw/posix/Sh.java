package io.vfsgw.posix;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/** Runs tools and python one-liners for the posix ITs (also as uid 65534), and polls conditions with a deadline. */
final class Sh {
    /** /usr/bin/python3, not a pyenv shim under /root: the checks also run as uid 65534. */
    static final String PYTHON = "/usr/bin/python3";
    /** The nobody user with no supplementary groups. */
    static final List<String> AS_NOBODY = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups");
    private static final String PRELUDE = "import os, sys, errno, ctypes, stat\na = sys.argv[1:]\n";

    private Sh() {
    }

    /** What a command did. */
    record Result(int exit, String out, String err) {
        Result ok() {
            if (exit != 0) {
                throw new AssertionError("exit " + exit + "\nstdout: " + out + "\nstderr: " + err);
            }
            return this;
        }
    }

    static Result run(String... cmd) {
        return run(Duration.ofSeconds(120), List.of(cmd));
    }

    static Result run(Duration timeout, List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).start();
            p.getOutputStream().close();
            CompletableFuture<String> out = drain(p.getInputStream());
            CompletableFuture<String> err = drain(p.getErrorStream());
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out after " + timeout + ": " + cmd);
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "<" + e + ">";
            }
        });
    }

    /** "ok" or the errno name {@code statement} (python, {@code a} = the arguments) failed with. */
    static String errno(String statement, Object... args) {
        return errnoAs(List.of(), statement, args);
    }

    /** {@link #errno} under a prefix such as {@link #AS_NOBODY}. */
    static String errnoAs(List<String> prefix, String statement, Object... args) {
        String prog = PRELUDE + "try:\n    " + String.join("\n    ", statement.split("\n"))
                + "\n    print('ok')\nexcept OSError as e:\n    print(errno.errorcode.get(e.errno, str(e.errno)))\n";
        return python(prefix, prog, args);
    }

    /** Runs a python program ({@code a} = the arguments) and returns its stdout, stripped. */
    static String python(List<String> prefix, String program, Object... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(PYTHON, "-c", program.startsWith(PRELUDE) ? program : PRELUDE + program));
        for (Object o : args) {
            cmd.add(o.toString());
        }
        return run(Duration.ofSeconds(60), cmd).ok().out().strip();
    }

    /** Polls {@code condition} every 20 ms until it holds; fails naming {@code what} at the deadline. */
    static void await(Duration deadline, String what, BooleanSupplier condition) {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within " + deadline + ": " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what, e);
            }
        }
    }

    /** The file system type mounted exactly at {@code dir} (from /proc/self/mountinfo), or null. */
    static String mountTypeAt(Path dir) {
        String want = dir.toAbsolutePath().toString();
        String type = null;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                int dash = Arrays.asList(f).indexOf("-");
                if (f.length > 4 && dash > 0 && f[4].equals(want)) {
                    type = f[dash + 1]; // the last mount on a path is the visible one
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return type;
    }

    /** A fresh directory under cli/target (ext4 here: tmpfs would lack user xattrs and differ from a disk). */
    static Path diskDir(String prefix) {
        try {
            Path base = Files.createDirectories(Path.of("target", "posix-it").toAbsolutePath());
            return Files.createTempDirectory(base, prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void deleteTree(Path top) throws IOException {
        if (top == null || !Files.exists(top)) {
            return;
        }
        try (Stream<Path> s = Files.walk(top)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** The repository root (failsafe runs in cli/). */
    static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("testing"))) {
                return p;
            }
        }
        throw new AssertionError("no testing/ directory above " + Path.of("").toAbsolutePath());
    }
}
