import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * The direct-client ceiling of the S3 benchmark (bench/s3/run.sh): the same AWS SDK v2 async
 * client vfsgw uses, doing each benchmark operation in the most direct way. Prints one JSON line
 * per command. Usage: java -cp CLASSPATH SdkBench.java ENDPOINT BUCKET COMMAND ARGS...
 */
public class SdkBench {
    static S3AsyncClient s3;
    static String bucket;

    public static void main(String[] a) throws Exception {
        bucket = a[1];
        s3 = S3AsyncClient.builder().endpointOverride(URI.create(a[0])).region(Region.US_EAST_1)
                .credentialsProvider(DefaultCredentialsProvider.create()).forcePathStyle(true)
                .httpClientBuilder(NettyNioAsyncHttpClient.builder().maxConcurrency(64)).build();
        if (a[2].startsWith("warm-")) {
            // One untimed pass first (JIT, connection pool), then the driver marks its request log
            // and says "go": the ceiling is the SDK at its best, as the long-running gateway is.
            a[2] = a[2].substring(5);
            run(a);
            System.out.println("warm");
            System.out.flush();
            new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();
        }
        long t0 = System.nanoTime();
        String out = run(a);
        System.out.println(out.replace("}", ",\"seconds\":" + (System.nanoTime() - t0) / 1e9 + "}").replace("{,", "{"));
        s3.close();
    }

    static String run(String[] a) throws Exception {
        return switch (a[2]) {
            case "mb" -> {
                s3.createBucket(b -> b.bucket(bucket)).join();
                yield "{}";
            }
            case "populate" -> populate(a[3], Integer.parseInt(a[4]));
            case "seqwrite" -> seqwrite(a[3], Path.of(a[4]), Integer.parseInt(a[5]) << 20, Integer.parseInt(a[6]));
            case "seqread" -> seqread(a[3], Integer.parseInt(a[4]) << 20, Integer.parseInt(a[5]));
            case "rand" -> rand(a[3], Double.parseDouble(a[4]), Integer.parseInt(a[5]));
            case "list" -> list(a[3]);
            case "small" -> small(a[3], Integer.parseInt(a[4]));
            case "copy" -> {
                s3.copyObject(b -> b.sourceBucket(bucket).sourceKey(a[3]).destinationBucket(bucket).destinationKey(a[4]))
                        .join();
                yield "{}";
            }
            default -> throw new IllegalArgumentException("unknown command " + a[2]);
        };
    }

    static String populate(String prefix, int n) {
        Semaphore sem = new Semaphore(64);
        List<CompletableFuture<?>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            sem.acquireUninterruptibly();
            String key = String.format("%sf%05d", prefix, i);
            all.add(s3.putObject(b -> b.bucket(bucket).key(key), AsyncRequestBody.fromString("x"))
                    .whenComplete((r, e) -> sem.release()));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
        return "{\"objects\":" + n + "}";
    }

    /** Multipart upload from the file: partSize parts, inflight at once (a file under one part: one PUT). */
    static String seqwrite(String key, Path file, int partSize, int inflight) throws Exception {
        long size = Files.size(file);
        long t0 = System.nanoTime();
        if (size <= partSize) {
            s3.putObject(b -> b.bucket(bucket).key(key), AsyncRequestBody.fromFile(file)).join();
        } else {
            String id = s3.createMultipartUpload(b -> b.bucket(bucket).key(key)).join().uploadId();
            List<CompletableFuture<CompletedPart>> parts = new ArrayList<>();
            ArrayDeque<CompletableFuture<CompletedPart>> window = new ArrayDeque<>();
            int n = 1;
            for (long off = 0; off < size; off += partSize, n++) {
                long len = Math.min(partSize, size - off);
                int num = n;
                long pos = off;
                AsyncRequestBody body = AsyncRequestBody.fromFile(c -> c.path(file).position(pos).numBytesToRead(len));
                CompletableFuture<CompletedPart> f = s3.uploadPart(b -> b.bucket(bucket).key(key).uploadId(id)
                        .partNumber(num).contentLength(len), body)
                        .thenApply(r -> CompletedPart.builder().partNumber(num).eTag(r.eTag()).build());
                parts.add(f);
                window.add(f);
                if (window.size() >= inflight) {
                    window.poll().join();
                }
            }
            List<CompletedPart> done = parts.stream().map(CompletableFuture::join).toList();
            s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(id)
                    .multipartUpload(CompletedMultipartUpload.builder().parts(done).build())).join();
        }
        double s = (System.nanoTime() - t0) / 1e9;
        return "{\"bytes\":" + size + ",\"mibps\":" + size / 1048576.0 / s + "}";
    }

    /** Ranged GETs of partSize, inflight at once, bodies counted and dropped. */
    static String seqread(String key, int partSize, int inflight) {
        long size = s3.headObject(b -> b.bucket(bucket).key(key)).join().contentLength();
        long t0 = System.nanoTime();
        ArrayDeque<CompletableFuture<Long>> window = new ArrayDeque<>();
        long got = 0;
        for (long off = 0; off < size; off += partSize) {
            String range = "bytes=" + off + "-" + (Math.min(size, off + partSize) - 1);
            window.add(s3.getObject(b -> b.bucket(bucket).key(key).range(range), AsyncResponseTransformer.toBytes())
                    .thenApply(r -> (long) r.asByteBuffer().remaining()));
            if (window.size() >= inflight) {
                got += window.poll().join();
            }
        }
        while (!window.isEmpty()) {
            got += window.poll().join();
        }
        double s = (System.nanoTime() - t0) / 1e9;
        if (got != size) {
            throw new IllegalStateException("read " + got + " of " + size);
        }
        return "{\"bytes\":" + got + ",\"mibps\":" + got / 1048576.0 / s + "}";
    }

    /** One 4 KiB ranged GET at a time at random aligned offsets, maxIos or seconds (as fio psync, 1 job). */
    static String rand(String key, double seconds, int maxIos) {
        long size = s3.headObject(b -> b.bucket(bucket).key(key)).join().contentLength();
        long blocks = size / 4096;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long t0 = System.nanoTime();
        int ios = 0;
        long bytes = 0;
        while (System.nanoTime() < end && ios < maxIos) {
            long off = ThreadLocalRandom.current().nextLong(blocks) * 4096;
            String range = "bytes=" + off + "-" + (off + 4095);
            bytes += s3.getObject(b -> b.bucket(bucket).key(key).range(range), AsyncResponseTransformer.toBytes())
                    .join().asByteBuffer().remaining();
            ios++;
        }
        double s = (System.nanoTime() - t0) / 1e9;
        return "{\"ios\":" + ios + ",\"bytes\":" + bytes + ",\"iops\":" + ios / s + "}";
    }

    static String list(String prefix) {
        int[] count = {0};
        s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix).delimiter("/")).contents()
                .subscribe(o -> count[0]++).join();
        return "{\"entries\":" + count[0] + "}";
    }

    /** n x (PUT 100 bytes), then n x HEAD, then n x DELETE; seconds of each phase. */
    static String small(String prefix, int n) {
        byte[] data = new byte[100];
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            String key = prefix + "f" + i;
            s3.putObject(b -> b.bucket(bucket).key(key), AsyncRequestBody.fromBytes(data)).join();
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            String key = prefix + "f" + i;
            s3.headObject(b -> b.bucket(bucket).key(key)).join();
        }
        long t2 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            String key = prefix + "f" + i;
            s3.deleteObject(b -> b.bucket(bucket).key(key)).join();
        }
        long t3 = System.nanoTime();
        return "{\"create\":" + (t1 - t0) / 1e9 + ",\"stat\":" + (t2 - t1) / 1e9 + ",\"unlink\":" + (t3 - t2) / 1e9 + "}";
    }
}
