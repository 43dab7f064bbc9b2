package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.CreateResult;
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
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * The CRT-based client ({@link S3Options.HttpClient#CRT}) under the backend, against S3Proxy. The
 * main suite (S3BackendIT) counts requests with SDK interceptors, which only the Netty client has,
 * so it runs on Netty; this suite covers what differs with the CRT: its HTTP path, its error
 * translation (404, 412 If-Match, connection refused) and its retries.
 */
class CrtClientIT {
    private static final RequestContext CTX = new RequestContext(1000, 1000, 42);
    private static S3ProxyFixture server;

    @TempDir
    Path cache;
    private String prefix;
    private S3AsyncClient crt;
    private S3Backend backend;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3ProxyFixture.shared();
    }

    @AfterEach
    void close() throws FsException {
        if (backend != null) {
            backend.close();
        }
        if (crt != null) {
            crt.close();
        }
    }

    private S3Backend backend(TestInfo info) {
        prefix = "crt-" + info.getTestMethod().orElseThrow().getName() + "/";
        S3Options o = server.options(cache).prefix(prefix).partSize(S3Options.MIN_PART_SIZE)
                .httpClient(S3Options.HttpClient.CRT).maxRetries(1).build();
        crt = S3Clients.build(o);
        assertTrue(crt.getClass().getName().contains("Crt"), "a CRT-based client: " + crt.getClass().getName());
        backend = new S3Backend(o, crt);
        options = o;
        return backend;
    }

    private S3Options options;

    @Test
    void directoryMarkerMetadataIsReadBackThroughTheCrt(TestInfo info) throws Exception {
        S3Backend b = backend(info);
        b.mkdir(CTX, StorageBackend.ROOT_ID, FileName.of("d"), 0750, 0);
        S3Backend fresh = new S3Backend(options, crt);   // empty caches: lookup HEADs the marker
        try {
            assertEquals(FileType.DIRECTORY.modeBits() | 0750,
                    fresh.lookup(CTX, StorageBackend.ROOT_ID, FileName.of("d")).attr().mode());
        } finally {
            fresh.close();
        }
    }

    @Test
    void coreOperations(TestInfo info) throws Exception {
        CoreOps.run(backend(info));
    }

    @Test
    void objectReplacedUnderAnOpenHandleIsEstale(TestInfo info) throws Exception {
        S3Backend b = backend(info);
        Entry e = CoreOps.write(b, StorageBackend.ROOT_ID, "v", "one".getBytes(StandardCharsets.UTF_8));
        long fh = b.open(CTX, e.nodeId(), OpenFlags.O_RDONLY).fh();
        try (S3AsyncClient raw = server.client(List.of())) {
            raw.putObject(r -> r.bucket(S3ProxyFixture.BUCKET).key(prefix + "v"), AsyncRequestBody.fromString("two!")).join();
        }
        FsException stale = assertThrows(FsException.class, () -> b.read(CTX, e.nodeId(), fh, 0, new Buffers.Sink(10)));
        assertEquals(Errno.ESTALE, stale.errno(), "If-Match 412 through the CRT");
        b.release(CTX, e.nodeId(), fh, 0, 0);
    }

    @Test
    void oneInjected500IsRetriedInvisibly(TestInfo info) throws Exception {
        prefix = "crt-" + info.getTestMethod().orElseThrow().getName() + "/";
        try (FaultProxy proxy = new FaultProxy(server.endpoint().getPort())) {
            S3Options o = server.options(cache).endpoint(proxy.endpoint()).prefix(prefix)
                    .httpClient(S3Options.HttpClient.CRT).maxRetries(2).build();
            crt = S3Clients.build(o);
            backend = new S3Backend(o, crt);
            byte[] data = new byte[300 << 10];
            new java.util.Random(5).nextBytes(data);
            proxy.failNext(1, r -> r.method().equals("PUT"));
            Entry e = CoreOps.write(backend, StorageBackend.ROOT_ID, "f", data);
            assertEquals(1, proxy.injected.get(), "the PUT got its 500");
            proxy.failNext(1, r -> r.method().equals("GET") && r.target().contains("/f"));
            assertArrayEquals(data, CoreOps.read(backend, e.nodeId(), 0, data.length), "read through a retried GET");
            assertEquals(2, proxy.injected.get(), "the GET got its 500");
        }
    }

    @Test
    void outageGivesEioAndTheRetrySucceeds(TestInfo info) throws Exception {
        S3Backend b = backend(info);
        byte[] data = new byte[1 << 20];
        new java.util.Random(3).nextBytes(data);
        CreateResult cr = b.create(CTX, StorageBackend.ROOT_ID, FileName.of("outage"), 0644,
                OpenFlags.O_WRONLY | OpenFlags.O_CREAT, 022);
        long node = cr.entry().nodeId();
        long fh = cr.open().fh();
        b.write(CTX, node, fh, 0, new Buffers.Source(ByteBuffer.wrap(data)), false);
        server.stopServer();
        long t0 = System.nanoTime();
        try {
            FsException down = assertThrows(FsException.class, () -> b.flush(CTX, node, fh, 0));
            assertEquals(Errno.EIO, down.errno(), "connection refused through the CRT, after its retries");
        } finally {
            server.startServer();
        }
        long secs = (System.nanoTime() - t0) / 1_000_000_000L;
        assertTrue(secs < 30, "EIO came after " + secs + " s");
        b.flush(CTX, node, fh, 0);
        b.release(CTX, node, fh, 0, 0);
        assertArrayEquals(data, CoreOps.read(b, node, 0, data.length));
    }
}
