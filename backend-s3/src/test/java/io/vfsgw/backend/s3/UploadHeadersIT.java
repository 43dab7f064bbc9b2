package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.FileName;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
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
 * What the options put on the wire, seen by a proxy in front of S3Proxy. {@code --upload-checksums}:
 * with checksums, PutObject and UploadPart bodies are aws-chunked with a CRC32 trailer; without,
 * plain bodies, which servers that predate trailers (s3rver, older gateways) store as sent; either
 * way the object holds exactly the bytes written. {@code --storage-class} and {@code --sse}: on
 * every request that makes an object, copies included.
 */
class UploadHeadersIT {
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
            CoreOps.write(b, StorageBackend.ROOT_ID, "small", small);
            CoreOps.write(b, StorageBackend.ROOT_ID, "large", large);
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

    /**
     * On the wire only: S3Proxy's file store answers STANDARD whatever was asked, and refuses
     * encryption (501); S3rverIT checks both, and the class kept, on s3rver.
     */
    @org.junit.jupiter.api.Test
    void theStorageClassGoesOnEveryRequestThatMakesAnObject() throws Exception {
        S3Options o = server.options(cache).endpoint(proxy.endpoint()).prefix("placed/").partSize(PART)
                .httpClient(S3Options.HttpClient.NETTY).storageClass("STANDARD_IA").build();
        assertPlaced(o, proxy, List.of("x-amz-storage-class: standard_ia"));
    }

    /**
     * Every request that makes an object carries {@code headers}: PutObject, CreateMultipartUpload,
     * and CopyObject (a chmod rewrites metadata by copying the object onto itself; renames copy),
     * since S3 gives a copy the bucket's defaults, not its source's. UploadPart carries none of
     * them (S3 takes them from the upload). {@code o} has a prefix, an empty one, and 5 MiB parts.
     */
    static void assertPlaced(S3Options o, FaultProxy proxy, List<String> headers) throws Exception {
        byte[] large = random(PART + 1000, 3);
        try (S3AsyncClient client = S3Clients.build(o)) {
            S3Backend b = new S3Backend(o, client);
            long root = StorageBackend.ROOT_ID;
            CoreOps.write(b, root, "small", "x".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            CoreOps.write(b, root, "large", large);
            io.vfsgw.spi.Entry d = b.mkdir(CTX, root, FileName.of("dir"), 0755, 022);
            b.setattr(CTX, b.lookup(CTX, root, FileName.of("small")).nodeId(), io.vfsgw.spi.SetAttr.mode(0600));
            b.rename(CTX, root, FileName.of("small"), d.nodeId(), FileName.of("small"), 0);
            b.rename(CTX, root, FileName.of("dir"), root, FileName.of("dir2"), 0);
            assertArrayEquals(large, CoreOps.read(b, b.lookup(CTX, root, FileName.of("large")).nodeId(), 0,
                    large.length));
            b.close();
        }
        List<String> ours = proxy.heads.stream().filter(h -> h.contains("/" + o.prefix())).toList();
        List<String> makers = ours.stream()
                .filter(h -> h.startsWith("PUT ") && !h.contains("partNumber=") || h.startsWith("POST ") && h.contains("?uploads"))
                .toList();
        List<String> parts = ours.stream().filter(h -> h.startsWith("PUT ") && h.contains("partNumber=")).toList();
        long copies = makers.stream().filter(h -> h.toLowerCase(Locale.ROOT).contains("x-amz-copy-source:")).count();
        assertTrue(copies >= 3, "chmod, file rename and directory rename copy: " + makers);
        assertEquals(2, parts.size(), parts.toString());
        for (String head : makers) {
            String h = head.toLowerCase(Locale.ROOT);
            assertTrue(headers.stream().allMatch(h::contains), headers + " in " + head);
        }
        for (String head : parts) {
            String h = head.toLowerCase(Locale.ROOT);
            assertTrue(headers.stream().noneMatch(x -> h.contains(x.substring(0, x.indexOf(':')))), head);
        }
    }

    @org.junit.jupiter.api.Test
    void unknownStorageClassesAndEncryptionsAreRefusedWithTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> S3Options.builder("b").storageClass("COLD").build());
        assertTrue(e.getMessage().contains("INTELLIGENT_TIERING"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> S3Options.builder("b").serverSideEncryption("aws:kms:foo", null).build());
        assertTrue(e.getMessage().contains("aws:kms:dsse"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> S3Options.builder("b").serverSideEncryption("AES256", "key-1").build());
        assertTrue(e.getMessage().contains("KMS key id needs aws:kms"), e.getMessage());
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
