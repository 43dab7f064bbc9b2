package io.vfsgw.backend.posix;

import static io.vfsgw.spi.StorageBackend.ROOT_ID;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.OpenResult;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.testing.OpenFds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --inode-file-handles: more nodes than the fd budget, all still usable, with fds bounded. */
class PosixFileHandlesTest {
    static final RequestContext ROOT = RequestContext.ROOT;
    static final int BUDGET = 64;
    static final int FILES = 500;

    @TempDir
    Path src;

    static long openFds() {
        return OpenFds.count();
    }

    static String read(PosixBackend fs, long node) throws FsException {
        OpenResult o = fs.open(ROOT, node, OpenFlags.O_RDONLY);
        try {
            Buffers.Sink sink = new Buffers.Sink(3, 61);
            fs.read(ROOT, node, o.fh(), 0, sink);
            return sink.string();
        } finally {
            fs.release(ROOT, node, o.fh(), 0, 0);
        }
    }

    /** Directory src/d holding f0 .. f(n-1), each "content i". */
    private Path filesInD(int n) throws java.io.IOException {
        Path dir = Files.createDirectory(src.resolve("d"));
        for (int i = 0; i < n; i++) {
            Files.writeString(dir.resolve("f" + i), "content " + i);
        }
        return dir;
    }

    @Test
    void fiveHundredNodesOnABudgetOf64() throws Exception {
        Path dir = filesInD(FILES);
        Files.createSymbolicLink(dir.resolve("sl"), Path.of("f0"));
        PosixOptions o = PosixOptions.of(src).withFileHandles(PosixOptions.InodeFileHandles.MANDATORY, BUDGET);
        try (PosixBackend fs = PosixBackend.open(o)) {
            long fdsBefore = openFds();
            long d = fs.lookup(ROOT, ROOT_ID, FileName.literal("d")).nodeId();
            List<Long> nodes = new ArrayList<>();
            for (int i = 0; i < FILES; i++) {
                nodes.add(fs.lookup(ROOT, d, FileName.literal("f" + i)).nodeId());
                assertTrue(fs.nodeFdCount() <= BUDGET, "fds held: " + fs.nodeFdCount());
            }
            long sl = fs.lookup(ROOT, d, FileName.literal("sl")).nodeId();
            assertEquals(FILES + 3, fs.nodeCount());
            // slack for fds the JVM itself may open meanwhile (class loading); without handles it would be 500+
            assertTrue(openFds() - fdsBefore <= BUDGET + 16, "the process holds " + (openFds() - fdsBefore) + " more fds");

            // every node still works: attributes, data, a name created in the (evicted) directory
            for (int i = 0; i < FILES; i++) {
                long n = nodes.get(i);
                assertEquals(("content " + i).length(), fs.getattr(ROOT, n, -1).size());
                if (i % 50 == 0) {
                    assertEquals("content " + i, read(fs, n));
                }
            }
            assertArrayEquals("f0".getBytes(), fs.readlink(ROOT, sl), "a symlink's handle reopens the link itself");
            assertTrue(fs.handleReopenCount() >= FILES - BUDGET, "reopens: " + fs.handleReopenCount());
            Entry made = fs.mkdir(ROOT, d, FileName.literal("sub"), 0755, 0);
            assertTrue(Files.isDirectory(dir.resolve("sub")));
            assertEquals(made.nodeId(), fs.lookup(ROOT, d, FileName.literal("sub")).nodeId());
            assertTrue(fs.nodeFdCount() <= BUDGET);

            // a renamed file is the same node; a looked-up name keeps its node id after eviction
            Files.move(dir.resolve("f1"), dir.resolve("moved"));
            assertEquals(nodes.get(1), fs.lookup(ROOT, d, FileName.literal("moved")).nodeId());
            assertEquals("content 1", read(fs, nodes.get(1)));
            fs.forget(nodes.get(1), 1); // the second lookup ("moved")

            for (long n : nodes) {
                fs.forget(n, 1);
            }
            assertEquals(4, fs.nodeCount()); // root, d, sl, sub
            assertTrue(fs.nodeFdCount() <= 3);
        }
    }

    /**
     * The kernel's GETATTR before a read past the attribute timeout names the open file
     * (FUSE_GETATTR_FH): it is answered from that file's fd, not by reopening the node's traded
     * fd, which a process at its fd limit cannot do (seen once in CI as EMFILE from a guest's read).
     */
    @Test
    void getattrOfAnOpenFileNeedsNoFdOfItsNode() throws Exception {
        filesInD(20);
        PosixOptions o = PosixOptions.of(src).withFileHandles(PosixOptions.InodeFileHandles.MANDATORY, 2);
        try (PosixBackend fs = PosixBackend.open(o)) {
            long d = fs.lookup(ROOT, ROOT_ID, FileName.literal("d")).nodeId();
            long first = fs.lookup(ROOT, d, FileName.literal("f0")).nodeId();
            OpenResult open = fs.open(ROOT, first, OpenFlags.O_RDONLY);
            for (int i = 1; i < 20; i++) {   // past the budget of 2: f0's node fd is traded for a handle
                fs.lookup(ROOT, d, FileName.literal("f" + i));
            }
            long reopens = fs.handleReopenCount();
            assertEquals("content 0".length(), fs.getattr(ROOT, first, open.fh()).size());
            assertEquals(reopens, fs.handleReopenCount(), "answered from the open file's fd");
            assertEquals("content 0".length(), fs.getattr(ROOT, first, -1).size());
            assertEquals(reopens + 1, fs.handleReopenCount(), "without a handle the node's fd is reopened");
            fs.release(ROOT, first, open.fh(), 0, 0);
        }
    }

    /**
     * Out of fds (EMFILE) well under the budget: idle nodes give up their fds for handles, a
     * quarter of them at least 32, and keep working.
     */
    @Test
    void runningOutOfFdsTradesIdleNodeFdsForHandles() throws Exception {
        filesInD(100);
        PosixOptions o = PosixOptions.of(src).withFileHandles(PosixOptions.InodeFileHandles.PREFER, 10_000);
        try (PosixBackend fs = PosixBackend.open(o)) {
            long d = fs.lookup(ROOT, ROOT_ID, FileName.literal("d")).nodeId();
            List<Long> nodes = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                nodes.add(fs.lookup(ROOT, d, FileName.literal("f" + i)).nodeId());
            }
            int before = fs.nodeFdCount();
            assertEquals(101, before, "under the budget every node keeps its fd");
            int freed = fs.reclaimIdleFds();
            assertEquals(32, freed, "a quarter of 101 is less than the floor of 32");
            assertEquals(before - freed, fs.nodeFdCount());
            for (int i = 0; i < 100; i++) {
                assertEquals("content " + i, read(fs, nodes.get(i)));
            }
        }
    }

    @Test
    void forgottenNodesLeaveTheEvictionOrderUnderTheBudget() throws Exception {
        Path dir = Files.createDirectory(src.resolve("churn"));
        PosixOptions o = PosixOptions.of(src).withFileHandles(PosixOptions.InodeFileHandles.MANDATORY, 10_000);
        try (PosixBackend fs = PosixBackend.open(o)) {
            long d = fs.lookup(ROOT, ROOT_ID, FileName.literal("churn")).nodeId();
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < FILES; i++) {
                    FileName name = FileName.literal("f" + i);
                    CreateResult c = fs.create(ROOT, d, name, 0644, OpenFlags.O_WRONLY, 0);
                    fs.release(ROOT, c.entry().nodeId(), c.open().fh(), 0, 0);
                    fs.unlink(ROOT, d, name);
                    fs.forget(c.entry().nodeId(), 1);
                }
                // Far under the budget nothing is evicted: the forgotten nodes must still leave.
                assertEquals(1, fs.evictionOrderSize(), "round " + round + ": only the directory is tracked");
                assertEquals(1, fs.nodeFdCount());
            }
        }
    }

    @Test
    void aDeletedFileWhoseInodeIsReusedIsANewNode() throws Exception {
        Path dir = Files.createDirectory(src.resolve("d"));
        for (int i = 0; i < 10; i++) {
            Files.writeString(dir.resolve("f" + i), "x");
        }
        PosixOptions o = PosixOptions.of(src).withFileHandles(PosixOptions.InodeFileHandles.PREFER, 2);
        try (PosixBackend fs = PosixBackend.open(o)) {
            long d = fs.lookup(ROOT, ROOT_ID, FileName.literal("d")).nodeId();
            long victim = fs.lookup(ROOT, d, FileName.literal("f0")).nodeId();
            for (int i = 1; i < 10; i++) {
                fs.lookup(ROOT, d, FileName.literal("f" + i)); // pushes f0 out to a handle
            }
            long ino = (long) Files.getAttribute(dir.resolve("f0"), "unix:ino");
            Files.delete(dir.resolve("f0"));
            // ext4 hands a freed inode number to the next file created in the same group, usually
            Path again = null;
            for (int i = 0; i < 50 && again == null; i++) {
                Path p = Files.writeString(dir.resolve("new" + i), "new");
                if ((long) Files.getAttribute(p, "unix:ino") == ino) {
                    again = p;
                }
            }
            assertEquals(Errno.ESTALE, assertThrows(FsException.class, () -> fs.getattr(ROOT, victim, -1)).errno(),
                    "the deleted file's node is stale, not another file");
            if (again == null) {
                System.out.println("PosixFileHandlesTest: the inode number was not reused; only ESTALE checked");
                return;
            }
            long fresh = fs.lookup(ROOT, d, FileName.literal(again.getFileName().toString())).nodeId();
            assertNotEquals(victim, fresh, "the new file with the old inode number is a node of its own");
            assertEquals(3, fs.getattr(ROOT, fresh, -1).size());
        }
    }

    @Test
    void evictionRacingOperationsNeverAnswersForAnotherFile() throws Exception {
        int files = 200;
        for (int i = 0; i < files; i++) {
            Files.write(src.resolve("f" + i), new byte[i]); // size = index: a wrong fd shows at once
        }
        PosixOptions o = PosixOptions.of(src).withFileHandles(PosixOptions.InodeFileHandles.PREFER, 8);
        try (PosixBackend fs = PosixBackend.open(o)) {
            long[] nodes = new long[files];
            for (int i = 0; i < files; i++) {
                nodes[i] = fs.lookup(ROOT, ROOT_ID, FileName.literal("f" + i)).nodeId();
            }
            java.util.concurrent.ConcurrentLinkedQueue<String> problems = new java.util.concurrent.ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                threads.add(new Thread(() -> {
                    java.util.Random r = new java.util.Random(seed);
                    for (int k = 0; k < 5_000; k++) {
                        int i = r.nextInt(files);
                        try {
                            long size = fs.getattr(ROOT, nodes[i], -1).size();
                            if (size != i) {
                                problems.add("node of f" + i + " answered size " + size);
                            }
                        } catch (FsException e) {
                            problems.add("f" + i + ": " + e);
                        }
                    }
                }));
            }
            threads.forEach(Thread::start);
            for (Thread t : threads) {
                t.join();
            }
            assertTrue(problems.isEmpty(), problems.toString());
            assertTrue(fs.nodeFdCount() <= 8 + 4, "fds held: " + fs.nodeFdCount());
        }
    }

    static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed (this test needs root): " + out);
        }
    }

    @Test
    void aFilesystemWithoutHandlesFailsMandatoryAndFallsBackForPrefer() throws Exception {
        Path ram = Files.createDirectory(src.resolve("ram"));
        run("mount", "-t", "ramfs", "vfsgw-handles-test", ram.toString()); // ramfs makes no file handles
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PosixBackend.open(
                    PosixOptions.of(ram).withFileHandles(PosixOptions.InodeFileHandles.MANDATORY, 4)));
            assertEquals("posix backend: --inode-file-handles=mandatory, but the filesystem of --source makes no"
                    + " file handles", e.getMessage());
            for (int i = 0; i < 20; i++) {
                Files.writeString(ram.resolve("f" + i), "x");
            }
            try (PosixBackend fs = PosixBackend.open(
                    PosixOptions.of(ram).withFileHandles(PosixOptions.InodeFileHandles.PREFER, 4))) {
                for (int i = 0; i < 20; i++) {
                    fs.lookup(ROOT, ROOT_ID, FileName.literal("f" + i));
                }
                assertEquals(20, fs.nodeFdCount(), "prefer falls back to one fd per node");
                assertEquals(1, fs.getattr(ROOT, 2, -1).size());
            }
        } finally {
            run("umount", ram.toString());
        }
    }

    @Test
    void neverKeepsAnFdPerNode() throws Exception {
        for (int i = 0; i < 100; i++) {
            Files.writeString(src.resolve("f" + i), "x");
        }
        PosixOptions o = PosixOptions.of(src).withFileHandles(PosixOptions.InodeFileHandles.NEVER, 10);
        try (PosixBackend fs = PosixBackend.open(o)) {
            for (int i = 0; i < 100; i++) {
                fs.lookup(ROOT, ROOT_ID, FileName.literal("f" + i));
            }
            assertEquals(100, fs.nodeFdCount());
            assertEquals(0, fs.handleReopenCount());
        }
    }
}
