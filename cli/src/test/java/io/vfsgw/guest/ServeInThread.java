package io.vfsgw.guest;

import io.vfsgw.cli.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code vfsgw serve ARGS} run through the CLI's own entry point on a daemon thread of the test JVM,
 * as a user runs it: the guest tests that must prove the command line, not only the classes behind it.
 */
public final class ServeInThread {
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();

    private ServeInThread(String name, String[] args) {
        Thread t = new Thread(() -> {
            try {
                exit.complete(Main.run(args));
            } catch (Throwable e) {
                exit.completeExceptionally(e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
    }

    /** Starts {@code vfsgw serve} with {@code args} (after "serve") and waits until every socket exists. */
    public static ServeInThread start(String name, List<Path> sockets, String... args) throws InterruptedException {
        String[] all = new String[args.length + 1];
        all[0] = "serve";
        System.arraycopy(args, 0, all, 1, args.length);
        ServeInThread s = new ServeInThread(name, all);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!sockets.stream().allMatch(Files::exists)) {
            if (s.exit.isDone()) {
                throw new AssertionError("vfsgw serve exited early: " + s.exit.handle((c, e) -> e != null ? e : c).join());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("vfsgw serve did not create " + sockets + " within 30 s");
            }
            Thread.sleep(20);
        }
        return s;
    }

    /** The exit code, waiting at most {@code timeout} (after the guest powered off, with --exit-on-disconnect). */
    public int exitCode(Duration timeout) throws Exception {
        return exit.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public boolean exited() {
        return exit.isDone();
    }
}
