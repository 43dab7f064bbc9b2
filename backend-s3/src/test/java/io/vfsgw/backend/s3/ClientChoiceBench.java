package io.vfsgw.backend.s3;

import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32C;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * Netty vs CRT S3 client, measured through {@link S3Backend} against S3Proxy on 127.0.0.1 (not a
 * test: a main that prints a table; docs/s3-client-choice.md holds the result). The server runs in
 * its own JVM; every measured round is a fresh child JVM with one client, so peak RSS and heap
 * belong to that client alone; rounds alternate netty/crt and the table shows medians.
 *
 * <pre>
 * mvn -q -pl backend-s3 -am test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp backend-s3/target/test-classes:backend-s3/target/classes:$(cat /tmp/cp.txt) \
 *      [-Dbench.xmx=1g] io.vfsgw.backend.s3.ClientChoiceBench [rounds]
 * </pre>
 */
public final class ClientChoiceBench {
    private static final RequestContext CTX = new RequestContext(0, 0, 1);
    private static final int BIG = 256 << 20;
    private static final int IO = 1 << 20;          // the mount's max_write / read-ahead size
    private static final int SMALL = 4096;
    private static final int SMALL_COUNT = 2000;
    private static final int PARALLEL = 8;

    private ClientChoiceBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("server")) {
            server();
        } else if (args.length > 0 && args[0].equals("client")) {
            client(S3Options.HttpClient.valueOf(args[1]), URI.create(args[2]), Path.of(args[3]));
        } else {
            orchestrate(args.length > 0 ? Integer.parseInt(args[0]) : 3);
        }
    }

    /** S3Proxy alone in this JVM; prints its endpoint, runs until stdin closes. */
    private static void server() throws Exception {
        try (S3ProxyFixture f = S3ProxyFixture.start()) {
            System.out.println("ENDPOINT " + f.endpoint());
            System.out.flush();
            while (System.in.read() >= 0) {
                // wait for the parent to go away
            }
        }
    }

    private static void orchestrate(int rounds) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        String cp = System.getProperty("java.class.path");
        Process server = new ProcessBuilder(java.toString(), "-Xmx1g", "-cp", cp, ClientChoiceBench.class.getName(),
                "server").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String endpoint = null;
            for (String l; (l = out.readLine()) != null; ) {
                if (l.startsWith("ENDPOINT ")) {
                    endpoint = l.substring(9);
                    break;
                }
            }
            if (endpoint == null) {
                throw new IllegalStateException("S3Proxy server JVM exited before printing its endpoint");
            }
            Map<String, Map<String, List<Double>>> results = new LinkedHashMap<>();
            for (int r = 0; r < rounds; r++) {
                // alternate which client goes first so neither always gets the warmer server
                List<S3Options.HttpClient> order = r % 2 == 0
                        ? List.of(S3Options.HttpClient.NETTY, S3Options.HttpClient.CRT)
                        : List.of(S3Options.HttpClient.CRT, S3Options.HttpClient.NETTY);
                for (S3Options.HttpClient c : order) {
                    Path cache = Files.createTempDirectory("bench-cache");
                    Process p = new ProcessBuilder(java.toString(), "-Xmx" + System.getProperty("bench.xmx", "1g"), "-cp", cp, ClientChoiceBench.class.getName(),
                            "client", c.name(), endpoint, cache.toString())
                            .redirectErrorStream(true).start();
                    BufferedReader pr = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                    for (String l; (l = pr.readLine()) != null; ) {
                        if (l.startsWith("RESULT ")) {
                            String[] kv = l.substring(7).split("=");
                            results.computeIfAbsent(kv[0], k -> new LinkedHashMap<>())
                                    .computeIfAbsent(c.name(), k -> new ArrayList<>()).add(Double.parseDouble(kv[1]));
                        } else {
                            System.err.println("[" + c + " round " + (r + 1) + "] " + l);
                        }
                    }
                    int rc = p.waitFor();
                    if (rc != 0) {
                        System.err.println("[" + c + " round " + (r + 1) + "] exited " + rc);
                    }
                }
            }
            System.out.printf("%nmedian (min-max) of %d rounds (S3Proxy on 127.0.0.1, through S3Backend)%n", rounds);
            System.out.printf("| %-34s | %20s | %20s |%n", "measure", "netty", "crt");
            System.out.printf("|%s|%s|%s|%n", "-".repeat(36), "-".repeat(22), "-".repeat(22));
            for (var e : results.entrySet()) {
                System.out.printf("| %-34s | %20s | %20s |%n", e.getKey(),
                        median(e.getValue().get("NETTY")), median(e.getValue().get("CRT")));
            }
        } finally {
            server.getOutputStream().close();
            server.waitFor();
        }
    }

    private static String median(List<Double> v) {
        if (v == null || v.isEmpty()) {
            return "failed";
        }
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double m = a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
        return String.format("%.1f (%.1f-%.1f)", m, a[0], a[a.length - 1]);
    }

    /** One measured round with one client, in a fresh JVM. */
    private static void client(S3Options.HttpClient kind, URI endpoint, Path cache) throws Exception {
        S3Options o = S3Options.builder(S3ProxyFixture.BUCKET).endpoint(endpoint).pathStyle(true)
                .credentials(S3ProxyFixture.ACCESS, S3ProxyFixture.SECRET).cacheDir(cache)
                .prefix("bench-" + kind + "-" + System.nanoTime()).httpClient(kind).build();
        try (S3AsyncClient s3 = S3Clients.build(o)) {
            S3Backend b = new S3Backend(o, s3);
            try {
                ByteBuffer block = ByteBuffer.allocateDirect(8 << 20);
                byte[] rnd = new byte[block.capacity()];
                new Random(42).nextBytes(rnd);
                block.put(rnd).flip();

                // warm-up: JIT, connection pool, TLS-free handshakes; not reported
                long warm = put(b, "warm", block, 16 << 20);
                get(b, warm, 16 << 20);
                smallGets(b, warm, 16 << 20, 200, 1);

                long t0 = System.nanoTime();
                long node = put(b, "big", block, BIG);
                long t1 = System.nanoTime();
                long crc = get(b, node, BIG);
                long t2 = System.nanoTime();
                if (crc != expectedCrc(block, BIG)) {
                    throw new IllegalStateException("read back differs from what was written");
                }
                double[] lat = smallGets(b, node, BIG, SMALL_COUNT, 1);
                long t3 = System.nanoTime();
                smallGets(b, node, BIG, SMALL_COUNT, PARALLEL);
                long t4 = System.nanoTime();

                result("PUT 256 MiB, MiB/s", BIG / 1048576.0 / ((t1 - t0) / 1e9));
                result("GET 256 MiB, MiB/s", BIG / 1048576.0 / ((t2 - t1) / 1e9));
                result("2000 x 4 KiB GET serial, s", (t3 - t2) / 1e9);
                result("  one 4 KiB GET p50, ms", lat[lat.length / 2]);
                result("  one 4 KiB GET p99, ms", lat[lat.length * 99 / 100]);
                result("2000 x 4 KiB GET 8 threads, s", (t4 - t3) / 1e9);
                result("process CPU, s", ((com.sun.management.OperatingSystemMXBean)
                        ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9);
                result("peak heap used, MiB", peakHeap() / 1048576.0);
                result("peak RSS, MiB", vmHwmKb() / 1024.0);
            } finally {
                b.close();
            }
        }
    }

    private static void result(String name, double v) {
        System.out.println("RESULT " + name + "=" + v);
    }

    /** Creates and writes {@code size} bytes (the block repeated) in 1 MiB writes, then closes. */
    private static long put(S3Backend b, String name, ByteBuffer block, int size) throws Exception {
        CreateResult cr = b.create(CTX, io.vfsgw.spi.StorageBackend.ROOT_ID, FileName.literal(name), 0644, OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 022);
        long node = cr.entry().nodeId();
        long fh = cr.open().fh();
        for (int off = 0; off < size; off += IO) {
            ByteBuffer chunk = block.slice(off % block.capacity(), IO);
            b.write(CTX, node, fh, off, new Buffers.Source(chunk), false);
        }
        b.flush(CTX, node, fh, 0);
        b.release(CTX, node, fh, 0, 0);
        return node;
    }

    /** Reads the file sequentially in 1 MiB reads; returns the CRC32C of its content. */
    private static long get(S3Backend b, long node, int size) throws Exception {
        long fh = b.open(CTX, node, OpenFlags.O_RDONLY).fh();
        CRC32C crc = new CRC32C();
        Buffers.Sink sink = new Buffers.Sink(IO);
        for (long off = 0; off < size; ) {
            sink.buf.clear();
            b.read(CTX, node, fh, off, sink);
            ByteBuffer got = sink.filled();
            if (!got.hasRemaining()) {
                throw new IllegalStateException("short file at " + off);
            }
            off += got.remaining();
            crc.update(got);
        }
        b.release(CTX, node, fh, 0, 0);
        return crc.getValue();
    }

    private static long expectedCrc(ByteBuffer block, int size) {
        CRC32C crc = new CRC32C();
        for (int off = 0; off < size; off += block.capacity()) {
            crc.update(block.duplicate().limit(Math.min(block.capacity(), size - off)));
        }
        return crc.getValue();
    }

    /**
     * {@code count} 4 KiB reads at random 4 KiB-aligned offsets (never 0, so each is a random read:
     * exactly one ranged GET), spread over {@code threads} handles; returns per-read latencies in ms.
     */
    private static double[] smallGets(S3Backend b, long node, int size, int count, int threads) throws Exception {
        ExecutorService ex = Executors.newFixedThreadPool(threads);
        try {
            List<Future<double[]>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                int n = count / threads;
                fs.add(ex.submit(() -> {
                    long fh = b.open(CTX, node, OpenFlags.O_RDONLY).fh();
                    Random r = new Random(seed);
                    double[] lat = new double[n];
                    Buffers.Sink sink = new Buffers.Sink(SMALL);
                    long prevEnd = -1;
                    for (int i = 0; i < n; i++) {
                        long off;
                        do {
                            off = (1 + r.nextInt(size / SMALL - 1)) * (long) SMALL;
                        } while (off == prevEnd);
                        sink.buf.clear();
                        long s = System.nanoTime();
                        b.read(CTX, node, fh, off, sink);
                        lat[i] = (System.nanoTime() - s) / 1e6;
                        if (sink.filled().remaining() != SMALL) {
                            throw new IllegalStateException("short 4 KiB read at " + off);
                        }
                        prevEnd = off + SMALL;
                    }
                    b.release(CTX, node, fh, 0, 0);
                    return lat;
                }));
            }
            List<double[]> all = new ArrayList<>();
            for (Future<double[]> f : fs) {
                all.add(f.get());
            }
            double[] lat = all.stream().flatMapToDouble(Arrays::stream).toArray();
            Arrays.sort(lat);
            return lat;
        } finally {
            ex.shutdown();
        }
    }

    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    /** Peak resident set size of this process (VmHWM), KiB. */
    private static long vmHwmKb() throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("VmHWM:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
