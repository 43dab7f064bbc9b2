package io.vfsgw.backend.s3;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * The core operations ({@link CoreOps}) against LocalStack's S3 in a Testcontainers container,
 * with both HTTP clients. Needs a Docker engine: without one the class is skipped with the reason
 * printed, before any image is looked at (no pull is attempted, nothing goes to the network).
 * The image is {@code -Dlocalstack.image} (default below); LOCALSTACK_AUTH_TOKEN is passed on when
 * set, for the images that need it.
 */
class LocalStackIT {
    /** The last community image that runs without an auth token. */
    static final String DEFAULT_IMAGE = "localstack/localstack:4.4";

    private static LocalStackContainer localstack;

    @TempDir
    Path cache;

    @BeforeAll
    static void start() {
        long t0 = System.nanoTime();
        boolean docker = DockerClientFactory.instance().isDockerAvailable();
        if (!docker) {
            String why = "LocalStackIT skipped: no Docker engine reachable (checked in "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms: DOCKER_HOST, /var/run/docker.sock, "
                    + "~/.testcontainers.properties); run it where `docker info` works";
            System.out.println(why);
            Assumptions.abort(why);
        }
        localstack = new LocalStackContainer(DockerImageName.parse(System.getProperty("localstack.image", DEFAULT_IMAGE))
                .asCompatibleSubstituteFor("localstack/localstack"))
                .withServices("s3");
        String token = System.getenv("LOCALSTACK_AUTH_TOKEN");
        if (token != null) {
            localstack.withEnv("LOCALSTACK_AUTH_TOKEN", token);
        }
        localstack.start();
    }

    @AfterAll
    static void stop() {
        if (localstack != null) {
            localstack.stop();
        }
    }

    @ParameterizedTest
    @EnumSource(S3Options.HttpClient.class)
    void coreOperations(S3Options.HttpClient http) throws Exception {
        String bucket = "vfsgw-" + http.name().toLowerCase(java.util.Locale.ROOT);
        S3Options o = S3Options.builder(bucket)
                .endpoint(localstack.getEndpoint())
                .region(localstack.getRegion())
                .credentials(localstack.getAccessKey(), localstack.getSecretKey())
                .pathStyle(true)
                .cacheDir(cache)
                .partSize(S3Options.MIN_PART_SIZE)
                .httpClient(http)
                .build();
        try (S3AsyncClient c = S3Clients.build(o)) {
            c.createBucket(b -> b.bucket(bucket)).join();
        }
        S3Backend b = S3Backend.open(o);   // the production path: builds its own client, HEADs the bucket
        try {
            CoreOps.run(b);
        } finally {
            b.close();
        }
    }
}
