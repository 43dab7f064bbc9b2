package io.vfsgw.backend.mem;

import io.vfsgw.backend.mem.PagePool.Block;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The off-heap block pool on its own: reuse, zeroing, memory returned to the kernel, concurrency, close. */
class PagePoolTest {
    @Test
    void aFreedBlockIsReusedZeroedAndItsMemoryReturned() throws Exception {
        try (PagePool pool = new PagePool("test")) {
            assertEquals(0, pool.residentBytes(), "no memfd before first use");
            Block a = pool.allocate(PagePool.MAX_BLOCK);
            fill(a.data(), (byte) 0xAB);
            assertEquals(PagePool.MAX_BLOCK, pool.residentBytes(), "a written block takes exactly its size");
            long offset = a.offset();
            pool.free(a);
            assertEquals(0, pool.residentBytes(), "free hands the memory back at once");
            assertEquals(0, pool.bytesInUse());
            Block b = pool.allocate(PagePool.MAX_BLOCK);
            assertEquals(offset, b.offset(), "the freed block is the first reused");
            assertAllZero(b.data());
            assertEquals(PagePool.SLAB_SIZE, pool.bytesInUse() + pool.bytesFree(), "one slab cut, no more");
        }
    }

    @Test
    void everySizeClassHasItsOwnBlocksAndOddSizesAreRejected() throws Exception {
        try (PagePool pool = new PagePool("test")) {
            List<Block> blocks = new ArrayList<>();
            for (int size = PagePool.MIN_BLOCK; size <= PagePool.MAX_BLOCK; size <<= 1) {
                Block b = pool.allocate(size);
                assertEquals(size, b.size());
                assertEquals(0, b.offset() % size, "blocks are aligned to their size");
                blocks.add(b);
            }
            assertEquals(blocks.size(), pool.blocksInUse());
            assertEquals(2 * PagePool.MAX_BLOCK - PagePool.MIN_BLOCK, pool.bytesInUse());
            blocks.forEach(pool::free);
            assertEquals(0, pool.blocksInUse());
            assertEquals(0, pool.residentBytes());
            assertThrows(IllegalArgumentException.class, () -> pool.allocate(5000));
            assertThrows(IllegalArgumentException.class, () -> pool.allocate(2 * PagePool.MAX_BLOCK));
            assertThrows(IllegalArgumentException.class, () -> pool.allocate(2048));
        }
    }

    @Test
    void growsPastOneArena() throws Exception {
        try (PagePool pool = new PagePool("test")) {
            int n = (int) (PagePool.ARENA_SIZE / PagePool.MAX_BLOCK) + 1;
            List<Block> blocks = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                blocks.add(pool.allocate(PagePool.MAX_BLOCK));
            }
            assertEquals(2 * PagePool.ARENA_SIZE, pool.mappedBytes());
            Block last = blocks.get(n - 1);
            last.data().duplicate().putLong(0, 42);
            assertEquals(42, last.data().duplicate().getLong(0), "a block of the second arena is usable");
            blocks.forEach(pool::free);
            assertEquals(0, pool.residentBytes());
        }
    }

    @Test
    void fourThreadsAllocateAndFreeWithoutSharingABlock() throws Exception {
        try (PagePool pool = new PagePool("test")) {
            ExecutorService ex = Executors.newFixedThreadPool(4);
            try {
                List<Future<List<Long>>> results = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int seed = t;
                    results.add(ex.submit(() -> churn(pool, seed)));
                }
                Set<Long> live = new HashSet<>();
                for (Future<List<Long>> f : results) {
                    for (long offset : f.get()) {
                        assertTrue(live.add(offset), "block at " + offset + " handed to two owners");
                    }
                }
                assertEquals(live.size(), pool.blocksInUse());
            } finally {
                ex.shutdownNow();
            }
        }
    }

    @Test
    void afterCloseAllocationIsEioAndFreeIsIgnored() throws Exception {
        PagePool pool = new PagePool("test");
        Block b = pool.allocate(PagePool.MIN_BLOCK);
        pool.stopAllocating();
        FsException e = assertThrows(FsException.class, () -> pool.allocate(PagePool.MIN_BLOCK));
        assertEquals(Errno.EIO, e.errno());
        pool.free(b); // still works between stopAllocating and close
        assertEquals(0, pool.blocksInUse());
        pool.close();
        pool.close(); // idempotent
        assertEquals(0, pool.residentBytes());
        pool.free(b); // ignored, touches nothing
    }

    @Test
    void aPoolDroppedUnclosedIsUnmappedAndItsMemfdClosedByTheGc() throws Exception {
        String name = "vfsgw-drop-test-" + System.nanoTime();
        allocateAndDrop(name);
        assertTrue(mentions(Path.of("/proc/self/maps"), name), "mapped while reachable");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (mentions(Path.of("/proc/self/maps"), name) || fdMentions(name)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("dropped pool still mapped or its memfd still open after 20 s of GCs");
            }
            System.gc();
            Thread.sleep(20);
        }
    }

    /** Makes a pool with some written blocks and forgets it, all inside a frame that ends. */
    private static void allocateAndDrop(String name) throws FsException {
        PagePool pool = new PagePool(name);
        for (int i = 0; i < 16; i++) {
            pool.allocate(PagePool.MAX_BLOCK).data().duplicate().putLong(0, i + 1);
        }
    }

    private static boolean mentions(Path file, String needle) throws Exception {
        return Files.readString(file).contains(needle);
    }

    private static boolean fdMentions(String needle) throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.anyMatch(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().contains(needle);
                } catch (Exception e) {
                    return false; // the fd closed while we listed
                }
            });
        }
    }

    /**
     * Allocates and frees random blocks, stamping each with its owner and checking the stamp on
     * free (a block handed out twice would show a foreign stamp); returns the offsets still held.
     */
    private static List<Long> churn(PagePool pool, int seed) throws FsException {
        Random rnd = new Random(seed);
        List<Block> held = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            if (held.isEmpty() || rnd.nextInt(3) > 0) {
                Block b = pool.allocate(PagePool.MIN_BLOCK << rnd.nextInt(5));
                assertEquals(0, b.data().duplicate().getLong(0), "a fresh block is zero");
                b.data().duplicate().putLong(0, b.offset() * 31 + seed + 1);
                held.add(b);
            } else {
                Block b = held.remove(rnd.nextInt(held.size()));
                assertEquals(b.offset() * 31 + seed + 1, b.data().duplicate().getLong(0), "block changed under its owner");
                pool.free(b);
            }
        }
        List<Long> offsets = new ArrayList<>();
        for (Block b : held) {
            assertEquals(b.offset() * 31 + seed + 1, b.data().duplicate().getLong(0), "block changed under its owner");
            offsets.add(b.offset());
        }
        return offsets;
    }

    private static void fill(ByteBuffer b, byte value) {
        ByteBuffer v = b.duplicate();
        while (v.hasRemaining()) {
            v.put(value);
        }
    }

    private static void assertAllZero(ByteBuffer b) {
        for (int i = 0; i < b.capacity(); i++) {
            if (b.get(i) != 0) {
                throw new AssertionError("byte " + i + " of a reused block is " + b.get(i));
            }
        }
    }
}
