package io.vfsgw.backend.s3;

import java.time.Duration;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;

/** Builds the async S3 client (Netty, pooled, retrying, with timeouts) from {@link S3Options}. */
public final class S3Clients {
    private S3Clients() {
    }

    public static S3AsyncClient build(S3Options o) {
        return build(o, List.of());
    }

    /** {@code interceptors} let tests count requests per operation. */
    public static S3AsyncClient build(S3Options o, List<ExecutionInterceptor> interceptors) {
        NettyNioAsyncHttpClient.Builder http = NettyNioAsyncHttpClient.builder()
                .maxConcurrency(o.maxConnections())
                .maxPendingConnectionAcquires(10_000)
                .connectionTimeout(Duration.ofSeconds(10))
                .connectionAcquisitionTimeout(o.callTimeout())
                .readTimeout(o.attemptTimeout())
                .writeTimeout(o.attemptTimeout());
        AwsCredentialsProvider creds = o.accessKeyId() != null
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(o.accessKeyId(), o.secretAccessKey()))
                : DefaultCredentialsProvider.create();
        S3AsyncClientBuilder b = S3AsyncClient.builder()
                .httpClientBuilder(http)
                .region(Region.of(o.region()))
                .credentialsProvider(creds)
                .forcePathStyle(o.pathStyle())
                .overrideConfiguration(c -> c
                        // standard mode: exponential backoff with jitter on throttling, 5xx and I/O errors
                        .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                                .maxAttempts(o.maxRetries() + 1).build())
                        .apiCallAttemptTimeout(o.attemptTimeout())
                        .apiCallTimeout(o.callTimeout())
                        .executionInterceptors(List.copyOf(interceptors)));
        if (o.endpoint() != null) {
            b.endpointOverride(o.endpoint());
        }
        return b.build();
    }
}
