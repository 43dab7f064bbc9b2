package io.vfsgw.transport.vhostuser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.nativeio.EventFds;
import io.vfsgw.nativeio.UnixSockets;
import io.vfsgw.testing.FdFlags;
import io.vfsgw.transport.vhostuser.device.BackendOptions;
import io.vfsgw.transport.vhostuser.protocol.FrontendRequest;
import io.vfsgw.transport.vhostuser.protocol.VhostUserFeatures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server end to end against the test front end: set-up, requests, stop, reconnect. */
class VhostUserServerIT {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final long MEM = 4L << 20;

    @TempDir
    Path dir;
    Path socket;
    EchoFuseHandler fuse;
    VhostUserServer server;

    /**
     * Loads the jnr-ffi bindings once so the start-up check below measures the server, not the
     * one-time native stub generation of the JVM (0.3-1 s on these loaded machines; the CLI can
     * pay it before printing "ready", it is not per connection).
     */
    @BeforeAll
    static void loadNativeBindings() throws Exception {
        for (int fd : UnixSockets.socketpair()) {
            UnixSockets.close(fd);
        }
    }

    java.util.Map<Integer, String> fdsBefore;

    @BeforeEach
    void start() throws Exception {
        fdsBefore = io.vfsgw.testing.OpenFds.snapshot();
        socket = dir.resolve("vfsgw.sock");
        fuse = new EchoFuseHandler();
        long t0 = System.nanoTime();
        server = VhostUserServer.start(socket, VhostUserOptions.defaults("myfs"), fuse);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 1000, "start-up to a listening socket took " + ms + " ms");
        assertTrue(Files.exists(socket));
    }

    @AfterEach
    void stop() {
        server.close();
        assertFalse(Files.exists(socket), "close() removes the socket file");
        io.vfsgw.testing.OpenFds.assertNoLeak(fdsBefore, java.time.Duration.ofSeconds(5), "server closed");
        assertEquals(0, guestRamMappings(), "guest memory still mapped after the front end left");
    }

    /** mmaps of the test front end's RAM memfd in this JVM (the server's and the front end's own). */
    static long guestRamMappings() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("memfd:guest-ram")).count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Open fds of this JVM: every fd the server received must be closed again. */
    static int openFds() {
        String[] l = new java.io.File("/proc/self/fd").list();
        return l == null ? -1 : l.length;
    }

    /** Writes a FUSE in-header (and {@code extra} body bytes) at a fresh gpa; returns the gpa. */
    static long fuseRequest(TestVhostUserFrontend fe, int opcode, long unique, int extra) {
        long gpa = fe.alloc(EchoFuseHandler.IN_HEADER + extra, 8);
        int o = fe.off(gpa);
        fe.ram.putInt(o, EchoFuseHandler.IN_HEADER + extra).putInt(o + 4, opcode).putLong(o + 8, unique);
        return gpa;
    }

    static TestVhostUserFrontend readyFrontend(Path socket) throws Exception {
        TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, MEM);
        fe.negotiate();
        assertEquals(0, fe.setMemTable());
        return fe;
    }

    /** Submits one well-formed request on {@code q} and checks the echoed reply. */
    static void roundTrip(TestVhostUserFrontend fe, TestVhostUserFrontend.Queue q, long unique) throws Exception {
        long in = fuseRequest(fe, 1, unique, 0);
        long out = fe.alloc(64, 8);
        int head = q.submitChain(new long[] {in, out}, new int[] {EchoFuseHandler.IN_HEADER, 64}, new boolean[] {false, true});
        q.kick();
        TestVhostUserFrontend.Used u = q.awaitUsed(WAIT);
        assertNotNull(u, "no used entry for unique " + unique);
        assertEquals(head, u.id());
        assertEquals(EchoFuseHandler.OUT_HEADER, u.len());
        assertEquals(-EchoFuseHandler.ENOSYS, fe.ram.getInt(fe.off(out) + 4));
        assertEquals(unique, fe.ram.getLong(fe.off(out) + 8));
    }

    @Test
    void negotiatesFeaturesAndServesConfigSpace() throws Exception {
        try (TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, MEM)) {
            long f = fe.getU64(FrontendRequest.GET_FEATURES);
            assertEquals(TestVhostUserFrontend.FEATURES, f & TestVhostUserFrontend.FEATURES);
            assertEquals(0, f & (1L << 33), "VIRTIO_F_IOMMU_PLATFORM must not be offered");
            long p = fe.getU64(FrontendRequest.GET_PROTOCOL_FEATURES);
            assertEquals(TestVhostUserFrontend.PROTOCOL_FEATURES, p & TestVhostUserFrontend.PROTOCOL_FEATURES);
            assertEquals(VhostUserFeatures.PROTOCOL_F_INFLIGHT_SHMFD, p & VhostUserFeatures.PROTOCOL_F_INFLIGHT_SHMFD);
            assertEquals(0, p & VhostUserFeatures.PROTOCOL_F_CONFIG, "CONFIG only on request (QEMU 7.2 warns)");
            fe.negotiate();
            assertEquals(2, fe.getU64(FrontendRequest.GET_QUEUE_NUM));
            assertEquals(32, fe.getU64(FrontendRequest.GET_MAX_MEM_SLOTS));

            TestVhostUserFrontend.Reply r = fe.getConfig(0, 40);
            assertEquals(12 + 40, r.header().size());
            byte[] tag = new byte[4];
            r.payload().get(12, tag);
            assertEquals("myfs", new String(tag, StandardCharsets.UTF_8));
            assertEquals(0, r.payload().get(12 + 4));
            assertEquals(1, r.payload().getInt(12 + 36));
            // Out of range: a reply with a config header only.
            assertEquals(12, fe.getConfig(30, 20).header().size());

            assertTrue(server.backendRequestFd().isEmpty());
            int[] channel = UnixSockets.socketpair();
            fe.send(FrontendRequest.SET_BACKEND_REQ_FD.code(),
                    io.vfsgw.transport.vhostuser.protocol.MessageHeader.VERSION
                            | io.vfsgw.transport.vhostuser.protocol.MessageHeader.NEED_REPLY, null, channel[1]);
            UnixSockets.close(channel[1]);
            assertEquals(0, fe.readReply().u64());
            assertTrue(server.backendRequestFd().isPresent(), "the back-end channel is kept for DAX");
            UnixSockets.close(channel[0]);

            assertEquals(0, fe.setU64(FrontendRequest.SET_STATUS, 0xf));
            assertEquals(0xf, fe.getU64(FrontendRequest.GET_STATUS));
        }
    }

    @Test
    void configProtocolFeatureIsOfferedWhenAsked() throws Exception {
        Path p = dir.resolve("cfg.sock");
        BackendOptions withConfig = BackendOptions.DEFAULTS.withOfferConfig(true);
        try (VhostUserServer s = VhostUserServer.start(p, VhostUserOptions.defaults("x").withBackend(withConfig), fuse);
             TestVhostUserFrontend fe = TestVhostUserFrontend.connect(s.socketPath(), MEM)) {
            long f = fe.getU64(FrontendRequest.GET_PROTOCOL_FEATURES);
            assertEquals(VhostUserFeatures.PROTOCOL_F_CONFIG, f & VhostUserFeatures.PROTOCOL_F_CONFIG);
        }
    }

    @Test
    void fuseRequestGoesThroughTheRingAndBack() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue hiprio = fe.setUpQueue(0, 8);
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 16);
            for (int i = 0; i < 40; i++) { // more than the ring size: exercises wrap-around
                roundTrip(fe, q, 1000 + i);
            }
            roundTrip(fe, hiprio, 7);
            assertEquals(41, fuse.seen.size());
            // GET_VRING_BASE stops the ring and reports how far it got.
            assertEquals(40, fe.getVringBase(1));
            assertEquals(1, fe.getVringBase(0));
        }
    }

    @Test
    void requestSpreadOverSeveralDescriptorsArrivesInOrder() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 16);
            long hdr = fuseRequest(fe, 16, 55, 0);
            long body1 = fe.alloc(100, 8);
            long body2 = fe.alloc(3000, 8);
            long out1 = fe.alloc(8, 8);
            long out2 = fe.alloc(4096, 8);
            int head = q.submitChain(new long[] {hdr, body1, body2, out1, out2},
                    new int[] {40, 100, 3000, 16, 4096}, new boolean[] {false, false, false, true, true});
            q.kick();
            TestVhostUserFrontend.Used u = q.awaitUsed(WAIT);
            assertNotNull(u);
            assertEquals(head, u.id());
            assertEquals(3140, fuse.seen.get(0)[1], "all readable bytes handed over");
            assertEquals(55, fe.ram.getLong(fe.off(out1) + 8));
        }
    }

    @Test
    void indirectDescriptorTableIsFollowed() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 8);
            long in = fuseRequest(fe, 1, 77, 0);
            long out = fe.alloc(64, 8);
            long table = fe.alloc(32, 16);
            q.writeDescAt(table, 0, in, 40, 1, 1);
            q.writeDescAt(table, 1, out, 64, 2, 0);
            int head = q.takeDescs(1);
            q.writeDesc(head, table, 32, 4, 0);
            q.publish(head);
            q.kick();
            TestVhostUserFrontend.Used u = q.awaitUsed(WAIT);
            assertNotNull(u);
            assertEquals(head, u.id());
            assertEquals(16, u.len());
            assertEquals(77, fe.ram.getLong(fe.off(out) + 8));
        }
    }

    @Test
    void batchesCompletedConcurrentlyComeBackExactlyOnce() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 64);
            long[] outs = new long[32];
            long[] ins = new long[32];
            for (int i = 0; i < 32; i++) {
                ins[i] = fe.alloc(40, 8);
                outs[i] = fe.alloc(64, 8);
            }
            for (int batch = 0; batch < 10; batch++) {
                java.util.Set<Integer> heads = new java.util.HashSet<>();
                for (int i = 0; i < 32; i++) {
                    long unique = batch * 100L + i;
                    fe.ram.putInt(fe.off(ins[i]), 40).putInt(fe.off(ins[i]) + 4, 1).putLong(fe.off(ins[i]) + 8, unique);
                    int head = q.submitChain(new long[] {ins[i], outs[i]}, new int[] {40, 64}, new boolean[] {false, true});
                    heads.add(head);
                    fe.ram.putLong(fe.off(outs[i]) + 8, -1);
                }
                q.kick();
                java.util.Set<Integer> returned = new java.util.HashSet<>();
                for (int i = 0; i < 32; i++) {
                    TestVhostUserFrontend.Used u = q.awaitUsed(WAIT);
                    assertNotNull(u, "batch " + batch + ": only " + i + " of 32 came back");
                    assertTrue(returned.add(u.id()), "head " + u.id() + " returned twice");
                    assertEquals(16, u.len());
                }
                assertEquals(heads, returned);
                for (int i = 0; i < 32; i++) {
                    assertEquals(batch * 100L + i, fe.ram.getLong(fe.off(outs[i]) + 8));
                }
            }
            assertEquals(320, fuse.seen.size());
            assertEquals(320, fe.getVringBase(1));
        }
    }

    @Test
    void slowRequestDoesNotHoldBackLaterOnes() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 16);
            long slowIn = fuseRequest(fe, EchoFuseHandler.SLOW_OPCODE, 1, 0);
            long slowOut = fe.alloc(64, 8);
            int slowHead = q.submitChain(new long[] {slowIn, slowOut}, new int[] {40, 64}, new boolean[] {false, true});
            q.kick();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!fuse.isParked(1) && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertTrue(fuse.isParked(1));
            roundTrip(fe, q, 2); // answered while the slow one is still pending
            fuse.release(1);
            TestVhostUserFrontend.Used u = q.awaitUsed(WAIT);
            assertNotNull(u);
            assertEquals(slowHead, u.id());
            assertEquals(1, fe.ram.getLong(fe.off(slowOut) + 8));
        }
    }

    @Test
    void theHighPriorityQueueHasOneThreadAndRequestQueuesTheirCrew() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue hiprio = fe.setUpQueue(0, 16);
            TestVhostUserFrontend.Queue requests = fe.setUpQueue(1, 16);
            roundTrip(fe, hiprio, 1);
            roundTrip(fe, requests, 2);
            // Earlier tests' crews end asynchronously after their disconnects: wait for the counts.
            long deadline = System.nanoTime() + WAIT.toNanos();
            while ((queueThreads(0) != 1 || queueThreads(1) != 4) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(1, queueThreads(0), "threads serving the high-priority queue (FORGET, INTERRUPT)");
            assertEquals(4, queueThreads(1), "threads serving a request queue (the default crew)");
        }
    }

    private static long queueThreads(int queue) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("vfsgw-vq" + queue + "-")).count();
    }

    @Test
    void ringsServeWithoutSetVringEnableAndObeyDisable() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 8, false);
            roundTrip(fe, q, 1);
            assertEquals(0, fe.vringState(FrontendRequest.SET_VRING_ENABLE, 1, 0));
            long in = fuseRequest(fe, 1, 2, 0);
            long out = fe.alloc(64, 8);
            q.submitChain(new long[] {in, out}, new int[] {40, 64}, new boolean[] {false, true});
            q.kick();
            assertEquals(null, q.awaitUsed(Duration.ofMillis(200)), "a disabled ring is not processed");
            assertEquals(0, fe.vringState(FrontendRequest.SET_VRING_ENABLE, 1, 1));
            TestVhostUserFrontend.Used u = q.awaitUsed(WAIT);
            assertNotNull(u, "enabling processes what was kicked meanwhile");
            assertEquals(2, fe.ram.getLong(fe.off(out) + 8));
        }
    }

    @Test
    void aNewCallFdIsSignalledSoACompletionSentToAMaskedOneIsNotLost() throws Exception {
        // QEMU masks a vector by pointing the call fd at a notifier it stops watching, and unmasks by
        // pointing it back. A chain completed in between must still interrupt the driver.
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 8);
            roundTrip(fe, q, 1);
            int masked = EventFds.create(true);
            int unmasked = EventFds.create(true);
            try {
                assertEquals(0, fe.vringFd(FrontendRequest.SET_VRING_CALL, 1, masked));
                long in = fuseRequest(fe, 1, 2, 0);
                long out = fe.alloc(64, 8);
                q.submitChain(new long[] {in, out}, new int[] {EchoFuseHandler.IN_HEADER, 64}, new boolean[] {false, true});
                int usedBefore = q.usedIdx();
                q.kick();
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (q.usedIdx() == usedBefore) {
                    assertTrue(System.nanoTime() < deadline, "the request was not completed");
                    EventFds.awaitReadable(masked, masked, 100);
                }
                EventFds.read(masked); // what went to the masked notifier is nobody's interrupt
                assertEquals(0, fe.vringFd(FrontendRequest.SET_VRING_CALL, 1, unmasked));
                assertTrue((EventFds.awaitReadable(unmasked, unmasked, (int) WAIT.toMillis()) & 1) != 0,
                        "the driver was never told about the chain completed while its vector was masked");
            } finally {
                EventFds.close(masked);
                EventFds.close(unmasked);
            }
        }
    }

    @Test
    void nextFrontendStartsFreshAfterADisconnect() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            roundTrip(fe, fe.setUpQueue(1, 8), 1);
        }
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            // Fresh memory and rings: if old state survived, base or memory would be wrong.
            roundTrip(fe, fe.setUpQueue(1, 8), 2);
        }
        assertEquals(2, fuse.seen.size());
    }

    @Test
    void aSecondFrontendOnABusySocketIsRefusedAndTheFirstKeepsWorking() throws Exception {
        try (TestVhostUserFrontend first = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = first.setUpQueue(1, 8);
            roundTrip(first, q, 1);
            long t0 = System.nanoTime();
            try (TestVhostUserFrontend second = TestVhostUserFrontend.connect(socket, MEM)) {
                // Without the refusal, this read would wait for an answer that never comes.
                assertTrue(second.isClosedByServer(), "the second front end is disconnected");
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 10_000, "refused after " + ms + " ms");
            roundTrip(first, q, 2);
        }
        // Once the first has gone, the socket takes the next front end.
        try (TestVhostUserFrontend next = readyFrontend(socket)) {
            roundTrip(next, next.setUpQueue(1, 8), 3);
        }
        assertEquals(3, fuse.seen.size());
    }

    @Test
    void memoryTableCanBeBuiltWithAddAndRemoveRegion() throws Exception {
        try (TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, MEM)) {
            fe.negotiate();
            assertEquals(0, fe.addMemRegion());
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 8);
            roundTrip(fe, q, 9);
            assertEquals(1, fe.getVringBase(1));
            assertEquals(0, fe.remMemRegion());
            assertTrue(fe.remMemRegion() != 0, "removing an absent region is refused");
        }
    }

    @Test
    void staleSocketFileIsReplacedButALiveOneIsNot() throws Exception {
        Path stale = dir.resolve("stale.sock");
        int fd = UnixSockets.socket();
        UnixSockets.bind(fd, stale);
        UnixSockets.close(fd); // leaves the file, nobody listening
        try (VhostUserServer s = VhostUserServer.start(stale, VhostUserOptions.defaults("x"), fuse)) {
            assertTrue(Files.exists(s.socketPath()));
            IOException e = assertThrows(IOException.class,
                    () -> VhostUserServer.start(stale, VhostUserOptions.defaults("x"), fuse));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
        Path regular = Files.writeString(dir.resolve("file"), "x");
        assertThrows(IOException.class, () -> VhostUserServer.start(regular, VhostUserOptions.defaults("x"), fuse));
        assertTrue(Files.exists(regular));
    }

    @Test
    void socketGroupSetsGroupAndMode() throws Exception {
        Path p = dir.resolve("grp.sock");
        try (VhostUserServer s = VhostUserServer.start(p, VhostUserOptions.defaults("x").withSocketGroup("root"), fuse)) {
            assertEquals("root", Files.getAttribute(s.socketPath(), "posix:group").toString());
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
    }

    @Test
    void socketsThatCannotBeMadeSayWhyAndLeaveNothingBehind() {
        Path inMissingDir = dir.resolve("no-such-dir/x.sock");
        IOException e = assertThrows(IOException.class,
                () -> VhostUserServer.start(inMissingDir, VhostUserOptions.defaults("x"), fuse));
        assertTrue(e.getMessage().contains("the directory " + dir.resolve("no-such-dir") + " does not exist"),
                e.getMessage());

        Path grp = dir.resolve("nogroup.sock");
        e = assertThrows(IOException.class, () -> VhostUserServer.start(grp,
                VhostUserOptions.defaults("x").withSocketGroup("no-such-group-vfsgw"), fuse));
        assertTrue(e.getMessage().contains("'no-such-group-vfsgw': there is no such group"), e.getMessage());
        assertFalse(Files.exists(grp, LinkOption.NOFOLLOW_LINKS), "no socket left for a group that failed");

        Path tooLong = dir.resolve("s".repeat(120) + ".sock");
        e = assertThrows(IOException.class, () -> VhostUserServer.start(tooLong, VhostUserOptions.defaults("x"), fuse));
        assertTrue(e.getMessage().contains("longer than the 107 bytes"), e.getMessage());
    }

    @Test
    void aListeningSocketInheritedAsAnFdIsServedAndItsFileLeftToItsOwner() throws Exception {
        Path p = dir.resolve("libvirt.sock");
        int fd = UnixSockets.socket();
        UnixSockets.bind(fd, p);
        UnixSockets.listen(fd, 1);
        FdFlags.setNonBlocking(fd); // libvirt passes it so; accept would fail with EAGAIN at once
        try (VhostUserServer s = VhostUserServer.adopt(fd, VhostUserOptions.defaults("x"), () -> fuse)) {
            assertEquals(p, s.socketPath());
            assertEquals("fd " + fd + " (" + p + ")", s.where());
            assertFalse(FdFlags.isNonBlocking(fd));
            try (TestVhostUserFrontend fe = readyFrontend(p)) {
                roundTrip(fe, fe.setUpQueue(1, 8), 11);
            }
            try (TestVhostUserFrontend fe = readyFrontend(p)) { // and the next VM after it
                roundTrip(fe, fe.setUpQueue(1, 8), 12);
            }
        }
        assertTrue(Files.exists(p, LinkOption.NOFOLLOW_LINKS), "the socket file is left to whoever bound it");
        Files.delete(p);
    }

    @Test
    void anFdThatIsNotAListeningUnixSocketIsRefusedWithTheReason() throws Exception {
        int unlistened = UnixSockets.socket();
        int eventFd = EventFds.create(false);
        int closed = UnixSockets.socket();
        UnixSockets.close(closed);
        try {
            IOException e = assertThrows(IOException.class,
                    () -> VhostUserServer.adopt(unlistened, VhostUserOptions.defaults("x"), () -> fuse));
            assertEquals("cannot serve on fd " + unlistened + ": it is not a listening Unix stream socket", e.getMessage());
            e = assertThrows(IOException.class, () -> VhostUserServer.adopt(eventFd, VhostUserOptions.defaults("x"), () -> fuse));
            assertEquals("cannot serve on fd " + eventFd + ": it is not a socket", e.getMessage());
            e = assertThrows(IOException.class, () -> VhostUserServer.adopt(closed, VhostUserOptions.defaults("x"), () -> fuse));
            assertEquals("cannot serve on fd " + closed + ": it is not open in this process (did the parent pass it?)",
                    e.getMessage());
        } finally {
            UnixSockets.close(unlistened);
            EventFds.close(eventFd);
        }
    }

    @Test
    void exitOnDisconnectStopsTheServer() throws Exception {
        Path p = dir.resolve("once.sock");
        try (VhostUserServer s = VhostUserServer.start(p, VhostUserOptions.defaults("x").withExitOnDisconnect(true), fuse)) {
            try (TestVhostUserFrontend fe = TestVhostUserFrontend.connect(p, MEM)) {
                fe.negotiate();
            }
            s.terminated().get(10, TimeUnit.SECONDS);
            assertTrue(s.terminated().isDone());
        }
    }
}
