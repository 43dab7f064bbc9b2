package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * What {@code --upload-checksums} puts on the wire, seen by a proxy in front of S3Proxy: with
 * checksums, PutObject and UploadPart bodies are aws-chunked with a CRC32 trailer; without, plain
 * bodies, which servers that predate trailers (s3rver, older gateways) store as sent. Either way
 * the object holds exactly the bytes written.
 */
class UploadChecksumsIT {
    private static final RequestContext CTX = new RequestContext(1000, 1000, 1);
    private static final int PART = S3Options.MIN_PART_SIZE;

    @TempDir
    Path cache;
    private S3ProxyFixture server;
    private FaultProxy proxy;
    private S3AsyncClient raw;

    @BeforeEach
    void setUp() throws Exception {
        server = S3ProxyFixture.shared();
        proxy = new FaultProxy(server.endpoint().getPort());
        raw = server.client(List.of());
    }

    @AfterEach
    void tearDown() throws Exception {
        raw.close();
        proxy.close();
    }

    @ParameterizedTest(name = "{0} client, --upload-checksums {1}")
    @CsvSource({"CRT, AUTO, false", "CRT, ON, true", "NETTY, OFF, false", "NETTY, ON, true"})
    void uploadsCarryATrailerOnlyWhenChecksumsAreOn(S3Options.HttpClient http, S3Options.UploadChecksums mode,
                                                   boolean trailer) throws Exception {
        String prefix = "checksums-" + http + "-" + mode + "/";
        S3Options o = server.options(cache).endpoint(proxy.endpoint()).prefix(prefix).partSize(PART)
                .httpClient(http).uploadChecksums(mode).build();
        assertEquals(trailer, o.checksumsOnUploads());
        byte[] small = random(100_000, 1);
        byte[] large = random(2 * PART + 12345, 2);   // three parts
        try (S3AsyncClient client = S3Clients.build(o)) {
            S3Backend b = new S3Backend(o, client);
            write(b, "small", small);
            write(b, "large", large);
            b.close();
        }
        List<String> uploads = proxy.heads.stream()
                .filter(h -> h.startsWith("PUT ") && !h.toLowerCase(Locale.ROOT).contains("x-amz-copy-source"))
                .filter(h -> h.contains("/small") || h.contains("/large"))
                .toList();
        assertEquals(4, uploads.size(), "one PutObject and three UploadParts: " + uploads);
        for (String head : uploads) {
            String h = head.toLowerCase(Locale.ROOT);
            assertEquals(trailer, h.contains("x-amz-trailer:"), head);
            assertEquals(trailer, h.contains("aws-chunked"), head);
        }
        assertArrayEquals(small, rawGet(prefix + "small"));
        assertArrayEquals(large, rawGet(prefix + "large"));
    }

    @org.junit.jupiter.api.Test
    void autoMeansOnForAwsAndOffForAnyOtherEndpoint() {
        assertTrue(S3Options.builder("b").build().checksumsOnUploads());
        assertEquals(false, server.options(cache).build().checksumsOnUploads());
        assertTrue(server.options(cache).uploadChecksums(S3Options.UploadChecksums.ON).build().checksumsOnUploads());
        assertEquals(false, S3Options.builder("b").uploadChecksums(S3Options.UploadChecksums.OFF).build()
                .checksumsOnUploads());
    }

    private static void write(S3Backend b, String name, byte[] data) throws FsException {
        CreateResult cr = b.create(CTX, StorageBackend.ROOT_ID, FileName.literal(name), 0644, OpenFlags.O_WRONLY, 0);
        long node = cr.entry().nodeId();
        for (int off = 0; off < data.length; off += 128 << 10) {
            int len = Math.min(128 << 10, data.length - off);
            b.write(CTX, node, cr.open().fh(), off, new Buffers.Source(ByteBuffer.wrap(data, off, len)), false);
        }
        b.release(CTX, node, cr.open().fh(), 0, 0);
    }

    private byte[] rawGet(String key) {
        return raw.getObject(r -> r.bucket(S3ProxyFixture.BUCKET).key(key), AsyncResponseTransformer.toBytes())
                .join().asByteArray();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
