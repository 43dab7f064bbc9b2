package io.vfsgw.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventFdsTest {

    @Test
    void drainResetsAndSaysWhetherAnythingWasSignalled() throws Exception {
        int fd = EventFds.create(true);
        try {
            assertFalse(EventFds.drain(fd));
            EventFds.signal(fd);
            EventFds.signal(fd);
            assertTrue(EventFds.drain(fd));
            assertEquals(0, EventFds.read(fd), "drain reset the counter");
            EventFds.signal(fd);
            assertEquals(1, EventFds.read(fd), "the shared signal buffer still holds 1");
        } finally {
            EventFds.close(fd);
        }
    }

    @Test
    void signalsAddUpAndReadResets() throws Exception {
        int fd = EventFds.create(true);
        try {
            assertEquals(0, EventFds.read(fd));
            EventFds.signal(fd);
            EventFds.signal(fd);
            assertEquals(2, EventFds.read(fd));
            assertEquals(0, EventFds.read(fd));
        } finally {
            EventFds.close(fd);
        }
    }

    @Test
    void pollReportsWhichFdIsReadyAndTimesOut() throws Exception {
        int a = EventFds.create(true);
        int b = EventFds.create(false);
        try {
            assertEquals(0, EventFds.awaitReadable(a, b, 10));
            EventFds.signal(b);
            assertEquals(2, EventFds.awaitReadable(a, b, 1000));
            EventFds.signal(a);
            assertEquals(3, EventFds.awaitReadable(a, b, 1000));
            assertEquals(1, EventFds.read(b));
            assertEquals(1, EventFds.awaitReadable(a, b, 1000));
        } finally {
            EventFds.close(a);
            EventFds.close(b);
        }
    }

    @Test
    void blockingReadWakesOnSignalFromAnotherThread() throws Exception {
        int fd = EventFds.create(false);
        try {
            CompletableFuture<Long> got = CompletableFuture.supplyAsync(() -> {
                try {
                    return EventFds.read(fd);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            EventFds.signal(fd);
            assertEquals(1L, got.get(10, TimeUnit.SECONDS));
        } finally {
            EventFds.close(fd);
        }
    }

    @Test
    void aSocketPassedOffAsAnEventfdFailsInsteadOfSpinning() throws Exception {
        int[] sv = UnixSockets.socketpair();
        UnixSockets.close(sv[1]);
        try {
            assertEquals(1, EventFds.awaitReadable(sv[0], sv[0], 1000) & 1, "hang-up is readable");
            org.junit.jupiter.api.Assertions.assertThrows(io.vfsgw.spi.FsException.class, () -> EventFds.read(sv[0]));
        } finally {
            UnixSockets.close(sv[0]);
        }
    }
}
