package io.vfsgw.posix;

import io.vfsgw.cli.Main;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code vfsgw mount DIR --backend posix --source SRC ...} run in this JVM on a thread, for the posix
 * ITs. {@link #mount} returns once the mount shows in /proc/self/mountinfo; {@link #close} unmounts
 * and insists the gateway exits 0 and the mount is gone.
 */
final class PosixGateway implements AutoCloseable {
    static final Duration DEADLINE = Duration.ofSeconds(30);

    private final Path dir;
    private final CompletableFuture<Integer> exit;

    private PosixGateway(Path dir, CompletableFuture<Integer> exit) {
        this.dir = dir;
        this.exit = exit;
    }

    /** Mounts {@code source} on a fresh directory under /tmp with the extra options given. */
    static PosixGateway mount(Path source, String... options) {
        Path dir;
        try {
            dir = Files.createTempDirectory("vfsgw-posix-it-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> args = new ArrayList<>(List.of("mount", dir.toString(), "--backend", "posix",
                "--source", source.toString(), "--log-level", "warn"));
        args.addAll(Arrays.asList(options));
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                exit.complete(Main.run(args.toArray(String[]::new)));
            } catch (Throwable e) {
                exit.completeExceptionally(e);
            }
        }, "vfsgw-posix-mount");
        t.setDaemon(true);
        t.start();
        Sh.await(DEADLINE, "vfsgw mounted at " + dir, () -> {
            if (exit.isDone()) {
                throw new AssertionError("vfsgw exited before mounting " + dir + ": "
                        + exit.handle((c, e) -> e != null ? e.toString() : "exit " + c).join());
            }
            return "fuse.vfsgw".equals(Sh.mountTypeAt(dir));
        });
        return new PosixGateway(dir, exit);
    }

    Path dir() {
        return dir;
    }

    @Override
    public void close() throws Exception {
        try {
            if (Sh.mountTypeAt(dir) != null) {
                Sh.run("umount", dir.toString()).ok();
            }
            Sh.await(DEADLINE, dir + " unmounted", () -> Sh.mountTypeAt(dir) == null);
            int code = exit.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            if (code != 0) {
                throw new AssertionError("vfsgw exited " + code + " after umount of " + dir);
            }
        } finally {
            if (Sh.mountTypeAt(dir) == null) {
                Files.deleteIfExists(dir);
            }
        }
    }
}
