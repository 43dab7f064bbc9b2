package io.vfsgw.transport.devfuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real /dev/fuse mounts on temp dirs, answered by {@link TestFuseHandler}. */
class DevFuseMountIT {
    @TempDir
    Path tmp;
    Path mp;
    java.util.Map<Integer, String> fdsBefore;

    /** One mount/close first, so lazily created JDK/jnr fds (a socket, /dev/random) are not counted as leaks. */
    @BeforeAll
    static void warmUp(@TempDir Path dir) throws Exception {
        DevFuseMount.mount(dir, MountOptions.defaults().withWorkerThreads(1), new TestFuseHandler()).close();
    }

    @BeforeEach
    void setUp() throws IOException {
        mp = Files.createDirectory(tmp.resolve("mnt"));
        fdsBefore = io.vfsgw.testing.OpenFds.snapshot();
    }

    @AfterEach
    void noMountLeftBehind() throws IOException {
        String real = mp.toRealPath().toString();
        assertTrue(MountTable.topAt(real).filter(m -> m.fsType().startsWith("fuse")).isEmpty(),
                "mount left behind at " + real);
        io.vfsgw.testing.OpenFds.assertNoLeak(fdsBefore, java.time.Duration.ofSeconds(5), "mount closed");
    }

    @Test
    void statListAndUnmount() throws Exception {
        TestFuseHandler handler = new TestFuseHandler();
        DevFuseMount m = DevFuseMount.mount(mp, MountOptions.defaults().withWorkerThreads(2), handler);
        try {
            assertEquals(MountPointCheck.FS_TYPE, MountTable.topAt(m.mountPoint().toString()).orElseThrow().fsType());
            PosixFileAttributes a = Files.readAttributes(mp, PosixFileAttributes.class);
            assertTrue(a.isDirectory());
            assertEquals("rwxr-xr-x", PosixFilePermissions.toString(a.permissions()));
            assertEquals(FileTime.fromMillis(TestFuseHandler.ROOT_MTIME * 1000), a.lastModifiedTime());
            assertEquals(1L, Files.getAttribute(mp, "unix:ino"));
            try (Stream<Path> entries = Files.list(mp)) {
                assertEquals(0, entries.count());
            }
            assertEquals(TestFuseHandler.STATFS_BLOCKS * TestFuseHandler.STATFS_FRSIZE,
                    Files.getFileStore(mp).getTotalSpace());
            assertEquals(1, handler.inits.get());
            assertTrue(m.isServing());
        } finally {
            m.close();
        }
        assertFalse(m.isServing(), "workers ended");
        assertTrue(Files.isDirectory(mp), "the plain directory is back");
        m.close(); // idempotent
    }

    @Test
    void mountsThroughFusermount3() throws Exception {
        TestFuseHandler handler = new TestFuseHandler();
        try (DevFuseMount m = DevFuseMount.mount(mp, MountOptions.defaults().withWorkerThreads(2).withFsName("vfsgw:fm")
                .withMountMethod(MountOptions.MountMethod.FUSERMOUNT), handler)) {
            MountTable.Entry e = MountTable.topAt(m.mountPoint().toString()).orElseThrow();
            assertEquals(MountPointCheck.FS_TYPE, e.fsType());
            assertEquals("vfsgw:fm", e.source());
            assertEquals(FileTime.fromMillis(TestFuseHandler.ROOT_MTIME * 1000), Files.getLastModifiedTime(mp));
            try (Stream<Path> entries = Files.list(mp)) {
                assertEquals(0, entries.count());
            }
            assertEquals(2, countDevFuseFds(), "the received fd and its clone");
        }
    }

    @Test
    void repliesMayCompleteOnAnotherThread() throws Exception {
        ExecutorService replier = Executors.newSingleThreadExecutor();
        try (DevFuseMount m = DevFuseMount.mount(mp, MountOptions.defaults().withWorkerThreads(1),
                new TestFuseHandler(MountOptions.DEFAULT_MAX_WRITE, replier))) {
            assertTrue(Files.readAttributes(mp, PosixFileAttributes.class).isDirectory());
            try (Stream<Path> entries = Files.list(mp)) {
                assertEquals(0, entries.count());
            }
        } finally {
            replier.shutdown();
        }
    }

    @Test
    void fourClonedFdsServeInParallel() throws Exception {
        TestFuseHandler handler = new TestFuseHandler();
        ExecutorService statters = Executors.newFixedThreadPool(4);
        try (DevFuseMount m = DevFuseMount.mount(mp, MountOptions.defaults().withWorkerThreads(4), handler)) {
            assertEquals(4, m.workerCount());
            assertEquals(4, countDevFuseFds(), "the original fd and 3 clones");
            Files.readAttributes(mp, PosixFileAttributes.class); // INIT done before the gate
            handler.threadsSeen.clear();
            handler.gateGetattr(4); // each GETATTR waits until 4 are in flight: needs 4 workers
            List<Future<Boolean>> stats = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                stats.add(statters.submit(() -> Files.readAttributes(mp, PosixFileAttributes.class).isDirectory()));
            }
            long start = System.nanoTime();
            for (Future<Boolean> f : stats) {
                assertTrue(f.get(20, TimeUnit.SECONDS));
            }
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(9),
                    "the gate opened because 4 requests were served at once");
            assertEquals(4, handler.threadsSeen.size(), "served by " + handler.threadsSeen);
            assertTrue(java.util.Arrays.stream(m.requestsPerWorker()).allMatch(n -> n > 0));
        } finally {
            statters.shutdownNow();
        }
    }

    @Test
    void refusesMissingNotADirectoryAndNonEmpty() throws Exception {
        TestFuseHandler handler = new TestFuseHandler();
        Path missing = tmp.resolve("nope");
        FsException e = assertThrows(FsException.class, () -> DevFuseMount.mount(missing, MountOptions.defaults(), handler));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains(missing + " does not exist"), e.getMessage());

        Path file = Files.createFile(tmp.resolve("file"));
        e = assertThrows(FsException.class, () -> DevFuseMount.mount(file, MountOptions.defaults(), handler));
        assertEquals(Errno.ENOTDIR, e.errno());
        assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());

        Files.createFile(mp.resolve("existing"));
        e = assertThrows(FsException.class, () -> DevFuseMount.mount(mp, MountOptions.defaults(), handler));
        assertEquals(Errno.ENOTEMPTY, e.errno());
        assertTrue(e.getMessage().contains("mount point " + mp + " is not empty; pass --allow-non-empty"),
                e.getMessage());

        try (DevFuseMount m = DevFuseMount.mount(mp, MountOptions.defaults().withAllowNonEmpty(true), handler)) {
            try (Stream<Path> entries = Files.list(mp)) {
                assertEquals(0, entries.count(), "the mount hides the existing entry");
            }
        }
        assertTrue(Files.exists(mp.resolve("existing")), "and it is back after unmount");
        Files.delete(mp.resolve("existing"));
    }

    @Test
    void secondMountOnALiveVfsgwIsBusy() throws Exception {
        try (DevFuseMount m = DevFuseMount.mount(mp, MountOptions.defaults().withWorkerThreads(1), new TestFuseHandler())) {
            FsException e = assertThrows(FsException.class, () -> DevFuseMount.mount(mp,
                    MountOptions.defaults().withAllowNonEmpty(true), new TestFuseHandler()));
            assertEquals(Errno.EBUSY, e.errno());
            assertTrue(e.getMessage().contains("already served by a running vfsgw"), e.getMessage());
            assertTrue(m.isServing(), "the first mount is untouched");
            assertTrue(Files.isDirectory(mp));
        }
    }

    @Test
    void closeOfABusyMountDetachesAndEnds() throws Exception {
        DevFuseMount m = DevFuseMount.mount(mp, MountOptions.defaults().withWorkerThreads(2)
                .withUnmountGrace(Duration.ofMillis(500)), new TestFuseHandler());
        DirectoryStream<Path> held = Files.newDirectoryStream(mp); // an open dir keeps the mount busy
        try {
            long start = System.nanoTime();
            m.close();
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "close did not hang");
            assertFalse(m.isServing(), "workers ended after the abort");
        } finally {
            held.close(); // RELEASEDIR on an aborted connection: the kernel fails it, we are not involved
        }
    }

    @Test
    void externalUmountEndsTheWorkers() throws Exception {
        try (DevFuseMount m = DevFuseMount.mount(mp, MountOptions.defaults().withWorkerThreads(2), new TestFuseHandler())) {
            Files.readAttributes(mp, PosixFileAttributes.class);
            Process umount = new ProcessBuilder("umount", m.mountPoint().toString()).inheritIO().start();
            assertEquals(0, umount.waitFor());
            Thread waiter = new Thread(() -> {
                try {
                    m.awaitUnmount();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            waiter.start();
            waiter.join(10_000);
            assertFalse(waiter.isAlive(), "awaitUnmount returned");
            assertFalse(m.isServing());
        }
    }

    @Test
    void notifierReachesTheKernel() throws Exception {
        try (DevFuseMount m = DevFuseMount.mount(mp, MountOptions.defaults().withWorkerThreads(2), new TestFuseHandler())) {
            Files.readAttributes(mp, PosixFileAttributes.class);
            assertTrue(m.notifier().send(invalInode(1)), "root inode known to the kernel");
            assertFalse(m.notifier().send(invalInode(12345)), "unknown inode: ENOENT -> false");
            ByteBuffer heap = ByteBuffer.allocate(64);
            heap.position(8);
            heap.put(invalInode(1)).flip().position(8);
            assertTrue(m.notifier().send(heap), "heap buffer with an offset");
        }
    }

    /** FUSE_NOTIFY_INVAL_INODE (2): out-header with unique 0, then fuse_notify_inval_inode_out. */
    private static ByteBuffer invalInode(long ino) {
        ByteBuffer b = ByteBuffer.allocateDirect(40).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(40).putInt(2).putLong(0).putLong(ino).putLong(0).putLong(0).flip();
        return b;
    }



    private static long countDevFuseFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().equals("/dev/fuse");
                } catch (IOException e) {
                    return false;
                }
            }).count();
        }
    }

    static void pollUntil(BooleanSupplier condition, Duration deadline, String what) throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
