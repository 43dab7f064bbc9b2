package io.vfsgw.s3;

import io.vfsgw.backend.s3.S3ProxyFixture;
import io.vfsgw.cli.Main;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Host mounts of the test S3Proxy bucket for the cli S3 ITs: vfsgw in this JVM
 * ({@code Main.run("mount", ..., "--backend", "s3", ...)} on a thread, credentials through the SDK's
 * aws.accessKeyId / aws.secretAccessKey system properties) or the real s3fs-fuse as a child process.
 * The factories return once the mount shows in /proc/self/mounts; close unmounts and waits.
 */
final class S3Mount implements AutoCloseable {
    private final Path dir;
    private final CompletableFuture<Integer> exit;
    private final Process s3fs;

    private S3Mount(Path dir, CompletableFuture<Integer> exit, Process s3fs) {
        this.dir = dir;
        this.exit = exit;
        this.s3fs = s3fs;
    }

    Path dir() {
        return dir;
    }

    /** vfsgw mount of {@code prefix} of the fixture's bucket; extra CLI options appended. */
    static S3Mount vfsgw(S3ProxyFixture server, String prefix, Path cacheDir, String... extra) throws IOException {
        System.setProperty("aws.accessKeyId", S3ProxyFixture.ACCESS);
        System.setProperty("aws.secretAccessKey", S3ProxyFixture.SECRET);
        Path dir = Files.createTempDirectory("vfsgw-s3-");
        List<String> args = new ArrayList<>(List.of("mount", dir.toString(), "--backend", "s3",
                "--bucket", S3ProxyFixture.BUCKET, "--prefix", prefix, "--endpoint", server.endpoint().toString(),
                "--path-style", "--cache-dir", cacheDir.toString()));
        args.addAll(List.of(extra));
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                exit.complete(Main.run(args.toArray(String[]::new)));
            } catch (Throwable e) {
                exit.completeExceptionally(e);
            }
        }, "vfsgw-s3-mount");
        t.setDaemon(true);
        t.start();
        S3Mount m = new S3Mount(dir, exit, null);
        await(Duration.ofSeconds(30), "vfsgw mounted at " + dir, () -> {
            if (exit.isDone()) {
                throw new AssertionError("vfsgw exited before mounting: " + exit.handle((c, e) -> e != null ? e : c).join());
            }
            return mounted(dir);
        });
        return m;
    }

    /** s3fs-fuse mount of {@code prefix} of the fixture's bucket (short stat cache, so it sees our changes). */
    static S3Mount s3fs(S3ProxyFixture server, String prefix, Path work) throws IOException {
        Path dir = Files.createTempDirectory("s3fs-");
        Path passwd = work.resolve("s3fs-passwd");
        Files.writeString(passwd, S3ProxyFixture.ACCESS + ":" + S3ProxyFixture.SECRET + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(passwd, PosixFilePermissions.fromString("rw-------"));
        Process p = new ProcessBuilder("/usr/bin/s3fs", S3ProxyFixture.BUCKET + ":/" + prefix, dir.toString(), "-f",
                "-o", "url=" + server.endpoint(), "-o", "use_path_request_style", "-o", "passwd_file=" + passwd,
                "-o", "endpoint=us-east-1", "-o", "stat_cache_expire=1", "-o", "dbglevel=warn")
                .redirectErrorStream(true).redirectOutput(work.resolve("s3fs.log").toFile()).start();
        S3Mount m = new S3Mount(dir, null, p);
        await(Duration.ofSeconds(20), "s3fs mounted at " + dir, () -> {
            if (!p.isAlive()) {
                throw new AssertionError("s3fs exited " + p.exitValue() + ": see " + work.resolve("s3fs.log"));
            }
            return mounted(dir);
        });
        return m;
    }

    static boolean mounted(Path dir) {
        try {
            return Files.readString(Path.of("/proc/self/mounts")).contains(" " + dir + " ");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Polls {@code condition} until it holds or the deadline passes (then fails naming {@code what}). */
    static void await(Duration deadline, String what, BooleanSupplier condition) {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out after " + deadline + " waiting for " + what);
            }
            try {
                Thread.sleep(20);   // polling interval of a condition with a deadline
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }

    /** Runs a shell command line with a deadline; returns stdout, fails on a non-zero exit. */
    static String sh(String script) {
        return sh(Duration.ofSeconds(300), script);
    }

    static String sh(Duration timeout, String script) {
        try {
            Path out = Files.createTempFile("s3it-", ".out");
            Path err = Files.createTempFile("s3it-", ".err");
            try {
                Process p = new ProcessBuilder("bash", "-euo", "pipefail", "-c", script)
                        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("timed out after " + timeout + ": " + script);
                }
                String o = Files.readString(out);
                if (p.exitValue() != 0) {
                    throw new AssertionError("exit " + p.exitValue() + ": " + script + "\nstdout: " + o
                            + "\nstderr: " + Files.readString(err));
                }
                return o;
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted: " + script);
        }
    }

    @Override
    public void close() throws Exception {
        try {
            if (mounted(dir)) {
                sh(Duration.ofSeconds(60), s3fs != null ? "fusermount3 -u '" + dir + "'" : "umount '" + dir + "'");
            }
            await(Duration.ofSeconds(30), dir + " unmounted", () -> !mounted(dir));
            if (exit != null) {
                int code = exit.get(60, TimeUnit.SECONDS);
                if (code != 0) {
                    throw new AssertionError("vfsgw exited " + code + " after umount");
                }
            } else if (!s3fs.waitFor(20, TimeUnit.SECONDS)) {
                s3fs.destroyForcibly();
                throw new AssertionError("s3fs did not exit after fusermount3 -u");
            }
        } finally {
            Files.deleteIfExists(dir);
        }
    }
}
