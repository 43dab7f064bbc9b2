package io.vfsgw.backend.s3;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * A second real S3 server for the tests: Adobe S3Mock (its executable jar, copied to
 * target/s3mock/ by the pom) as a child JVM on 127.0.0.1. Unlike S3Proxy it stores objects by id,
 * not as file paths, so it holds keys S3Proxy cannot: {@code a} next to {@code a/x}, {@code a//b},
 * {@code .}/{@code ..} segments, segments over 255 bytes. It accepts any credentials.
 */
final class S3MockFixture implements AutoCloseable {
    static final String BUCKET = "vfsgw-test";

    private final Process process;
    private final Path dir;
    private final int port;

    private S3MockFixture(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
    }

    /** Starts S3Mock with {@link #BUCKET} created and waits (up to 60 s) until it answers. */
    static S3MockFixture start() throws Exception {
        Path jar = Path.of(System.getProperty("s3mock.jar", "target/s3mock/s3mock.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("S3Mock jar " + jar.toAbsolutePath() + " is missing: run the ITs through "
                    + "`mvn verify` (the pom copies com.adobe.testing:s3mock:exec there before integration-test)");
        }
        Path dir = Files.createTempDirectory("s3mock");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",   // start fast, stay small
                "-jar", jar.toString(),
                "--http.port=" + port,
                "--server.port=0",                                             // its HTTPS connector: any free port
                "--server.address=127.0.0.1",
                "--com.adobe.testing.s3mock.store.root=" + dir.resolve("store"),
                "--com.adobe.testing.s3mock.store.initial-buckets=" + BUCKET,
                "--logging.level.root=WARN")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("s3mock.log").toFile())
                .start();
        S3MockFixture f = new S3MockFixture(p, dir, port);
        try {
            f.awaitReady(Duration.ofSeconds(60));
        } catch (Exception e) {
            f.close();
            throw e;
        }
        return f;
    }

    private void awaitReady(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (S3AsyncClient c = client()) {
            while (true) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("S3Mock exited with " + process.exitValue() + ": " + logTail());
                }
                try {
                    c.headBucket(b -> b.bucket(BUCKET)).join();
                    return;
                } catch (RuntimeException notYet) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("S3Mock did not answer within " + timeout + ": " + logTail(),
                                notYet);
                    }
                    Thread.sleep(200);   // polling a server that is booting; the deadline bounds it
                }
            }
        }
    }

    private String logTail() {
        try {
            List<String> l = Files.readAllLines(dir.resolve("s3mock.log"), StandardCharsets.UTF_8);
            return String.join("\n", l.subList(Math.max(0, l.size() - 20), l.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** Options for a backend on this server; small retry budget so failures surface fast. */
    S3Options.Builder options(Path cacheDir) {
        return S3Options.builder(BUCKET)
                .endpoint(endpoint())
                .pathStyle(true)
                .credentials("any", "any-secret")
                .cacheDir(cacheDir)
                .maxRetries(1)
                .attemptTimeout(Duration.ofSeconds(10))
                .callTimeout(Duration.ofSeconds(20));
    }

    /** The tests' reference client: Netty, like S3ProxyFixture's (the odd-key logic is client-independent). */
    S3AsyncClient client() {
        return S3Clients.build(options(dir.resolve("unused")).httpClient(S3Options.HttpClient.NETTY).build());
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // temp dir cleanup is best effort
                }
            });
        }
    }
}
