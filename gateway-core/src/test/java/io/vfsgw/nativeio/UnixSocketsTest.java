package io.vfsgw.nativeio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixSocketsTest {

    @Test
    void passesBytesAndDescriptorsOverASocketpair() throws Exception {
        int[] sv = UnixSockets.socketpair();
        int memfd = MemoryMaps.memfdCreate("fdpass", 4096);
        try {
            ByteBuffer out = ByteBuffer.allocateDirect(5);
            out.put(new byte[] {1, 2, 3, 4, 5}).flip();
            UnixSockets.sendmsg(sv[0], out, memfd, memfd);
            assertFalse(out.hasRemaining());

            ByteBuffer in = ByteBuffer.allocateDirect(16);
            UnixSockets.Received r = UnixSockets.recvmsg(sv[1], in);
            assertEquals(5, r.bytes());
            assertEquals(5, in.position());
            assertEquals(2, r.fds().length);
            assertFalse(r.controlTruncated());
            // The received fd is a new descriptor for the same memfd: what one writes, the other sees.
            try (MemoryMaps.Mapping a = MemoryMaps.map(memfd, 0, 4096, true);
                 MemoryMaps.Mapping b = MemoryMaps.map(r.fds()[0], 0, 4096, true)) {
                a.view(100, 8).putLong(0, 0x1122334455667788L);
                assertEquals(0x1122334455667788L, b.view(100, 8).getLong(0));
            }
            for (int fd : r.fds()) {
                assertTrue(fd != memfd);
                UnixSockets.close(fd);
            }
        } finally {
            UnixSockets.close(memfd);
            UnixSockets.close(sv[0]);
            UnixSockets.close(sv[1]);
        }
    }

    @Test
    void moreThanEightDescriptorsAreReportedAsTruncated() throws Exception {
        int[] sv = UnixSockets.socketpair();
        int[] fds = new int[10];
        try {
            for (int i = 0; i < fds.length; i++) {
                fds[i] = EventFds.create(true);
            }
            // sendmsg refuses more than MAX_FDS, so build the over-full message through two sends is
            // impossible; instead check the API guard and that exactly eight arrive intact.
            assertThrows(IllegalArgumentException.class,
                    () -> UnixSockets.sendmsg(sv[0], ByteBuffer.allocateDirect(1), fds));
            int[] eight = java.util.Arrays.copyOf(fds, 8);
            UnixSockets.sendmsg(sv[0], ByteBuffer.allocateDirect(1), eight);
            UnixSockets.Received r = UnixSockets.recvmsg(sv[1], ByteBuffer.allocateDirect(4));
            assertEquals(8, r.fds().length);
            for (int fd : r.fds()) {
                UnixSockets.close(fd);
            }
        } finally {
            for (int fd : fds) {
                EventFds.close(fd);
            }
            UnixSockets.close(sv[0]);
            UnixSockets.close(sv[1]);
        }
    }

    @Test
    void endOfStreamIsZeroBytesAndClosedPeerIsEpipe() throws Exception {
        int[] sv = UnixSockets.socketpair();
        UnixSockets.close(sv[1]);
        try {
            UnixSockets.Received r = UnixSockets.recvmsg(sv[0], ByteBuffer.allocateDirect(4));
            assertEquals(0, r.bytes());
            FsException e = assertThrows(FsException.class,
                    () -> UnixSockets.sendmsg(sv[0], ByteBuffer.allocateDirect(4)));
            assertEquals(Errno.EPIPE, e.errno());
        } finally {
            UnixSockets.close(sv[0]);
        }
    }

    @Test
    void listensAcceptsConnectsAndShutdownWakesAccept(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("s.sock");
        int listener = UnixSockets.socket();
        try {
            UnixSockets.bind(listener, path);
            UnixSockets.listen(listener, 1);
            assertTrue(Files.exists(path));
            int client = UnixSockets.socket();
            UnixSockets.connect(client, path);
            int server = UnixSockets.accept(listener);
            ByteBuffer b = ByteBuffer.allocateDirect(3);
            b.put(new byte[] {7, 8, 9}).flip();
            UnixSockets.sendmsg(client, b);
            ByteBuffer in = ByteBuffer.allocateDirect(3);
            UnixSockets.recvmsg(server, in);
            byte[] got = new byte[3];
            in.flip().get(got);
            assertArrayEquals(new byte[] {7, 8, 9}, got);
            UnixSockets.close(client);
            UnixSockets.close(server);

            CompletableFuture<Throwable> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    UnixSockets.close(UnixSockets.accept(listener));
                    return null;
                } catch (FsException e) {
                    return e;
                }
            });
            // Whether accept is already blocked or not, shutdown makes it fail (EINVAL on Linux).
            UnixSockets.shutdown(listener);
            Throwable t = accepted.get(10, TimeUnit.SECONDS);
            assertTrue(t instanceof FsException, "accept must fail after shutdown");
        } finally {
            UnixSockets.close(listener);
        }
    }

    @Test
    void tooLongPathIsRejected() throws Exception {
        int fd = UnixSockets.socket();
        try {
            FsException e = assertThrows(FsException.class,
                    () -> UnixSockets.bind(fd, Path.of("/tmp/" + "x".repeat(120))));
            assertEquals(Errno.ENAMETOOLONG, e.errno());
        } finally {
            UnixSockets.close(fd);
        }
    }
}
