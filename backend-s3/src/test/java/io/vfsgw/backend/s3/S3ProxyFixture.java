package io.vfsgw.backend.s3;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * A real S3 server for the tests: S3Proxy in-process on 127.0.0.1 (free port) over a temp
 * directory (filesystem-nio2 blob store), with SigV4 credentials. It can be stopped and started
 * again on the same port and directory to inject outages. Public: the cli ITs (host mounts, guests)
 * use it through backend-s3's test-jar.
 */
public final class S3ProxyFixture implements AutoCloseable {
    public static final String ACCESS = "vfsgw-access";
    public static final String SECRET = "vfsgw-secret-key";
    public static final String BUCKET = "vfsgw-test";

    public final Path root;
    private final int port;
    /** Serves without authentication, as a public bucket is served to unsigned requests. */
    private final boolean anonymous;
    private S3Proxy proxy;

    private S3ProxyFixture(Path root, int port, boolean anonymous) {
        this.root = root;
        this.port = port;
        this.anonymous = anonymous;
    }

    private static S3ProxyFixture shared;

    /**
     * One server per test JVM (failsafe runs every IT class in one JVM): starting S3Proxy takes
     * seconds. Tests isolate themselves by key prefix. Stopped by a shutdown hook.
     */
    public static synchronized S3ProxyFixture shared() throws Exception {
        if (shared == null) {
            S3ProxyFixture f = start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    f.close();
                } catch (Exception e) {
                    // the JVM is exiting; the temp dir is best effort
                }
            }));
            shared = f;
        }
        return shared;
    }

    public static S3ProxyFixture start() throws Exception {
        Path root = Files.createTempDirectory("s3proxy");
        S3ProxyFixture f = new S3ProxyFixture(root, freePort(), false);
        f.startServer();
        try (S3AsyncClient c = f.client(List.of())) {
            c.createBucket(b -> b.bucket(BUCKET)).join();
        }
        return f;
    }

    /**
     * A second server over another's directory that takes unsigned requests: the same buckets
     * and objects, public. Closing it stops the server and leaves the directory to its owner.
     */
    public static S3ProxyFixture anonymousView(S3ProxyFixture owner) throws Exception {
        S3ProxyFixture f = new S3ProxyFixture(owner.root, freePort(), true);
        f.startServer();
        return f;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public void startServer() throws Exception {
        proxy = S3Proxy.builder()
                .blobStore(new FilesystemNio2BlobStore(root.toString()))
                .endpoint(endpoint())
                .awsAuthentication(anonymous ? AuthenticationType.NONE : AuthenticationType.AWS_V2_OR_V4,
                        anonymous ? null : ACCESS, anonymous ? null : SECRET)
                .build();
        proxy.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
            }
            Thread.onSpinWait();
        }
    }

    public void stopServer() throws Exception {
        proxy.stop();
    }

    /** Options for a backend on this server; small retry budget so failures surface fast. */
    public S3Options.Builder options(Path cacheDir) {
        return S3Options.builder(BUCKET)
                .endpoint(endpoint())
                .pathStyle(true)
                .credentials(ACCESS, SECRET)
                .cacheDir(cacheDir)
                .maxRetries(2)
                .attemptTimeout(Duration.ofSeconds(20))
                .callTimeout(Duration.ofSeconds(40));
    }

    public S3AsyncClient client(List<ExecutionInterceptor> interceptors) {
        // Netty explicitly: the tests' reference client (and S3Proxy answers GET of a "dir/" marker
        // without ETag, which the CRT client's GET refuses; the backend only HEADs markers)
        return S3Clients.build(options(root.resolve("unused")).httpClient(S3Options.HttpClient.NETTY).build(),
                interceptors);
    }

    @Override
    public void close() throws IOException {
        if (proxy != null) {
            try {
                proxy.stop();
            } catch (Exception e) {
                throw new IOException("stopping S3Proxy", e);
            }
        }
        if (anonymous) {
            return;   // the directory is the owner's
        }
        try (Stream<Path> s = Files.walk(root)) {
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
