package io.vfsgw.backend.mem;

import io.vfsgw.spi.BufferWriteSource;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Not a test: a one-shot measurement of what writing 1 GiB into a {@link MemBackend} costs in time
 * and garbage collection. Writes GiB files in 1 MiB chunks from a direct buffer (as guest memory
 * would be), deletes the first file and writes a second, and prints wall time, GC count and GC time
 * per pass plus the process RSS. Run by hand (see the report of the off-heap change), e.g.
 * {@code java -cp ... io.vfsgw.backend.mem.WriteGcBench [MiB]}.
 */
public final class WriteGcBench {
    private WriteGcBench() {
    }

    public static void main(String[] args) throws Exception {
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
        MemBackend fs = new MemBackend(MemOptions.ofCapacity((mib + 64L) << 20));
        ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        for (int i = 0; i < chunk.capacity(); i++) {
            chunk.put(i, (byte) (i * 31 + (i >>> 9)));
        }
        for (String pass : new String[] {"a", "b"}) {
            long gcCount0 = gcCount();
            long gcMs0 = gcMillis();
            long cpu0 = cpuMillis();
            long t0 = System.nanoTime();
            CreateResult c = fs.create(RequestContext.ROOT, StorageBackend.ROOT_ID, name(pass), 0644, OpenFlags.O_RDWR, 0);
            long node = c.entry().nodeId();
            long fh = c.open().fh();
            for (long off = 0; off < ((long) mib << 20); off += chunk.capacity()) {
                fs.write(RequestContext.ROOT, node, fh, off, new BufferWriteSource(chunk), false);
            }
            long t1 = System.nanoTime();
            System.out.printf("pass %s: wrote %d MiB in %d ms (%.0f MiB/s), process CPU %d ms; GC: %d collections,"
                    + " %d ms; RSS %d MiB%n", pass, mib, (t1 - t0) / 1_000_000, mib / ((t1 - t0) / 1e9),
                    cpuMillis() - cpu0, gcCount() - gcCount0, gcMillis() - gcMs0, rssKib() / 1024);
            long d0 = System.nanoTime();
            fs.release(RequestContext.ROOT, node, fh, OpenFlags.O_RDWR, 0);
            fs.unlink(RequestContext.ROOT, StorageBackend.ROOT_ID, name(pass));
            fs.forget(node, 1);
            long d1 = System.nanoTime();
            System.out.printf("pass %s: delete took %d ms; after delete RSS %d MiB, budget used %d bytes%n", pass,
                    (d1 - d0) / 1_000_000, rssKib() / 1024, fs.usedBytes());
        }
    }

    private static FileName name(String s) throws FsException {
        return FileName.of(s.getBytes(StandardCharsets.UTF_8));
    }

    private static long gcCount() {
        long n = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, b.getCollectionCount());
        }
        return n;
    }

    private static long gcMillis() {
        long n = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, b.getCollectionTime());
        }
        return n;
    }

    /** CPU time of the whole process (all threads, GC threads included). */
    private static long cpuMillis() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime() / 1_000_000;
    }

    private static long rssKib() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
