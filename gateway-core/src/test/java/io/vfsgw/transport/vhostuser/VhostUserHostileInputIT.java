package io.vfsgw.transport.vhostuser;

import static io.vfsgw.transport.vhostuser.VhostUserServerIT.WAIT;
import static io.vfsgw.transport.vhostuser.VhostUserServerIT.fuseRequest;
import static io.vfsgw.transport.vhostuser.VhostUserServerIT.readyFrontend;
import static io.vfsgw.transport.vhostuser.VhostUserServerIT.roundTrip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.nativeio.EventFds;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.nativeio.PosixFiles;
import io.vfsgw.nativeio.UnixSockets;
import io.vfsgw.transport.vhostuser.protocol.FrontendRequest;
import io.vfsgw.transport.vhostuser.protocol.MessageHeader;
import io.vfsgw.transport.vhostuser.protocol.VhostUserConnection;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hostile guest or front end: every bad chain is returned empty (or skipped), every bad message
 * refused or the connection dropped, and the next well-formed request is still served.
 */
class VhostUserHostileInputIT {
    @TempDir
    Path dir;
    Path socket;
    EchoFuseHandler fuse;
    VhostUserServer server;

    java.util.Map<Integer, String> fdsBefore;

    @BeforeEach
    void start() throws Exception {
        fdsBefore = io.vfsgw.testing.OpenFds.snapshot();
        socket = dir.resolve("h.sock");
        fuse = new EchoFuseHandler();
        server = VhostUserServer.start(socket, VhostUserOptions.defaults("h"), fuse);
    }

    @AfterEach
    void stop() {
        server.close();
        io.vfsgw.testing.OpenFds.assertNoLeak(fdsBefore, java.time.Duration.ofSeconds(5), "server closed");
        assertEquals(0, VhostUserServerIT.guestRamMappings(), "guest memory still mapped");
    }

    /** The daemon still serves: a new front end connects, sets a ring up and gets an answer. */
    private void aNewFrontendIsServed() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            roundTrip(fe, fe.setUpQueue(1, 8), 1);
        }
    }

    /** Publishes {@code head} (whose descriptors the test wrote), expects it back with length 0, then a good request. */
    private void expectDroppedThenServed(TestVhostUserFrontend fe, TestVhostUserFrontend.Queue q, int head)
            throws Exception {
        int before = fuse.seen.size();
        q.publish(head);
        q.kick();
        TestVhostUserFrontend.Used u = q.awaitUsed(WAIT);
        assertNotNull(u, "bad chain must still be returned");
        assertEquals(head, u.id());
        assertEquals(0, u.len());
        assertEquals(before, fuse.seen.size(), "a bad chain never reaches the FUSE handler");
        roundTrip(fe, q, 4242);
    }

    @Test
    void descriptorOutsideGuestMemoryIsDropped() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 8);
            long out = fe.alloc(64, 8);
            int head = q.takeDescs(2);
            // Starts in memory, runs past the end of it.
            q.writeDesc(head, TestVhostUserFrontend.GPA_BASE + VhostUserServerIT.MEM - 8, 40, 1, head + 1);
            q.writeDesc(head + 1, out, 64, 2, 0);
            expectDroppedThenServed(fe, q, head);
            // Entirely below guest memory.
            head = q.takeDescs(1);
            q.writeDesc(head, 0x1000, 40, 0, 0);
            expectDroppedThenServed(fe, q, head);
            // Near 2^64: the end wraps around.
            head = q.takeDescs(1);
            q.writeDesc(head, -16L, 64, 0, 0);
            expectDroppedThenServed(fe, q, head);
        }
    }

    @Test
    void loopInAChainIsDropped() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 8);
            long in = fuseRequest(fe, 1, 1, 0);
            int head = q.takeDescs(2);
            q.writeDesc(head, in, 40, 1, head + 1);
            q.writeDesc(head + 1, in, 40, 1, head); // back to the head
            expectDroppedThenServed(fe, q, head);
            // A next index beyond the table.
            head = q.takeDescs(1);
            q.writeDesc(head, in, 40, 1, 200);
            expectDroppedThenServed(fe, q, head);
        }
    }

    @Test
    void badIndirectTablesAreDropped() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 8);
            long in = fuseRequest(fe, 1, 1, 0);
            long table = fe.alloc(64, 16);
            q.writeDescAt(table, 0, in, 40, 0, 0);
            int head = q.takeDescs(1);
            q.writeDesc(head, table, 24, 4, 0); // not a multiple of 16
            expectDroppedThenServed(fe, q, head);
            head = q.takeDescs(1);
            q.writeDesc(head, table, 0, 4, 0); // empty
            expectDroppedThenServed(fe, q, head);
            head = q.takeDescs(1);
            q.writeDesc(head, table, 16 * 100_000, 4, 0); // absurdly many entries
            expectDroppedThenServed(fe, q, head);
            // Nested indirect.
            q.writeDescAt(table, 0, table, 16, 4, 0);
            head = q.takeDescs(1);
            q.writeDesc(head, table, 16, 4, 0);
            expectDroppedThenServed(fe, q, head);
            // Loop inside an indirect table.
            q.writeDescAt(table, 0, in, 40, 1, 1);
            q.writeDescAt(table, 1, in, 40, 1, 0);
            head = q.takeDescs(1);
            q.writeDesc(head, table, 32, 4, 0);
            expectDroppedThenServed(fe, q, head);
        }
    }

    @Test
    void overflowingLengthsAndWrongOrderAreDropped() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 8);
            long in = fuseRequest(fe, 1, 1, 0);
            long out = fe.alloc(64, 8);
            int head = q.takeDescs(2);
            q.writeDesc(head, out, 0xfffffff0, 3, head + 1);
            q.writeDesc(head + 1, out, 0x7fffffff, 2, 0);
            expectDroppedThenServed(fe, q, head);
            // Readable after writable.
            head = q.takeDescs(2);
            q.writeDesc(head, out, 64, 3, head + 1);
            q.writeDesc(head + 1, in, 40, 0, 0);
            expectDroppedThenServed(fe, q, head);
        }
    }

    @Test
    void headIndexBeyondTheRingIsSkipped() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 8);
            q.publishRawHead(999);
            q.kick();
            roundTrip(fe, q, 5); // the bogus head is consumed and not returned; the next one is served
            assertEquals(1, fuse.seen.size());
            assertEquals(2, fe.getVringBase(1));
        }
    }

    @Test
    void unknownMessageIsRefusedAndTheConnectionGoesOn() throws Exception {
        try (TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, VhostUserServerIT.MEM)) {
            fe.negotiate();
            fe.send(99, MessageHeader.VERSION | MessageHeader.NEED_REPLY, ByteBuffer.allocate(16));
            TestVhostUserFrontend.Reply r = fe.readReply();
            assertEquals(99, r.header().request());
            assertNotEquals(0, r.u64());
            // SET_LOG_BASE is known but not served (no LOG_SHMFD): refused the same way, fd closed.
            int efd = EventFds.create(true);
            fe.send(FrontendRequest.SET_LOG_BASE.code(), MessageHeader.VERSION | MessageHeader.NEED_REPLY,
                    ByteBuffer.allocate(16), efd);
            EventFds.close(efd);
            assertNotEquals(0, fe.readReply().u64());
            assertEquals(0, fe.setMemTable());
            roundTrip(fe, fe.setUpQueue(1, 8), 1);
        }
    }

    @Test
    void ringSizeThatIsNotAPowerOfTwoIsRefused() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            assertNotEquals(0, fe.vringState(FrontendRequest.SET_VRING_NUM, 1, 100));
            assertNotEquals(0, fe.vringState(FrontendRequest.SET_VRING_NUM, 1, 0));
            assertNotEquals(0, fe.vringState(FrontendRequest.SET_VRING_NUM, 1, 65536));
            assertNotEquals(0, fe.vringState(FrontendRequest.SET_VRING_ENABLE, 1, 7));
            roundTrip(fe, fe.setUpQueue(1, 8), 1);
        }
    }

    @Test
    void badRingAddressesAreRefused() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            assertEquals(0, fe.vringState(FrontendRequest.SET_VRING_NUM, 1, 8));
            ByteBuffer a = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
            a.putInt(0, 1).putLong(8, 0xdead_0000L).putLong(16, 0xdead_0000L).putLong(24, 0xdead_0000L);
            fe.send(FrontendRequest.SET_VRING_ADDR.code(), MessageHeader.VERSION | MessageHeader.NEED_REPLY, a);
            assertEquals(0, fe.readReply().u64(), "addresses are only checked when the ring starts");
            int kick = EventFds.create(true);
            assertNotEquals(0, fe.vringFd(FrontendRequest.SET_VRING_KICK, 1, kick), "ring outside memory must not start");
            EventFds.close(kick);
            roundTrip(fe, fe.setUpQueue(1, 8), 1);
        }
    }

    @Test
    void kickFdThatCannotBeWaitedOnLeavesTheRingStopped() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 8);
            roundTrip(fe, q, 1);
            // A regular file as the new kick fd: epoll refuses it, so the ring cannot be watched.
            int file = PosixFiles.openat(PosixFiles.AT_FDCWD,
                    PosixFiles.cstr(socket.getParent().resolve("not-an-eventfd").toString()),
                    OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0600);
            try {
                assertNotEquals(0, fe.vringFd(FrontendRequest.SET_VRING_KICK, 1, file), "unwatchable kick fd accepted");
            } finally {
                PosixFiles.closeQuietly(file);
            }
            assertEquals(1, fe.getVringBase(1), "the stopped ring keeps its position");
        }
        aNewFrontendIsServed();
    }

    @Test
    void kickFdThatIsNotAnEventfdIsRefusedAndTheRingKeepsItsPlace() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 8);
            roundTrip(fe, q, 1);
            // epoll would take a socket, but the queue threads never read their kick fd
            int[] pair = UnixSockets.socketpair();
            try {
                assertNotEquals(0, fe.vringFd(FrontendRequest.SET_VRING_KICK, 1, pair[0]), "socket accepted as kick fd");
                assertEquals(1, assertTimeoutPreemptively(WAIT, () -> fe.getVringBase(1)),
                        "the stopped ring keeps its position");
            } finally {
                PosixFiles.closeQuietly(pair[0]);
                PosixFiles.closeQuietly(pair[1]);
            }
        }
        aNewFrontendIsServed();
    }

    @Test
    void tooBigMessageClosesOnlyThatConnection() throws Exception {
        try (TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, VhostUserServerIT.MEM)) {
            fe.negotiate();
            fe.sendRawHeader(FrontendRequest.SET_FEATURES.code(), MessageHeader.VERSION,
                    VhostUserConnection.MAX_PAYLOAD + 1, 0);
            assertTrue(fe.isClosedByServer());
        }
        aNewFrontendIsServed();
    }

    @Test
    void malformedMessagesCloseTheConnectionAndTheNextOneWorks() throws Exception {
        // wrong payload size for the request
        try (TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, VhostUserServerIT.MEM)) {
            fe.send(FrontendRequest.SET_FEATURES.code(), MessageHeader.VERSION, ByteBuffer.allocate(4));
            assertTrue(fe.isClosedByServer());
        }
        // queue index out of range
        try (TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, VhostUserServerIT.MEM)) {
            fe.negotiate();
            fe.send(FrontendRequest.SET_VRING_NUM.code(), MessageHeader.VERSION,
                    ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 7).putInt(4, 8));
            assertTrue(fe.isClosedByServer());
        }
        // an fd where none belongs
        try (TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, VhostUserServerIT.MEM)) {
            int efd = EventFds.create(true);
            fe.send(FrontendRequest.SET_OWNER.code(), MessageHeader.VERSION, null, efd);
            EventFds.close(efd);
            assertTrue(fe.isClosedByServer());
        }
        // bad version bits
        try (TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, VhostUserServerIT.MEM)) {
            fe.send(FrontendRequest.GET_FEATURES.code(), 0x2, null);
            assertTrue(fe.isClosedByServer());
        }
        // SET_MEM_TABLE claiming more regions than it carries fds for
        try (TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, VhostUserServerIT.MEM)) {
            ByteBuffer p = ByteBuffer.allocate(8 + 64).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 2);
            fe.send(FrontendRequest.SET_MEM_TABLE.code(), MessageHeader.VERSION, p);
            assertTrue(fe.isClosedByServer());
        }
        // a message cut short by a hang-up
        try (TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, VhostUserServerIT.MEM)) {
            fe.sendRawHeader(FrontendRequest.SET_FEATURES.code(), MessageHeader.VERSION, 8, 3);
        }
        aNewFrontendIsServed();
    }

    @Test
    void availIndexRunningAheadMarksTheRingBrokenUntilRestarted() throws Exception {
        try (TestVhostUserFrontend fe = readyFrontend(socket)) {
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 8);
            fe.ram.putShort(fe.off(q.avail) + 2, (short) 100); // 100 new entries on a ring of 8
            q.kick();
            assertNull(q.awaitUsed(Duration.ofMillis(300)), "nothing is served from a broken ring");
            assertEquals(0, fe.getVringBase(1));
        }
        aNewFrontendIsServed();
    }
}
