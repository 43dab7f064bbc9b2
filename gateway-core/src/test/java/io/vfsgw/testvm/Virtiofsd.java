package io.vfsgw.testvm;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The reference daemon, Debian QEMU 7.2's C virtiofsd, serving a host directory on a vhost-user
 * socket, so tests and benchmarks can run the same guest script against it and against vfsgw.
 *
 * <p>This virtiofsd serves exactly one front-end connection and exits when that guest goes away:
 * start one per guest boot. Its output goes to a log file beside the socket.
 * <pre>{@code
 * try (Virtiofsd d = Virtiofsd.start(dir.resolve("vfsd.sock"), shareDir, "auto")) {
 *     GuestVm.builder().socket(d.socket()).script(...).build().run().assertOk();
 * }
 * }</pre>
 */
public final class Virtiofsd implements AutoCloseable {

    /** Where Debian's qemu-system-common installs it; override with -Dvfsgw.virtiofsd=PATH. */
    public static final String DEFAULT_BINARY = "/usr/lib/qemu/virtiofsd";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    private final Process process;
    private final Path socket;
    private final Path log;

    private Virtiofsd(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    /**
     * Starts virtiofsd on {@code socket} (a stale file there is removed) serving {@code sourceDir}
     * with cache mode {@code cache} ({@code none}, {@code auto}, {@code always}); returns once the
     * socket accepts connections, or throws with the daemon's output.
     */
    public static Virtiofsd start(Path socket, Path sourceDir, String cache, String... extraArgs) {
        String binary = System.getProperty("vfsgw.virtiofsd", DEFAULT_BINARY);
        if (!Files.isExecutable(Path.of(binary))) {
            throw new IllegalStateException(binary + " not found: install qemu-system-common");
        }
        if (!Files.isDirectory(sourceDir)) {
            throw new IllegalArgumentException("not a directory: " + sourceDir);
        }
        Path sock = socket.toAbsolutePath();
        Path log = sock.resolveSibling(sock.getFileName() + ".virtiofsd.log");
        List<String> cmd = new ArrayList<>(List.of(binary, "--socket-path=" + sock,
                "-o", "source=" + sourceDir.toAbsolutePath(), "-o", "cache=" + cache));
        cmd.addAll(List.of(extraArgs));
        try {
            Files.deleteIfExists(sock);
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            Virtiofsd d = new Virtiofsd(p, sock, log);
            d.awaitSocket();
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
    }

    /** The vhost-user socket to hand to {@link GuestVm.Builder#socket(Path)}. */
    public Path socket() {
        return socket;
    }

    /** The daemon's combined output. */
    public Path log() {
        return log;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    // virtiofsd has no readiness signal but the socket file, which it creates just before listen():
    // poll that condition with a deadline; exit of the daemon ends the wait at once.
    private void awaitSocket() throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!Files.exists(socket)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("virtiofsd exited with " + process.exitValue() + ":\n" + output());
            }
            if (System.nanoTime() > deadline) {
                close();
                throw new IllegalStateException("virtiofsd did not create " + socket + " within " + START_TIMEOUT
                        + ":\n" + output());
            }
            try {
                process.waitFor(10, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while virtiofsd started", e);
            }
        }
    }

    private String output() throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** Stops the daemon (if the guest has not already ended it) and removes the socket. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
            Files.deleteIfExists(socket);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
