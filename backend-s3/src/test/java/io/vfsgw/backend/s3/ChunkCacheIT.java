package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Entry;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/** The on-disk chunk cache: admitted on a second read, then a re-read (same ETag) costs no GET; the size bound holds; a new ETag misses. */
class ChunkCacheIT {
    private static final RequestContext CTX = new RequestContext(0, 0, 1);
    private static S3ProxyFixture server;
    private static RequestCounter counter;
    private static S3AsyncClient client;

    @TempDir
    Path cache;

    @BeforeAll
    static void start() throws Exception {
        server = S3ProxyFixture.shared();
        counter = new RequestCounter();
        client = server.client(List.of(counter));
    }

    @AfterAll
    static void stop() {
        client.close();
    }

    private static byte[] put(String key, int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        client.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(key), AsyncRequestBody.fromBytes(data)).join();
        return data;
    }

    /** Opens, reads everything with 128 KiB reads (as the kernel does), releases. */
    private static byte[] readAll(S3Backend b, long node, int size) throws FsException {
        long fh = b.open(CTX, node, OpenFlags.O_RDONLY).fh();
        ByteBuffer all = ByteBuffer.allocate(size);
        while (all.hasRemaining()) {
            Buffers.Sink sink = new Buffers.Sink(Math.min(128 << 10, all.remaining()));
            b.read(CTX, node, fh, all.position(), sink);
            ByteBuffer got = sink.filled();
            assertTrue(got.hasRemaining(), "short read at " + all.position());
            all.put(got);
        }
        b.release(CTX, node, fh, 0, 0);
        return all.array();
    }

    @Test
    void aFileReadTwiceIsServedFromTheCache() throws Exception {
        int size = (5 << 20) + 12345;   // not a whole number of chunks: the short last chunk is cached too
        byte[] data = put("cc-reread/f", size, 1);
        S3Backend b = new S3Backend(server.options(cache).prefix("cc-reread").build(), client);
        try {
            Entry e = b.lookup(CTX, StorageBackend.ROOT_ID, FileName.literal("f"));
            counter.reset();
            assertArrayEquals(data, readAll(b, e.nodeId(), size));
            int firstGets = counter.get("GetObject");
            assertTrue(firstGets > 0, "the first read goes to S3");
            assertEquals(0, countFiles(cache.resolve("chunks")), "a file read once is not written to the cache");
            counter.reset();
            assertArrayEquals(data, readAll(b, e.nodeId(), size));
            assertTrue(counter.get("GetObject") > 0, "the second read goes to S3 and fills the cache");
            assertEquals(6, countFiles(cache.resolve("chunks")));
            counter.reset();
            assertArrayEquals(data, readAll(b, e.nodeId(), size));
            assertEquals(0, counter.get("GetObject"), "third read served from the chunk cache: " + counter.snapshot());
            System.out.println("ChunkCacheIT: first read " + firstGets + " GETs (not cached), second read fills, third 0 GETs");

            // Replaced object: new ETag, so the old chunks do not answer.
            byte[] newer = put("cc-reread/f", size, 2);
            Thread.sleep(1100);   // the backend trusts attributes for metadataTtl (1 s); open then re-HEADs
            counter.reset();
            assertArrayEquals(newer, readAll(b, e.nodeId(), size));
            assertTrue(counter.get("GetObject") > 0, "a new ETag misses the cache");
        } finally {
            b.close();
        }
    }

    @Test
    void cacheStaysWithinItsBound() throws Exception {
        int size = 8 << 20;
        byte[] data = put("cc-bound/f", size, 3);
        S3Backend b = new S3Backend(server.options(cache).prefix("cc-bound").cacheSize(3 << 20).build(), client);
        try {
            Entry e = b.lookup(CTX, StorageBackend.ROOT_ID, FileName.literal("f"));
            assertArrayEquals(data, readAll(b, e.nodeId(), size));
            assertEquals(0, b.chunkCache().bytes(), "read once: nothing admitted");
            assertArrayEquals(data, readAll(b, e.nodeId(), size));   // the second pass is admitted
            assertTrue(b.chunkCache().bytes() <= 3 << 20, "cache holds " + b.chunkCache().bytes());
            assertEquals(3, countFiles(cache.resolve("chunks")), "only the 3 most recent chunks stay on disk");
            // The most recent chunks are the tail: a read there costs nothing, the head costs a GET.
            counter.reset();
            long fh = b.open(CTX, e.nodeId(), OpenFlags.O_RDONLY).fh();
            Buffers.Sink tail = new Buffers.Sink(4096);
            b.read(CTX, e.nodeId(), fh, size - 4096, tail);
            assertEquals(0, counter.get("GetObject"));
            Buffers.Sink head = new Buffers.Sink(4096);
            b.read(CTX, e.nodeId(), fh, 0, head);
            assertEquals(1, counter.get("GetObject"));
            b.release(CTX, e.nodeId(), fh, 0, 0);
            assertEquals(ByteBuffer.wrap(data, 0, 4096), head.filled());
            assertEquals(ByteBuffer.wrap(data, size - 4096, 4096), tail.filled());
        } finally {
            b.close();
        }
    }

    /**
     * Random 4 KiB reads (fio randread through one handle): a chunk's first miss costs an exact
     * GET, its second one GET of the whole chunk, which then answers every later read of it.
     */
    @Test
    void randomReadsFetchEachChunkAtMostTwice() throws Exception {
        int size = 4 << 20;
        byte[] data = put("cc-random/f", size, 4);
        S3Backend b = new S3Backend(server.options(cache).prefix("cc-random").build(), client);
        try {
            Entry e = b.lookup(CTX, StorageBackend.ROOT_ID, FileName.literal("f"));
            counter.reset();
            long fh = b.open(CTX, e.nodeId(), OpenFlags.O_RDONLY).fh();
            Random r = new Random(5);
            int reads = 400;
            for (int i = 0; i < reads; i++) {
                long off = (long) r.nextInt(size / 4096) * 4096;
                Buffers.Sink sink = new Buffers.Sink(4096);
                b.read(CTX, e.nodeId(), fh, off, sink);
                assertEquals(ByteBuffer.wrap(data, (int) off, 4096), sink.filled(), "bytes at " + off);
            }
            b.release(CTX, e.nodeId(), fh, 0, 0);
            int gets = counter.get("GetObject");
            assertTrue(gets <= 2 * 4, reads + " random reads of 4 chunks cost " + gets + " GETs: " + counter.snapshot());
            assertEquals(4, countFiles(cache.resolve("chunks")), "every chunk read twice is kept whole");
            System.out.println("ChunkCacheIT: " + reads + " random 4 KiB reads of a 4 MiB object: " + gets + " GETs");
        } finally {
            b.close();
        }
    }

    private static long countFiles(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().startsWith("tmp-")).count();
        }
    }
}
