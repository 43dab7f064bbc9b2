package io.vfsgw.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The host mount goes away cleanly however the gateway process ends: umount, SIGTERM, SIGKILL. */
class MountLifecycleIT {
    private static final Duration GONE = Duration.ofSeconds(15);

    @Test
    void sigkillTakesTheMountAwayEvenWithAFileOpen() throws Exception {
        try (MountedGateway gw = MountedGateway.separateProcess("--mem-size", "64M")) {
            Path f = Files.writeString(gw.dir().resolve("f"), "before the kill");
            FileChannel open = FileChannel.open(f, StandardOpenOption.READ);
            try {
                gw.process().destroyForcibly(); // SIGKILL: no shutdown hook runs
                int code = gw.awaitExit(GONE);
                assertEquals(137, code, gw.log());
                // the open file fails instead of hanging, and the directory is usable again
                CompletableFuture<Integer> read = CompletableFuture.supplyAsync(() -> {
                    try {
                        return open.read(ByteBuffer.allocate(10), 0);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                ExecutionException e = assertThrows(ExecutionException.class, () -> read.get(10, TimeUnit.SECONDS));
                assertTrue(e.getCause().getCause() instanceof IOException, e.toString());
            } finally {
                // close(2) reports the dead connection too (FLUSH fails with ENOTCONN); the fd is released anyway
                IOException closing = assertThrows(IOException.class, open::close);
                assertTrue(closing.getMessage().contains("not connected"), closing.toString());
            }
            assertTrue(Files.isDirectory(gw.dir()));
            try (Stream<Path> s = Files.list(gw.dir())) {
                assertEquals(List.of(), s.toList());
            }
        }
    }

    @Test
    void sigtermUnmountsAndExitsCleanly() throws Exception {
        try (MountedGateway gw = MountedGateway.separateProcess("--mem-size", "64M")) {
            Files.writeString(gw.dir().resolve("f"), "x");
            gw.process().destroy(); // SIGTERM
            int code = gw.awaitExit(GONE);
            assertTrue(code == 0 || code == 143, "exit " + code + "\n" + gw.log());
            assertTrue(Files.isDirectory(gw.dir()));
        }
    }

    @Test
    void umountEndsTheSeparateProcessWithZero() {
        MountedGateway gw = MountedGateway.separateProcess("--mem-size", "64M");
        gw.close(); // asserts exit 0 and the mount gone
        assertTrue(!MountTable.isMounted(gw.dir()));
    }
}
