package io.vfsgw.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Leak checks on this JVM's file descriptors. Other tests in the same JVM may still be closing
 * their own (a reaped child's pipes, a lazily opened jar), so a check waits for the count to come
 * back rather than comparing once, and names what is left open when it does not.
 */
public final class OpenFds {
    private OpenFds() {
    }

    /** fd number -> what it points at. */
    public static Map<Integer, String> snapshot() {
        Map<Integer, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            s.forEach(p -> {
                try {
                    out.put(Integer.parseInt(p.getFileName().toString()), Files.readSymbolicLink(p).toString());
                } catch (IOException | NumberFormatException e) {
                    // closed while listing: not open any more
                }
            });
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc/self/fd", e);
        }
        return out;
    }

    public static int count() {
        return snapshot().size();
    }

    /** Waits up to {@code within} for the count to drop to {@code before}; fails naming the extra fds. */
    public static void assertNoLeak(Map<Integer, String> before, Duration within, String what) {
        long deadline = System.nanoTime() + within.toNanos();
        Map<Integer, String> now = snapshot();
        while (now.size() > before.size() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            try {
                Thread.sleep(20); // polling a condition with a deadline, not waiting instead of it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            now = snapshot();
        }
        if (now.size() > before.size()) {
            Map<Integer, String> extra = new TreeMap<>(now);
            extra.keySet().removeAll(before.keySet());
            fail(what + ": " + (now.size() - before.size()) + " file descriptor(s) leaked: " + extra);
        }
    }
}
