package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * Staging files left behind by a gateway that could not upload (server down, then the process
 * gone): their manifests name the target key, even after a rename; {@link StagingRecovery} lists
 * and uploads them.
 */
class StagingRecoveryIT {
    private static final RequestContext CTX = new RequestContext(1000, 1000, 1);

    @TempDir
    Path cache;

    @Test
    void leftoversAreListedAndUploaded() throws Exception {
        S3ProxyFixture server = S3ProxyFixture.shared();
        byte[] data = new byte[3 << 20];
        new Random(7).nextBytes(data);
        try (S3AsyncClient client = server.client(List.of())) {
            S3Options o = server.options(cache).prefix("recover").maxRetries(0).build();
            S3Backend b = new S3Backend(o, client);
            CreateResult cr = b.create(CTX, StorageBackend.ROOT_ID, FileName.literal("a"), 0640,
                    OpenFlags.O_WRONLY, 0);
            long node = cr.entry().nodeId();
            b.write(CTX, node, cr.open().fh(), 0, new Buffers.Source(ByteBuffer.wrap(data)), false);
            server.stopServer();
            try {
                // rename while the server is down: the upload under the new name fails, the manifest follows
                try {
                    b.rename(CTX, StorageBackend.ROOT_ID, FileName.literal("a"), StorageBackend.ROOT_ID,
                            FileName.literal("renamed b"), 0);
                } catch (io.vfsgw.spi.FsException expected) {
                    System.out.println("StagingRecoveryIT: rename with the server down: " + expected.getMessage());
                }
                b.close();   // "crash": the upload failed, the staging file stays
            } catch (io.vfsgw.spi.FsException expected) {
                System.out.println("StagingRecoveryIT: close with the server down: " + expected.getMessage());
            } finally {
                server.startServer();
            }

            List<StagingRecovery.Leftover> left = StagingRecovery.scan(cache);
            assertEquals(1, left.size(), left.toString());
            StagingRecovery.Leftover l = left.get(0);
            assertTrue(l.fromManifest());
            assertEquals(S3ProxyFixture.BUCKET, l.bucket());
            assertEquals(data.length, l.size());
            String key = l.key();
            assertTrue(key.equals("recover/renamed b") || key.equals("recover/a"), key);
            assertEquals(String.valueOf(0100640), l.meta().get("mode"));
            assertTrue(l.describe().contains("s3://" + S3ProxyFixture.BUCKET + "/" + key), l.describe());

            StagingRecovery.upload(client, o, l);
            byte[] got = client.getObject(r -> r.bucket(S3ProxyFixture.BUCKET).key(key),
                    AsyncResponseTransformer.toBytes()).join().asByteArray();
            assertArrayEquals(data, got);
            assertEquals("33184", client.headObject(r -> r.bucket(S3ProxyFixture.BUCKET).key(key)).join()
                    .metadata().get("mode"));
            assertTrue(StagingRecovery.scan(cache).isEmpty(), "uploaded files are removed");
            assertFalse(Files.exists(l.staging()));
        }
    }

    @Test
    void fileNamesWithoutManifestStillNameTheKey() {
        assertEquals("pre/a b/c", StagingRecovery.keyFromName("m1x2-17-pre%2Fa+b%2Fc"));
        assertNull(StagingRecovery.keyFromName("m1x2-17-" + "x".repeat(200)), "a cut name has no key");
    }
}
