package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfsgw.spi.FileName;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * The backend against s3rver 3.7.1 (Node.js, objects in plain files), an S3 implementation
 * written apart from S3Proxy and the AWS SDK, run as a child process on a free loopback port.
 * It predates the SDK's aws-chunked uploads with checksum trailers and stores such a body
 * verbatim, which is why {@code --upload-checksums auto} leaves them off for any endpoint.
 * s3rver comes from testing/s3rver (npm ci on first use); without node or npm the test says so
 * and is skipped.
 */
class S3rverIT {
    private static final String ACCESS = "S3RVER";   // s3rver's fixed credentials
    private static final Pattern LISTENING = Pattern.compile("S3rver listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final List<String> BUCKETS = List.of("vfsgw-crt", "vfsgw-netty", "checksums", "placed", "walk");

    @TempDir
    static Path data;
    @TempDir
    Path cache;
    private static Process server;
    private static URI endpoint;

    @BeforeAll
    static void start() throws Exception {
        Path pkg = Path.of(System.getProperty("user.dir")).resolveSibling("testing").resolve("s3rver");
        Path bin = pkg.resolve("node_modules/s3rver/bin/s3rver.js");
        if (!Files.exists(bin)) {
            install(pkg);
        }
        ProcessBuilder pb = new ProcessBuilder("node", bin.toString(), "-d", data.toString(),
                "-a", "127.0.0.1", "-p", "0", "-s");
        BUCKETS.forEach(b -> pb.command().addAll(List.of("--configure-bucket", b)));
        // its ListObjects continuation tokens use a cipher OpenSSL 3 only has in the legacy provider
        pb.environment().put("NODE_OPTIONS", "--openssl-legacy-provider");
        pb.redirectErrorStream(true);
        server = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<Integer> port = CompletableFuture.supplyAsync(() -> {
            try {
                for (String line; (line = out.readLine()) != null; ) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        return Integer.parseInt(m.group(1));
                    }
                    System.out.println("s3rver: " + line);
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            throw new IllegalStateException("s3rver exited before listening");
        });
        endpoint = URI.create("http://127.0.0.1:" + port.get(30, TimeUnit.SECONDS));
        Thread drain = new Thread(() -> out.lines().forEach(l -> System.out.println("s3rver: " + l)), "s3rver-out");
        drain.setDaemon(true);
        drain.start();
    }

    private static void install(Path pkg) throws Exception {
        Process npm;
        try {
            npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(pkg.toFile())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            skip("npm not found (" + e.getMessage() + "); install Node.js and npm, or run npm ci in " + pkg);
            return;
        }
        String log = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!npm.waitFor(5, TimeUnit.MINUTES) || npm.exitValue() != 0) {
            skip("npm ci in " + pkg + " failed (no npm registry?): " + log.strip());
        }
    }

    private static void skip(String why) {
        System.out.println("S3rverIT skipped: " + why);
        Assumptions.abort(why);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) {
            server.destroy();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private S3Options.Builder options(String bucket) {
        return S3Options.builder(bucket).endpoint(endpoint).pathStyle(true).credentials(ACCESS, ACCESS)
                .cacheDir(cache).partSize(S3Options.MIN_PART_SIZE);
    }

    @ParameterizedTest
    @EnumSource(S3Options.HttpClient.class)
    void coreOperations(S3Options.HttpClient http) throws Exception {
        S3Backend b = S3Backend.open(options("vfsgw-" + http.name().toLowerCase(Locale.ROOT)).httpClient(http).build());
        try {
            CoreOps.run(b);
        } finally {
            b.close();
        }
    }

    /** Why auto is off for other endpoints: here an upload with a checksum keeps its framing. */
    @Test
    void anUploadWithAChecksumTrailerIsStoredFramingAndAll() throws Exception {
        byte[] body = "eleven byte".getBytes(StandardCharsets.UTF_8);
        for (S3Options.UploadChecksums mode : List.of(S3Options.UploadChecksums.AUTO, S3Options.UploadChecksums.ON)) {
            S3Options o = options("checksums").uploadChecksums(mode).build();
            String key = "object-" + mode;
            try (S3AsyncClient c = S3Clients.build(o)) {
                Uploads.put(c, o, key, java.util.Map.of(), "application/octet-stream", AsyncRequestBody.fromBytes(body));
                long stored = c.headObject(h -> h.bucket("checksums").key(key)).join().contentLength();
                if (mode == S3Options.UploadChecksums.AUTO) {
                    assertEquals(body.length, stored, "auto: plain body");
                } else {
                    assertEquals(true, stored > body.length, "on: s3rver kept the aws-chunked framing: " + stored);
                }
            }
        }
    }

    /** --storage-class and --sse on the wire (S3Proxy refuses encryption, s3rver takes it). */
    @Test
    void storageClassAndEncryptionGoOnEveryRequestThatMakesAnObject() throws Exception {
        try (FaultProxy proxy = new FaultProxy(endpoint.getPort())) {
            S3Options o = options("placed").endpoint(proxy.endpoint()).prefix("placed/")
                    .httpClient(S3Options.HttpClient.NETTY).storageClass("STANDARD_IA")
                    .serverSideEncryption("aws:kms", "alias/vfsgw-test").build();
            UploadHeadersIT.assertPlaced(o, proxy, List.of("x-amz-storage-class: standard_ia",
                    "x-amz-server-side-encryption: aws:kms",
                    "x-amz-server-side-encryption-aws-kms-key-id: alias/vfsgw-test"));
            try (S3AsyncClient c = S3Clients.build(options("placed").build())) {
                for (String key : List.of("placed/large", "placed/dir2/small")) {
                    assertEquals("STANDARD_IA", c.headObject(h -> h.bucket("placed").key(key)).join().storageClassAsString(),
                            key);
                }
            }
        }
    }

    /**
     * A walk that reads what it lists takes its small files from ranged GETs made ahead, sizes
     * from Content-Range: the bytes must be each file's on this server too.
     */
    @ParameterizedTest
    @EnumSource(S3Options.HttpClient.class)
    void aReadingWalkGetsEveryFilesOwnBytes(S3Options.HttpClient http) throws Exception {
        String dirName = "d-" + http.name().toLowerCase(Locale.ROOT);
        S3Options o = options("walk").httpClient(http).build();
        List<byte[]> data = new ArrayList<>();
        RequestContext ctx = new RequestContext(0, 0, 1);
        S3Backend writer = S3Backend.open(o);
        long dir = writer.mkdir(ctx, StorageBackend.ROOT_ID, FileName.of(dirName), 0755, 022).nodeId();
        for (int i = 0; i < 12; i++) {
            byte[] bytes = new byte[1000 * i + 1];
            new Random(i).nextBytes(bytes);
            data.add(bytes);
            CoreOps.write(writer, dir, String.format("f%02d", i), bytes);
        }
        writer.close();
        S3Backend b = S3Backend.open(o);
        try {
            long d = b.lookup(ctx, StorageBackend.ROOT_ID, FileName.of(dirName)).nodeId();
            assertEquals(12, CoreOps.names(b, d).size());
            for (int i = 0; i < 12; i++) {
                long node = b.lookup(ctx, d, FileName.of(String.format("f%02d", i))).nodeId();
                assertEquals(data.get(i).length, b.getattr(ctx, node, 0).size());
                assertArrayEquals(data.get(i),
                        CoreOps.read(b, node, 0, data.get(i).length), "f" + i);
            }
        } finally {
            b.close();
        }
    }
}
