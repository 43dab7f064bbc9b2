package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Entry;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * {@code --no-sign-request}: a public bucket read with unsigned requests, as public datasets are
 * served. The objects are written through the authenticated S3Proxy and read through a second
 * S3Proxy over the same directory that takes unsigned requests; the authenticated one refuses
 * them, which shows the requests really go unsigned.
 */
class PublicBucketIT {
    private static final RequestContext CTX = new RequestContext(1000, 1000, 1);
    private static final String PREFIX = "public-dataset/";
    private static final byte[] README = "open data\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] PART = new byte[6 << 20];

    private static S3ProxyFixture server;
    private static S3ProxyFixture open;

    @TempDir
    Path cache;

    @BeforeAll
    static void publish() throws Exception {
        server = S3ProxyFixture.shared();
        new Random(3).nextBytes(PART);
        try (S3AsyncClient c = server.client(List.of())) {
            c.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(PREFIX + "README"), AsyncRequestBody.fromBytes(README)).join();
            c.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(PREFIX + "data/part-0"), AsyncRequestBody.fromBytes(PART)).join();
        }
        open = S3ProxyFixture.anonymousView(server);
    }

    @AfterAll
    static void stop() throws Exception {
        if (open != null) {
            open.close();
        }
    }

    private S3Options.Builder unsigned(S3ProxyFixture on, S3Options.HttpClient http) {
        return S3Options.builder(S3ProxyFixture.BUCKET).endpoint(on.endpoint()).pathStyle(true).prefix(PREFIX)
                .cacheDir(cache).maxRetries(1).httpClient(http).readonly(true).anonymous(true);
    }

    @ParameterizedTest
    @EnumSource(S3Options.HttpClient.class)
    void aPublicBucketIsListedAndReadWithoutCredentials(S3Options.HttpClient http) throws Exception {
        S3Backend b = S3Backend.open(unsigned(open, http).build());
        try {
            assertEquals(Set.of("README", "data"), CoreOps.names(b, StorageBackend.ROOT_ID));
            Entry readme = b.lookup(CTX, StorageBackend.ROOT_ID, FileName.of("README"));
            assertArrayEquals(README, CoreOps.read(b, readme.nodeId(), 0, README.length));
            Entry data = b.lookup(CTX, StorageBackend.ROOT_ID, FileName.of("data"));
            Entry part = b.lookup(CTX, data.nodeId(), FileName.of("part-0"));
            assertEquals(PART.length, part.attr().size());
            assertArrayEquals(PART, CoreOps.read(b, part.nodeId(), 0, PART.length));
        } finally {
            b.close();
        }
    }

    @ParameterizedTest
    @EnumSource(S3Options.HttpClient.class)
    void aBucketThatIsNotPublicSaysSoAtStart(S3Options.HttpClient http) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> S3Backend.open(unsigned(server, http).build()));
        assertTrue(e.getMessage().contains("refuses unsigned requests") && e.getMessage().contains("--no-sign-request"),
                e.getMessage());
    }

    @Test
    void unsignedRequestsAndAnAccessKeyExcludeEachOther() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> S3Options.builder("b").credentials("k", "s").anonymous(true).build());
        assertTrue(e.getMessage().contains("exclude"), e.getMessage());
    }
}
