package io.vfsgw.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventFdsTest {

    @Test
    void exclusiveWaiterReportsEachSignalOnceWithoutReadingTheCounter() throws Exception {
        int a = EventFds.create(true);
        int b = EventFds.create(true);
        int waiter = EventFds.exclusiveWaiter(a, b);
        try {
            ByteBuffer events = EventFds.eventBuffer();
            assertEquals(0, EventFds.awaitExclusive(waiter, events, 10), "nothing signalled yet");
            EventFds.signal(a);
            assertEquals(1, EventFds.awaitExclusive(waiter, events, 1000));
            assertEquals(0, EventFds.awaitExclusive(waiter, events, 10), "a signal is reported once, unread");
            EventFds.signal(b);
            EventFds.signal(a);
            assertEquals(3, EventFds.awaitExclusive(waiter, events, 1000));
            assertEquals(0, EventFds.awaitExclusive(waiter, events, 10));
            assertEquals(2, EventFds.read(a), "the waits left the counter alone");
        } finally {
            EventFds.close(waiter);
            EventFds.close(a);
            EventFds.close(b);
        }
    }

    @Test
    void exclusiveWaiterRefusesWhatIsNotAnEventfd() throws Exception {
        int a = EventFds.create(true);
        int[] sv = UnixSockets.socketpair();
        try {
            FsException e = assertThrows(FsException.class, () -> EventFds.exclusiveWaiter(a, sv[0]));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("not an eventfd"), e.getMessage());
            assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> EventFds.exclusiveWaiter(a, 1 << 20)).errno(),
                    "a closed fd number");
        } finally {
            EventFds.close(a);
            UnixSockets.close(sv[0]);
            UnixSockets.close(sv[1]);
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
            assertThrows(FsException.class, () -> EventFds.read(sv[0]));
        } finally {
            UnixSockets.close(sv[0]);
        }
    }
}
