package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Object {@code a} and prefix {@code a/} on different ListObjectsV2 pages, as AWS pages them
 * (max-keys counts both, in key order, and "a" sorts before "a/"). No test server here pages that
 * way (S3Mock repeats every common prefix on every page, S3Proxy cannot store both), so a two-page
 * twin of the AWS answer stands in: the directory wins and the object gets its one warning.
 */
class ShadowAcrossPagesTest {
    @TempDir
    Path cache;

    /**
     * Answers ListObjectsV2 of the root, in two pages, and HEADs with 404 (the directory is
     * implicit: no marker); every other call fails loudly.
     */
    private static final class TwoPages implements S3AsyncClient {
        @Override
        public CompletableFuture<HeadObjectResponse> headObject(HeadObjectRequest r) {
            return CompletableFuture.failedFuture(NoSuchKeyException.builder().statusCode(404).message("no marker").build());
        }

        @Override
        public CompletableFuture<ListObjectsV2Response> listObjectsV2(ListObjectsV2Request r) {
            if (r.continuationToken() == null) {
                return CompletableFuture.completedFuture(ListObjectsV2Response.builder().isTruncated(true)
                        .nextContinuationToken("page2")
                        .contents(S3Object.builder().key("p/a").size(5L).eTag("\"e\"").lastModified(Instant.EPOCH).build())
                        .build());
            }
            return CompletableFuture.completedFuture(ListObjectsV2Response.builder().isTruncated(false)
                    .commonPrefixes(CommonPrefix.builder().prefix("p/a/").build()).build());
        }

        @Override
        public String serviceName() {
            return "s3";
        }

        @Override
        public void close() {
        }
    }

    @Test
    void directoryWinsAndTheObjectIsWarnedAboutOnce() throws Exception {
        S3Options o = S3Options.builder("b").prefix("p").cacheDir(cache).credentials("k", "s").listPageSize(1).build();
        try (OddKeysS3MockIT.WarnCapture warns = OddKeysS3MockIT.WarnCapture.start()) {
            S3Backend b = new S3Backend(o, new TwoPages());
            try {
                assertEquals(java.util.Set.of("a"), CoreOps.names(b, StorageBackend.ROOT_ID));
                assertEquals(FileType.DIRECTORY, FileType.ofMode(b.lookup(new RequestContext(0, 0, 1),
                        StorageBackend.ROOT_ID, FileName.of("a")).attr().mode()));
            } finally {
                b.close();
            }
            assertEquals(List.of("S3 key 'p/a' skipped: object is shadowed by a directory of the same name"),
                    warns.text().lines().filter(l -> l.contains("skipped")).map(l -> l.replaceAll("^.* - ", "")).toList());
        }
    }
}
