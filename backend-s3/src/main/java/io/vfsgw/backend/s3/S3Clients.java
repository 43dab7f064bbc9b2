package io.vfsgw.backend.s3;

import java.time.Duration;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.S3CrtAsyncClientBuilder;

/**
 * Builds the async S3 client (pooled, retrying, with timeouts) from {@link S3Options}: Netty by
 * default, or the CRT-based client ({@link S3Options.HttpClient#CRT}); see docs/s3-client-choice.md.
 */
public final class S3Clients {
    private S3Clients() {
    }

    public static S3AsyncClient build(S3Options o) {
        return build(o, List.of());
    }

    /**
     * {@code interceptors} let tests count requests per operation. The CRT builder has no
     * interceptor hook, so passing any builds the Netty client whatever {@code o.httpClient()}
     * says (request counts are the same on both, except the CRT's HEAD before each CopyObject).
     */
    public static S3AsyncClient build(S3Options o, List<ExecutionInterceptor> interceptors) {
        if (o.httpClient() == S3Options.HttpClient.CRT && interceptors.isEmpty()) {
            return buildCrt(o);
        }
        NettyNioAsyncHttpClient.Builder http = NettyNioAsyncHttpClient.builder()
                .maxConcurrency(o.maxConnections())
                .maxPendingConnectionAcquires(10_000)
                .connectionTimeout(Duration.ofSeconds(10))
                .connectionAcquisitionTimeout(o.callTimeout())
                .readTimeout(o.attemptTimeout())
                .writeTimeout(o.attemptTimeout());
        S3AsyncClientBuilder b = S3AsyncClient.builder()
                .httpClientBuilder(http)
                .region(Region.of(o.region()))
                .credentialsProvider(credentials(o))
                .forcePathStyle(o.pathStyle())
                .requestChecksumCalculation(checksums(o))
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

    /**
     * The CRT-based client. Our own code already splits uploads into parts and reads in ranges, so
     * the CRT's automatic splitting must not add requests: a ranged GET of at most partSize and a
     * PutObject under partSize stay one request, and CopyObject (which the CRT client turns into a
     * HEAD + a copy, multipart above thresholdInBytes) stays a single copy up to S3's 5 GiB limit,
     * above which {@link Uploads} does its own multipart copy. The CRT has no per-attempt or per-call
     * timeout; a connection that moves less than 1 byte/s for attemptTimeout is dropped instead,
     * which is what Netty's read/write timeout does.
     */
    private static S3AsyncClient buildCrt(S3Options o) {
        S3CrtAsyncClientBuilder b = S3AsyncClient.crtBuilder()
                .region(Region.of(o.region()))
                .credentialsProvider(credentials(o))
                .forcePathStyle(o.pathStyle())
                .requestChecksumCalculation(checksums(o))
                .maxConcurrency(o.maxConnections())
                .minimumPartSizeInBytes((long) o.partSize())
                .thresholdInBytes(Uploads.MAX_SINGLE_COPY)
                // a GET's flow-control window: the CRT's default (80 MiB) buffers far past our own read-ahead
                .initialReadBufferSizeInBytes((long) o.partSize())
                .retryConfiguration(r -> r.numRetries(o.maxRetries()))
                .httpConfiguration(h -> h
                        .connectionTimeout(Duration.ofSeconds(10))
                        .connectionHealthConfiguration(c -> c
                                .minimumThroughputInBps(1L)
                                .minimumThroughputTimeout(o.attemptTimeout())));
        if (o.endpoint() != null) {
            b.endpointOverride(o.endpoint());
        }
        return b.build();
    }

    private static RequestChecksumCalculation checksums(S3Options o) {
        return o.checksumsOnUploads() ? RequestChecksumCalculation.WHEN_SUPPORTED : RequestChecksumCalculation.WHEN_REQUIRED;
    }

    private static AwsCredentialsProvider credentials(S3Options o) {
        if (o.anonymous()) {
            return AnonymousCredentialsProvider.create();   // unsigned requests
        }
        return o.accessKeyId() != null
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(o.accessKeyId(), o.secretAccessKey()))
                : DefaultCredentialsProvider.create();
    }
}
