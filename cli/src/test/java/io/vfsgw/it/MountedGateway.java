package io.vfsgw.it;

import io.vfsgw.cli.Main;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A vfsgw host mount (/dev/fuse) on a fresh temporary directory, for the mount ITs: in-process
 * ({@link #inProcess}, fast: {@code Main.run("mount", ...)} on a thread) or as a separate
 * {@code java -jar vfsgw.jar} process ({@link #separateProcess}, for the kill tests). The factory
 * returns once the mount shows in /proc/self/mountinfo; {@link #close} unmounts and waits until
 * the gateway has exited and the mount is gone.
 */
final class MountedGateway implements AutoCloseable {
    static final Duration MOUNT_DEADLINE = Duration.ofSeconds(30);

    private final Path dir;
    private final CompletableFuture<Integer> inProcessExit;
    private final Process process;
    private final Path log;
    /** Set once a test stopped the child itself (signal) and saw it exit; close() then only cleans up. */
    private Integer externalExit;

    private MountedGateway(Path dir, CompletableFuture<Integer> inProcessExit, Process process, Path log) {
        this.dir = dir;
        this.inProcessExit = inProcessExit;
        this.process = process;
        this.log = log;
    }

    /** Mounts the mem backend in this JVM, e.g. {@code inProcess("--mem-size", "256M")}. */
    static MountedGateway inProcess(String... options) {
        Path dir = newMountPoint();
        List<String> args = new ArrayList<>(List.of("mount", dir.toString()));
        args.addAll(List.of(options));
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                exit.complete(Main.run(args.toArray(String[]::new)));
            } catch (Throwable e) {
                exit.completeExceptionally(e);
            }
        }, "vfsgw-mount-" + dir.getFileName());
        t.setDaemon(true);
        t.start();
        MountedGateway g = new MountedGateway(dir, exit, null, null);
        g.awaitMounted();
        return g;
    }

    /** Mounts the mem backend in a child {@code java -jar vfsgw.jar mount DIR options...}. */
    static MountedGateway separateProcess(String... options) {
        return separateProcess(List.of(), options);
    }

    /** {@link #separateProcess(String...)} with JVM options for the child, e.g. {@code -Xmx256m}. */
    static MountedGateway separateProcess(List<String> jvmOptions, String... options) {
        Path jar = jar();
        Path dir = newMountPoint();
        List<String> cmd = new ArrayList<>(List.of(javaBinary()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-jar", jar.toString(), "mount", dir.toString()));
        cmd.addAll(List.of(options));
        try {
            Path log = Files.createTempFile("vfsgw-it-", ".log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            MountedGateway g = new MountedGateway(dir, null, p, log);
            g.awaitMounted();
            return g;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path dir() {
        return dir;
    }

    /** The child process ({@link #separateProcess} only). */
    Process process() {
        if (process == null) {
            throw new IllegalStateException("in-process gateway has no process");
        }
        return process;
    }

    /** What the child process printed so far ({@link #separateProcess} only). */
    String log() {
        try {
            return log == null ? "" : Files.readString(log);
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }

    private boolean exited() {
        return inProcessExit != null ? inProcessExit.isDone() : !process.isAlive();
    }

    private void awaitMounted() {
        Shell.await(MOUNT_DEADLINE, "vfsgw mounted at " + dir,
                () -> {
                    if (exited()) {
                        throw new AssertionError("vfsgw exited before mounting " + dir + ": " + exitDescription()
                                + "\n" + log());
                    }
                    return MountTable.typeAt(dir).map(t -> t.equals("fuse.vfsgw")).orElse(false);
                });
    }

    private String exitDescription() {
        if (inProcessExit != null) {
            return inProcessExit.handle((code, e) -> e != null ? e.toString() : "exit " + code).join();
        }
        return "exit " + process.exitValue();
    }

    /** Waits until the mount has disappeared from the mount table. */
    void awaitUnmounted(Duration deadline) {
        Shell.await(deadline, dir + " gone from /proc/self/mountinfo", () -> !MountTable.isMounted(dir));
    }

    /**
     * Waits for the child to exit after the test signalled it, then for the mount to go; returns
     * the exit code ({@link #separateProcess} only).
     */
    int awaitExit(Duration deadline) throws InterruptedException {
        if (!process().waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("vfsgw still running " + deadline + " after the signal\n" + log());
        }
        externalExit = process.exitValue();
        awaitUnmounted(deadline);
        return externalExit;
    }

    /** Unmounts, then insists the gateway exits 0 and the mount is gone; removes the directory. */
    @Override
    public void close() {
        try {
            if (externalExit != null) {
                return;
            }
            if (MountTable.isMounted(dir)) {
                Shell.run("umount", dir.toString()).ok();
            }
            awaitUnmounted(MOUNT_DEADLINE);
            int code;
            if (inProcessExit != null) {
                code = inProcessExit.get(30, TimeUnit.SECONDS);
            } else {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new AssertionError("vfsgw did not exit after umount\n" + log());
                }
                code = process.exitValue();
            }
            if (code != 0) {
                throw new AssertionError("vfsgw exited " + code + " after umount\n" + log());
            }
        } catch (Exception e) {
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new AssertionError("closing the mount at " + dir, e);
        } finally {
            if (process != null && process.isAlive()) {
                process.destroyForcibly();
            }
            if (!MountTable.isMounted(dir)) {
                dir.toFile().delete();
            }
            if (log != null) {
                log.toFile().delete();
            }
        }
    }

    private static Path newMountPoint() {
        try {
            return Files.createTempDirectory("vfsgw-it-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** cli/target/vfsgw.jar, built by the package phase before failsafe runs; -Dvfsgw.jar overrides. */
    static Path jar() {
        Path jar = Path.of(System.getProperty("vfsgw.jar", "target/vfsgw.jar")).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError(jar + " is missing: run 'mvn package' (or verify) in cli/ first");
        }
        return jar;
    }

    private static String javaBinary() {
        return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    }

    @Override
    public String toString() {
        return "vfsgw mount at " + dir;
    }
}
