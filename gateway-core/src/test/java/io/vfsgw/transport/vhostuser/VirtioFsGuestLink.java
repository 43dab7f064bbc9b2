package io.vfsgw.transport.vhostuser;

import io.vfsgw.fuse.Opcode;
import io.vfsgw.session.FuseSession;
import io.vfsgw.session.GuestLink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Carries a test guest's FUSE requests to its session as a virtio-fs driver does: each guest gets
 * its own {@link VhostUserServer} on a socket of its own, serving that session, and a
 * {@link TestVhostUserFrontend} that lays every request out in guest memory as a descriptor chain
 * (the request's views device-readable, the reply's device-writable, at odd addresses, now and then
 * through an indirect table), puts FORGET and INTERRUPT on the high-priority queue and the rest on
 * a request queue picked at random, kicks, and completes the request when its used entry comes back
 * (in whatever order the server's worker threads finish them).
 */
public final class VirtioFsGuestLink implements GuestLink {
    private static final int REQUEST_QUEUES = 2;
    private static final int QUEUE_SIZE = 256;
    /** Requests one queue may have in flight; each owns a slice of the descriptor table and of memory. */
    private static final int SLOTS = 4;
    private static final int SLOT_DESCRIPTORS = QUEUE_SIZE / SLOTS;
    private static final int SLOT_BYTES = 2 << 20;
    private static final long MEMORY = (REQUEST_QUEUES + 1) * SLOTS * (long) SLOT_BYTES + (4L << 20);
    private static final Duration POLL = Duration.ofMillis(100);
    // Descriptor flags (virtio_ring.h).
    private static final int F_NEXT = 1;
    private static final int F_WRITE = 2;
    private static final int F_INDIRECT = 4;

    private final int queueThreads;
    private final AtomicLong seeds;

    /** Servers with {@code queueThreads} worker threads per request queue; {@code seed} picks layouts and queues. */
    public VirtioFsGuestLink(int queueThreads, long seed) {
        this.queueThreads = queueThreads;
        this.seeds = new AtomicLong(seed * 1000);
    }

    @Override
    public Connection connect(FuseSession session) throws Exception {
        Path dir = Files.createTempDirectory("vfsgw-link");
        AtomicInteger served = new AtomicInteger();
        VhostUserServer server = VhostUserServer.start(dir.resolve("fs.sock"),
                VhostUserOptions.defaults("guest").withRequestQueues(REQUEST_QUEUES).withQueueThreads(queueThreads),
                () -> {
                    if (served.getAndIncrement() > 0) {
                        throw new IllegalStateException("the test guest connected twice");
                    }
                    return session;
                });
        try {
            return new Driver(server, dir, seeds.getAndIncrement());
        } catch (Exception | Error e) {
            server.close();
            Files.deleteIfExists(dir);
            throw e;
        }
    }

    /** The guest's driver: one front end, its queues, and a thread per queue collecting used entries. */
    private static final class Driver implements Connection {
        private final VhostUserServer server;
        private final Path dir;
        private final TestVhostUserFrontend frontend;
        private final List<Lane> lanes = new ArrayList<>();
        private final Random random;
        private final AtomicInteger stray = new AtomicInteger();
        private volatile boolean closing;

        Driver(VhostUserServer server, Path dir, long seed) throws Exception {
            this.server = server;
            this.dir = dir;
            this.random = new Random(seed);
            this.frontend = TestVhostUserFrontend.connect(server.socketPath(), MEMORY);
            try {
                frontend.negotiate();
                if (frontend.setMemTable() != 0) {
                    throw new IOException("SET_MEM_TABLE refused");
                }
                for (int q = 0; q <= REQUEST_QUEUES; q++) {
                    lanes.add(new Lane(frontend.setUpQueue(q, QUEUE_SIZE)));
                }
            } catch (Exception | Error e) {
                close();
                throw e;
            }
        }

        @Override
        public void handle(ByteBuffer[] request, ByteBuffer[] reply, ReplyCompletion completion) {
            int opcode = request[0].getInt(4);
            boolean highPriority = opcode == Opcode.FORGET.code() || opcode == Opcode.BATCH_FORGET.code()
                    || opcode == Opcode.INTERRUPT.code();
            Lane lane;
            boolean indirect;
            int gapSeed;
            synchronized (random) {
                lane = lanes.get(highPriority ? 0 : 1 + random.nextInt(REQUEST_QUEUES));
                indirect = random.nextInt(4) == 0;
                gapSeed = random.nextInt();
            }
            lane.submit(request, highPriority ? new ByteBuffer[0] : reply, indirect, new Random(gapSeed), completion);
        }

        @Override
        public int strayReplies() {
            return stray.get();
        }

        /** Disconnects, as a guest that goes away; the server then closes the session. */
        @Override
        public void close() {
            closing = true;
            for (Lane l : lanes) {
                l.stop();
            }
            frontend.close();
            server.close();
            try {
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** A request in flight: where its reply lands in guest memory and where the caller wants it. */
        private record Pending(int slot, long[] replyGpas, ByteBuffer[] reply, ReplyCompletion completion) {
        }

        /** One virtqueue: its free slots, its requests in flight by head, and the thread collecting their replies. */
        private final class Lane {
            private final TestVhostUserFrontend.Queue queue;
            private final BlockingQueue<Integer> freeSlots = new ArrayBlockingQueue<>(SLOTS);
            private final Map<Integer, Pending> inFlight = new ConcurrentHashMap<>();
            private final long memoryBase;
            private final Thread collector;

            Lane(TestVhostUserFrontend.Queue queue) {
                this.queue = queue;
                this.memoryBase = frontend.alloc(SLOTS * SLOT_BYTES, 4096);
                for (int s = 0; s < SLOTS; s++) {
                    freeSlots.add(s);
                }
                this.collector = new Thread(this::collect, "test-guest-queue-" + queue.index);
                collector.setDaemon(true);
                collector.start();
            }

            void submit(ByteBuffer[] request, ByteBuffer[] reply, boolean indirect, Random gaps,
                        ReplyCompletion completion) {
                int slot;
                try {
                    slot = freeSlots.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
                long at = memoryBase + (long) slot * SLOT_BYTES;
                long end = at + SLOT_BYTES - 16L * SLOT_DESCRIPTORS; // the slot's indirect table sits at its end
                int n = request.length + reply.length;
                long[] gpas = new long[n];
                int[] lens = new int[n];
                for (int i = 0; i < n; i++) {
                    boolean readable = i < request.length;
                    ByteBuffer view = readable ? request[i] : reply[i - request.length];
                    at += gaps.nextInt(8);  // guest buffers need no alignment
                    lens[i] = readable ? view.remaining() : view.capacity();
                    if (at + lens[i] > end) {
                        throw new IllegalArgumentException("request of more than " + SLOT_BYTES + " bytes");
                    }
                    gpas[i] = at;
                    if (readable) {
                        frontend.ram.put(frontend.off(at), view, view.position(), lens[i]);
                    }
                    at += lens[i];
                }
                long[] replyGpas = java.util.Arrays.copyOfRange(gpas, request.length, n);
                int head = slot * SLOT_DESCRIPTORS;
                Pending p = new Pending(slot, replyGpas, reply, completion);
                inFlight.put(head, p);
                if (indirect || n > SLOT_DESCRIPTORS) {
                    for (int i = 0; i < n; i++) {
                        queue.writeDescAt(end, i, gpas[i], lens[i], descFlags(i, n, request.length), i + 1);
                    }
                    queue.writeDesc(head, end, 16 * n, F_INDIRECT, 0);
                } else {
                    for (int i = 0; i < n; i++) {
                        queue.writeDesc(head + i, gpas[i], lens[i], descFlags(i, n, request.length), head + i + 1);
                    }
                }
                queue.publish(head);
                try {
                    queue.kick();
                } catch (io.vfsgw.spi.FsException e) {
                    throw new IllegalStateException("kick failed", e);
                }
            }

            private static int descFlags(int i, int n, int readable) {
                return (i >= readable ? F_WRITE : 0) | (i + 1 < n ? F_NEXT : 0);
            }

            /** Hands each used entry's reply to its request, copying it out of guest memory. */
            private void collect() {
                while (!closing) {
                    TestVhostUserFrontend.Used u;
                    try {
                        u = queue.awaitUsed(POLL);
                    } catch (io.vfsgw.spi.FsException e) {
                        return;
                    }
                    if (u == null) {
                        continue;
                    }
                    Pending p = inFlight.remove(u.id());
                    if (p == null || u.len() > capacity(p.reply())) {
                        stray.incrementAndGet();
                        continue;
                    }
                    int left = u.len();
                    for (int i = 0; i < p.reply().length && left > 0; i++) {
                        int n = Math.min(left, p.reply()[i].capacity());
                        p.reply()[i].put(0, frontend.ram, frontend.off(p.replyGpas()[i]), n);
                        left -= n;
                    }
                    freeSlots.add(p.slot());
                    p.completion().complete(u.len());
                }
            }

            private static long capacity(ByteBuffer[] views) {
                long c = 0;
                for (ByteBuffer v : views) {
                    c += v.capacity();
                }
                return c;
            }

            void stop() {
                try {
                    collector.join(POLL.multipliedBy(5).toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
