package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * The core operations of the backend in one pass, for suites that run them against another server
 * or client (LocalStack, s3rver, the CRT client): files small and multipart, random reads,
 * directories, rename of a file and of a directory, symlinks, unlink and the errnos of the common
 * misses. Expects an empty prefix and {@code partSize} 5 MiB.
 */
final class CoreOps {
    private static final RequestContext CTX = new RequestContext(1000, 1000, 42);
    private static final long ROOT = StorageBackend.ROOT_ID;

    private CoreOps() {
    }

    static void run(S3Backend b) throws Exception {
        FileName small = FileName.of("small.txt");
        FsException miss = assertThrows(FsException.class, () -> b.lookup(CTX, ROOT, small));
        assertEquals(Errno.ENOENT, miss.errno());

        byte[] hello = "hello, s3\n".getBytes(StandardCharsets.UTF_8);
        write(b, ROOT, "small.txt", hello);
        Entry s = b.lookup(CTX, ROOT, small);
        assertEquals(hello.length, s.attr().size());
        assertArrayEquals(hello, read(b, s.nodeId(), 0, hello.length));

        // 12 MiB with 5 MiB parts: a streamed multipart upload of 3 parts
        byte[] big = new byte[12 << 20];
        new Random(7).nextBytes(big);
        Entry dir = b.mkdir(CTX, ROOT, FileName.of("dir"), 0755, 022);
        Entry bigE = write(b, dir.nodeId(), "big.bin", big);
        assertArrayEquals(big, read(b, bigE.nodeId(), 0, big.length), "big file read back whole");
        // a random read crossing the first part boundary
        int off = (5 << 20) - 1000;
        byte[] want = new byte[5000];
        System.arraycopy(big, off, want, 0, want.length);
        assertArrayEquals(want, read(b, bigE.nodeId(), off, want.length), "random read");

        b.symlink(CTX, dir.nodeId(), FileName.of("link"), "big.bin".getBytes(StandardCharsets.UTF_8));
        assertEquals(Set.of("big.bin", "link"), names(b, dir.nodeId()));
        Entry link = b.lookup(CTX, dir.nodeId(), FileName.of("link"));
        assertEquals(FileType.SYMLINK, FileType.ofMode(link.attr().mode()));
        assertArrayEquals("big.bin".getBytes(StandardCharsets.UTF_8), b.readlink(CTX, link.nodeId()));

        b.rename(CTX, ROOT, small, dir.nodeId(), FileName.of("moved.txt"), 0);
        assertEquals(Set.of("big.bin", "link", "moved.txt"), names(b, dir.nodeId()));
        assertArrayEquals(hello, read(b, b.lookup(CTX, dir.nodeId(), FileName.of("moved.txt")).nodeId(), 0, hello.length));

        // a directory rename: every key copied to the new prefix, the old ones deleted
        b.rename(CTX, ROOT, FileName.of("dir"), ROOT, FileName.of("dir2"), 0);
        assertEquals(Set.of("dir2"), names(b, ROOT));
        assertEquals(Set.of("big.bin", "link", "moved.txt"), names(b, dir.nodeId()));
        assertArrayEquals(big, read(b, b.lookup(CTX, dir.nodeId(), FileName.of("big.bin")).nodeId(), 0, big.length),
                "big file read back whole after its directory moved");

        FsException notEmpty = assertThrows(FsException.class, () -> b.rmdir(CTX, ROOT, FileName.of("dir2")));
        assertEquals(Errno.ENOTEMPTY, notEmpty.errno());
        for (String n : List.of("big.bin", "link", "moved.txt")) {
            b.unlink(CTX, dir.nodeId(), FileName.of(n));
        }
        b.rmdir(CTX, ROOT, FileName.of("dir2"));
        assertEquals(Set.of(), names(b, ROOT));
    }

    static Entry write(S3Backend b, long dir, String name, byte[] data) throws FsException {
        CreateResult cr = b.create(CTX, dir, FileName.of(name), 0644, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 022);
        long node = cr.entry().nodeId();
        long fh = cr.open().fh();
        for (int off = 0; off < data.length; off += 1 << 20) {
            int len = Math.min(1 << 20, data.length - off);
            b.write(CTX, node, fh, off, new Buffers.Source(ByteBuffer.wrap(data, off, len)), false);
        }
        b.flush(CTX, node, fh, 0);
        b.release(CTX, node, fh, 0, 0);
        return cr.entry();
    }

    static byte[] read(S3Backend b, long node, long offset, int size) throws FsException {
        long fh = b.open(CTX, node, OpenFlags.O_RDONLY).fh();
        ByteBuffer all = ByteBuffer.allocate(size);
        while (all.hasRemaining()) {
            Buffers.Sink sink = new Buffers.Sink(Math.min(all.remaining(), 128 << 10));
            b.read(CTX, node, fh, offset + all.position(), sink);
            ByteBuffer got = sink.filled();
            if (!got.hasRemaining()) {
                break;
            }
            all.put(got);
        }
        b.release(CTX, node, fh, 0, 0);
        byte[] out = new byte[all.position()];
        all.flip().get(out);
        return out;
    }

    static Set<String> names(S3Backend b, long dir) throws FsException {
        long fh = b.opendir(CTX, dir, 0).fh();
        Set<String> out = new TreeSet<>();
        long cookie = 0;
        while (true) {
            List<DirEntry> batch = new ArrayList<>();
            b.readdir(CTX, dir, fh, cookie, e -> batch.size() < 50 && batch.add(e));
            if (batch.isEmpty()) {
                break;
            }
            for (DirEntry e : batch) {
                out.add(e.name().toString());
            }
            cookie = batch.get(batch.size() - 1).nextCookie();
        }
        b.releasedir(CTX, dir, fh);
        out.remove(".");
        out.remove("..");
        return out;
    }
}
