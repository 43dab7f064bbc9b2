package io.vfsgw.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Runs ordinary tools (cp, tar, dd, python3...) for the mount tests, with a deadline, and polls conditions. */
final class Shell {
    /** /usr/bin/python3, not a pyenv shim under /root: the checks also run as uid 65534. */
    static final String PYTHON = "/usr/bin/python3";
    /** Drops to the nobody user with no supplementary groups. */
    static final List<String> AS_NOBODY = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups");

    private Shell() {
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
        ProcessBuilder pb = new ProcessBuilder(cmd);
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            CompletableFuture<String> out = drain(p.getInputStream());
            CompletableFuture<String> err = drain(p.getErrorStream());
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out after " + timeout + ": " + cmd);
            }
            // A grandchild stuck on a hung mount may keep the pipes open: take what is there after 5 s.
            return new Result(p.exitValue(), collect(out), collect(err));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static String collect(CompletableFuture<String> f) throws InterruptedException {
        try {
            return f.get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return "<output still open: a child process is stuck>";
        } catch (java.util.concurrent.ExecutionException e) {
            return "<" + e.getCause() + ">";
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

    /** Runs {@code bash -c script} and insists on exit 0; returns stdout. */
    static String bash(String script) {
        return run(Duration.ofSeconds(120), List.of("bash", "-c", "set -euo pipefail; " + script)).ok().out();
    }

    /**
     * Runs {@code statement} (python, with {@code a} = the extra arguments) and returns "ok" or the
     * errno name it failed with, e.g. {@code errno("os.mkdir(a[0])", dir)} gives "EEXIST".
     */
    static String errno(String statement, Object... args) {
        return errnoAs(List.of(), statement, args);
    }

    /** {@link #errno} run under a prefix such as {@link #AS_NOBODY}. */
    static String errnoAs(List<String> prefix, String statement, Object... args) {
        String prog = "import os, sys, errno, fcntl, ctypes\na = sys.argv[1:]\ntry:\n"
                + indent(statement) + "\n    print('ok')\nexcept OSError as e:\n"
                + "    print(errno.errorcode.get(e.errno, str(e.errno)))\n";
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(PYTHON, "-c", prog));
        for (Object o : args) {
            cmd.add(o.toString());
        }
        return run(Duration.ofSeconds(60), cmd).ok().out().strip();
    }

    /** Runs a python program with {@code a} = the arguments; returns stdout stripped. */
    static String python(String program, Object... args) {
        List<String> cmd = new ArrayList<>(List.of(PYTHON, "-c", "import os, sys, errno, fcntl, ctypes\na = sys.argv[1:]\n" + program));
        for (Object o : args) {
            cmd.add(o.toString());
        }
        return run(Duration.ofSeconds(120), cmd).ok().out().strip();
    }

    private static String indent(String s) {
        return "    " + String.join("\n    ", s.split("\n"));
    }

    /** Polls {@code condition} every 20 ms until it holds; fails with {@code what} at the deadline. */
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

    /** The repository root (failsafe runs in cli/). */
    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !p.resolve("testing").toFile().isDirectory()) {
            p = p.getParent();
        }
        if (p == null) {
            throw new AssertionError("no testing/ directory above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    static List<String> list(String... s) {
        return Arrays.asList(s);
    }
}
