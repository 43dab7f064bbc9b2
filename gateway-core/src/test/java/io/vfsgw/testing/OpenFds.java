package io.vfsgw.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.channels.FileChannel;
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
    static {
        // The JDK keeps one socketpair end open for good once the first NIO channel is used (its
        // "pre-close" fd). Open a channel here, so the first test of a JVM does not see it as a leak.
        try (FileChannel c = FileChannel.open(Path.of("/proc/self/stat"))) {
            c.size();
        } catch (IOException e) {
            throw new IllegalStateException("cannot open /proc/self/stat", e);
        }
    }

    private OpenFds() {
    }

    /** fd number -> what it points at; the fd this listing itself holds is left out. */
    public static Map<Integer, String> snapshot() {
        Map<Integer, String> out = new TreeMap<>();
        String self = "/proc/" + ProcessHandle.current().pid() + "/fd";
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            s.forEach(p -> {
                try {
                    String target = Files.readSymbolicLink(p).toString();
                    // Counting the listing's own fd would hide a leak that took its number since the
                    // last snapshot, and name the listing instead.
                    if (!target.equals(self)) {
                        out.put(Integer.parseInt(p.getFileName().toString()), target);
                    }
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
