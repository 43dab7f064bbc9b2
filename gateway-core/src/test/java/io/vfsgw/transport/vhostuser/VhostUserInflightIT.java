package io.vfsgw.transport.vhostuser;

import static io.vfsgw.transport.vhostuser.VhostUserServerIT.WAIT;
import static io.vfsgw.transport.vhostuser.VhostUserServerIT.fuseRequest;
import static io.vfsgw.transport.vhostuser.VhostUserServerIT.roundTrip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.nativeio.EventFds;
import io.vfsgw.nativeio.MemoryMaps;
import io.vfsgw.nativeio.PosixFiles;
import io.vfsgw.nativeio.UnixSockets;
import io.vfsgw.testing.OpenFds;
import io.vfsgw.transport.vhostuser.device.BackendOptions;
import io.vfsgw.transport.vhostuser.device.InflightRegion;
import io.vfsgw.transport.vhostuser.protocol.FrontendRequest;
import io.vfsgw.transport.vhostuser.protocol.MessageHeader;
import io.vfsgw.transport.vhostuser.protocol.VhostUserFeatures;
import io.vfsgw.transport.vhostuser.protocol.VhostUserInflight;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD end to end with the test front end: the buffer GET_INFLIGHT_FD
 * hands out, the marks a held request leaves in it, a reconnect that resubmits what was in flight
 * exactly once, and hostile GET/SET_INFLIGHT_FD messages.
 */
class VhostUserInflightIT {
    static final long INFLIGHT = VhostUserFeatures.PROTOCOL_F_INFLIGHT_SHMFD;
    static final int QSIZE = 16;
    static final long STRIDE = InflightRegion.queueRegionSize(QSIZE);

    @TempDir
    Path dir;
    Path socket;
    EchoFuseHandler fuse;
    VhostUserServer server;
    Map<Integer, String> fdsBefore;
    final List<Integer> fdsToClose = new ArrayList<>();
    final List<MemoryMaps.Mapping> maps = new ArrayList<>();

    /** Native set-up done once per JVM (jnr stubs; it leaves a socket open) must not count as a leak. */
    @BeforeAll
    static void loadNativeBindings() throws Exception {
        VhostUserServerIT.loadNativeBindings();
    }

    @BeforeEach
    void start() throws Exception {
        fdsBefore = OpenFds.snapshot();
        socket = dir.resolve("i.sock");
        fuse = new EchoFuseHandler();
        // One worker per queue: requests reach the handler in the order they were popped. A short
        // drain so a front end that leaves with requests held is let go quickly.
        BackendOptions b = new BackendOptions(1, 1024, 32, Duration.ofMillis(300), false);
        server = VhostUserServer.start(socket, VhostUserOptions.defaults("inf").withBackend(b), fuse);
    }

    @AfterEach
    void stop() {
        server.close();
        maps.forEach(MemoryMaps.Mapping::close);
        fdsToClose.forEach(UnixSockets::close);
        OpenFds.assertNoLeak(fdsBefore, Duration.ofSeconds(5), "server closed");
        assertEquals(0, VhostUserServerIT.guestRamMappings(), "guest memory still mapped");
        assertEquals(0, mappingsOf("memfd:vfsgw-inflight"), "inflight buffer still mapped");
    }

    static long mappingsOf(String name) {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains(name)).count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.onSpinWait();
        }
    }

    TestVhostUserFrontend connect() throws Exception {
        TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, VhostUserServerIT.MEM);
        fe.negotiate(INFLIGHT);
        assertEquals(0, fe.setMemTable());
        return fe;
    }

    /** GET_INFLIGHT_FD for the device's 2 queues, then SET_INFLIGHT_FD of the same buffer, as QEMU does. */
    TestVhostUserFrontend.Inflight inflightBuffer(TestVhostUserFrontend fe) throws Exception {
        TestVhostUserFrontend.Inflight inf = fe.getInflightFd(2, QSIZE);
        assertTrue(inf.fd() >= 0, "GET_INFLIGHT_FD came without an fd");
        fdsToClose.add(inf.fd());
        assertEquals(0, fe.setInflightFd(inf.layout(), inf.fd()));
        return inf;
    }

    /** The front end's own view of the buffer, to look at what the back end wrote. */
    ByteBuffer view(TestVhostUserFrontend.Inflight inf) throws Exception {
        MemoryMaps.Mapping m = MemoryMaps.map(inf.fd(), 0, inf.layout().mmapSize(), true);
        maps.add(m);
        return m.view(0, (int) inf.layout().mmapSize());
    }

    static int descAt(int queue, int head) {
        return (int) (STRIDE * queue) + 16 + 16 * head;
    }

    static int inflightFlag(ByteBuffer b, int queue, int head) {
        return b.get(descAt(queue, head));
    }

    static int usedIdxField(ByteBuffer b, int queue) {
        return b.getShort((int) (STRIDE * queue) + 14) & 0xffff;
    }

    int submitSlow(TestVhostUserFrontend fe, TestVhostUserFrontend.Queue q, long unique) throws Exception {
        long in = fuseRequest(fe, EchoFuseHandler.SLOW_OPCODE, unique, 0);
        long out = fe.alloc(64, 8);
        return q.submitChain(new long[] {in, out}, new int[] {40, 64}, new boolean[] {false, true});
    }

    @Test
    void getInflightFdGivesAZeroedBufferSizedForTheQueues() throws Exception {
        try (TestVhostUserFrontend fe = connect()) {
            TestVhostUserFrontend.Inflight inf = fe.getInflightFd(2, QSIZE);
            fdsToClose.add(inf.fd());
            assertEquals(new VhostUserInflight(2 * STRIDE, 0, 2, QSIZE), inf.layout());
            assertEquals(640, inf.layout().mmapSize(), "2 x ALIGN_UP(16 x 16 + 2, 64)");
            assertTrue(inf.fd() >= 0);
            assertEquals(640, PosixFiles.fstat(inf.fd()).size());
            ByteBuffer b = view(inf);
            for (int i = 0; i < 640; i++) {
                assertEquals(0, b.get(i), "byte " + i);
            }
            // QEMU's default vhost-user-fs queue size.
            TestVhostUserFrontend.Inflight big = fe.getInflightFd(2, 128);
            fdsToClose.add(big.fd());
            assertEquals(2 * 2112, big.layout().mmapSize());
        }
    }

    @Test
    void stoppingTheRingReturnsAsSoonAsTheLastHeldRequestCompletes() throws Exception {
        // A server whose drain timeout is far longer than the test may take: GET_VRING_BASE must
        // return when the held request completes, not when the timeout runs out.
        Path slowSocket = dir.resolve("drain.sock");
        BackendOptions b = new BackendOptions(1, 1024, 32, Duration.ofSeconds(60), false);
        try (VhostUserServer s = VhostUserServer.start(slowSocket, VhostUserOptions.defaults("drn").withBackend(b), fuse);
             TestVhostUserFrontend fe = TestVhostUserFrontend.connect(slowSocket, VhostUserServerIT.MEM)) {
            fe.negotiate(INFLIGHT);
            assertEquals(0, fe.setMemTable());
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, QSIZE);
            submitSlow(fe, q, 21);
            q.kick();
            await(() -> fuse.isParked(21), "the slow request to reach the handler");
            CompletableFuture<Integer> base = CompletableFuture.supplyAsync(() -> {
                try {
                    return fe.getVringBase(1);
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            });
            await(VhostUserInflightIT::aRingIsWaitingForItsRequests, "GET_VRING_BASE to wait for the held request");
            long t0 = System.nanoTime();
            fuse.release(21);
            assertEquals(1, base.get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            assertTrue(System.nanoTime() - t0 < WAIT.toNanos(), "stopped once the request completed");
        }
    }

    /** Whether some thread of this JVM is inside Vring.stop, waiting for requests in flight. */
    static boolean aRingIsWaitingForItsRequests() {
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            if (e.getKey().getState() != Thread.State.TIMED_WAITING) {
                continue;
            }
            for (StackTraceElement f : e.getValue()) {
                if (f.getClassName().endsWith("device.Vring") && f.getMethodName().equals("stop")) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void heldRequestIsInFlightUntilItCompletes() throws Exception {
        try (TestVhostUserFrontend fe = connect()) {
            TestVhostUserFrontend.Inflight inf = inflightBuffer(fe);
            ByteBuffer b = view(inf);
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, QSIZE);
            assertEquals(1, b.getShort((int) STRIDE + 8), "version set when the ring starts");
            assertEquals(QSIZE, b.getShort((int) STRIDE + 10), "desc_num");

            roundTrip(fe, q, 1);
            assertEquals(0, inflightFlag(b, 1, 0), "a completed request is no longer in flight");
            assertEquals(1, b.getLong(descAt(1, 0) + 8), "its counter stays");
            assertEquals(1, usedIdxField(b, 1));

            int head = submitSlow(fe, q, 2);
            q.kick();
            await(() -> fuse.isParked(2), "the slow request to reach the handler");
            assertEquals(1, inflightFlag(b, 1, head), "held request marked in flight");
            assertEquals(2, b.getLong(descAt(1, head) + 8), "counter of the second pop");

            fuse.release(2);
            TestVhostUserFrontend.Used u = q.awaitUsed(WAIT);
            assertNotNull(u);
            assertEquals(head, u.id());
            assertEquals(0, inflightFlag(b, 1, head), "cleared once returned");
            assertEquals(2, usedIdxField(b, 1));
            assertEquals(head, b.getShort((int) STRIDE + 12), "last_batch_head");
            assertEquals(0, inflightFlag(b, 0, 0), "queue 0 untouched");
        }
    }

    @Test
    void reconnectResubmitsRequestsInFlightExactlyOnceInOrder() throws Exception {
        try (TestVhostUserFrontend fe = connect()) {
            TestVhostUserFrontend.Inflight inf = inflightBuffer(fe);
            ByteBuffer b = view(inf);
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, QSIZE);
            roundTrip(fe, q, 1);
            int first = submitSlow(fe, q, 10);
            int second = submitSlow(fe, q, 11);
            q.kick();
            await(() -> fuse.isParked(10) && fuse.isParked(11), "both slow requests held");
            assertEquals(1, inflightFlag(b, 1, first));
            assertEquals(1, inflightFlag(b, 1, second));
            int seenBefore = fuse.seen.size();

            // The front end goes away with two requests in flight and comes back with the same
            // memory, rings and inflight buffer; after a back-end crash QEMU can only send the used
            // idx as base (here 1), so the back end must work out where to resume by itself.
            fe.reconnect(socket);
            fe.negotiate(INFLIGHT);
            assertEquals(0, fe.setMemTable());
            assertEquals(0, fe.setInflightFd(inf.layout(), inf.fd()));
            fe.resumeQueue(q, q.usedIdx());

            await(() -> fuse.seen.size() == seenBefore + 2, "the two requests to be resubmitted");
            assertEquals(10, fuse.seen.get(seenBefore)[0], "oldest first");
            assertEquals(11, fuse.seen.get(seenBefore + 1)[0]);
            assertEquals(2, fuse.parkedCount(10), "the dead connection's copy and the resubmitted one");

            // Answering both copies: the dead connection's answer must not reach the ring.
            fuse.release(10);
            fuse.release(11);
            TestVhostUserFrontend.Used u1 = q.awaitUsed(WAIT);
            TestVhostUserFrontend.Used u2 = q.awaitUsed(WAIT);
            assertNotNull(u1);
            assertNotNull(u2);
            assertEquals(first, u1.id());
            assertEquals(second, u2.id());
            assertEquals(EchoFuseHandler.OUT_HEADER, u1.len());
            assertNull(q.awaitUsed(Duration.ofMillis(300)), "a request came back twice");
            assertEquals(3, q.usedIdx());
            assertEquals(0, inflightFlag(b, 1, first));
            assertEquals(0, inflightFlag(b, 1, second));
            assertEquals(3, usedIdxField(b, 1));

            // New requests continue at avail index 3, after the resubmitted ones.
            roundTrip(fe, q, 12);
            assertEquals(seenBefore + 3, fuse.seen.size());
            assertEquals(4, fe.getVringBase(1));
        }
    }

    @Test
    void reconnectWithNothingInFlightKeepsTheBase() throws Exception {
        try (TestVhostUserFrontend fe = connect()) {
            TestVhostUserFrontend.Inflight inf = inflightBuffer(fe);
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, QSIZE);
            roundTrip(fe, q, 1);
            roundTrip(fe, q, 2);
            fe.reconnect(socket);
            fe.negotiate(INFLIGHT);
            assertEquals(0, fe.setMemTable());
            assertEquals(0, fe.setInflightFd(inf.layout(), inf.fd()));
            fe.resumeQueue(q, q.usedIdx());
            roundTrip(fe, q, 3);
            assertEquals(3, fuse.seen.size(), "nothing resubmitted");
        }
    }

    @Test
    void absurdGetInflightFdIsRefusedAndTheConnectionGoesOn() throws Exception {
        try (TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, VhostUserServerIT.MEM)) {
            fe.negotiate(); // INFLIGHT_SHMFD not negotiated
            TestVhostUserFrontend.Inflight none = fe.getInflightFd(2, QSIZE);
            assertEquals(0, none.layout().mmapSize(), "refused without the protocol feature");
            assertEquals(-1, none.fd());
        }
        try (TestVhostUserFrontend fe = connect()) {
            int[][] shapes = {{0, 16}, {3, 16}, {0xffff, 16}, {2, 0}, {2, 2048}, {2, 0xffff}};
            for (int[] s : shapes) {
                TestVhostUserFrontend.Inflight r = fe.getInflightFd(s[0], s[1]);
                assertEquals(0, r.layout().mmapSize(), s[0] + " queues of " + s[1]);
                assertEquals(-1, r.fd(), "no fd with a refusal");
            }
            roundTrip(fe, fe.setUpQueue(1, QSIZE), 1);
            // Malformed: the wrong payload size ends the connection, never the server.
            ByteBuffer p = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
            fe.send(FrontendRequest.GET_INFLIGHT_FD.code(), MessageHeader.VERSION, p);
            assertTrue(fe.isClosedByServer());
        }
        try (TestVhostUserFrontend fe = connect()) {
            roundTrip(fe, fe.setUpQueue(1, QSIZE), 2);
        }
    }

    @Test
    void badSetInflightFdIsRefusedAndTheConnectionGoesOn() throws Exception {
        int small = MemoryMaps.memfdCreate("small", 100);
        fdsToClose.add(small);
        int right = MemoryMaps.memfdCreate("right", 640);
        fdsToClose.add(right);
        int eventFd = EventFds.create(true);
        fdsToClose.add(eventFd);
        try (TestVhostUserFrontend fe = connect()) {
            assertNotEquals(0, fe.setInflightFd(new VhostUserInflight(640, 0, 2, QSIZE), small), "fd too small");
            assertNotEquals(0, fe.setInflightFd(new VhostUserInflight(640, 4096, 2, QSIZE), right), "offset past the end");
            assertNotEquals(0, fe.setInflightFd(new VhostUserInflight(640, 100, 2, QSIZE), right), "range past the end");
            assertNotEquals(0, fe.setInflightFd(new VhostUserInflight(640, Long.MAX_VALUE - 10, 2, QSIZE), right),
                    "offset + size overflows");
            assertNotEquals(0, fe.setInflightFd(new VhostUserInflight(-1L, 0, 2, QSIZE), right), "size 2^64-1");
            assertNotEquals(0, fe.setInflightFd(new VhostUserInflight(320, 0, 2, QSIZE), right), "size below the shape");
            assertNotEquals(0, fe.setInflightFd(new VhostUserInflight(640, 0, 9, QSIZE), right), "too many queues");
            assertNotEquals(0, fe.setInflightFd(new VhostUserInflight(640, 0, 2, 0), right), "queue size 0");
            assertNotEquals(0, fe.setInflightFd(new VhostUserInflight(640, 0, 2, QSIZE), eventFd), "not a file");
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, QSIZE);
            assertNotEquals(0, fe.setInflightFd(new VhostUserInflight(640, 0, 2, QSIZE), right), "while a ring runs");
            roundTrip(fe, q, 1);
            // No fd at all: malformed, the connection ends.
            ByteBuffer p = ByteBuffer.allocate(VhostUserInflight.SIZE).order(ByteOrder.LITTLE_ENDIAN);
            new VhostUserInflight(640, 0, 2, QSIZE).encodeTo(p, 0);
            fe.send(FrontendRequest.SET_INFLIGHT_FD.code(), MessageHeader.VERSION, p);
            assertTrue(fe.isClosedByServer());
        }
        try (TestVhostUserFrontend fe = connect()) {
            roundTrip(fe, fe.setUpQueue(1, QSIZE), 2);
        }
    }

    @Test
    void garbageInTheBufferDoesNotBreakTheQueue() throws Exception {
        int fd = MemoryMaps.memfdCreate("garbage", 640);
        fdsToClose.add(fd);
        MemoryMaps.Mapping m = MemoryMaps.map(fd, 0, 640, true);
        maps.add(m);
        ByteBuffer b = m.view(0, 640);
        for (int i = 0; i < 640; i++) {
            b.put(i, (byte) 0xff); // version 0xffff, used_idx 0xffff, no flag equal to 1, heads out of range
        }
        try (TestVhostUserFrontend fe = connect()) {
            assertEquals(0, fe.setInflightFd(new VhostUserInflight(640, 0, 2, QSIZE), fd));
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, QSIZE);
            roundTrip(fe, q, 1);
            roundTrip(fe, q, 2);
            assertEquals(2, fuse.seen.size());
            assertEquals(2, usedIdxField(b, 1), "tracking goes on in step with the ring");
        }
    }
}
