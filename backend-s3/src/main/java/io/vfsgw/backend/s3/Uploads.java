package io.vfsgw.backend.s3;

import io.vfsgw.spi.FsException;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/** The S3 write requests: single PUT, multipart upload, and (multipart) copy. Blocking helpers. */
final class Uploads {
    private static final Logger LOG = LoggerFactory.getLogger(Uploads.class);
    static final String FILE_CONTENT_TYPE = "application/octet-stream";
    /** What s3fs-fuse puts on directory markers; it recognises directories by it. */
    static final String DIR_CONTENT_TYPE = "application/x-directory";
    /** CopyObject refuses sources over 5 GiB; above that we copy with UploadPartCopy. */
    static final long MAX_SINGLE_COPY = 5L << 30;
    /** S3's largest object: writes and truncates past it fail with EFBIG. */
    static final long MAX_OBJECT_SIZE = 5L << 40;
    /** S3's limit on the parts of one multipart upload. */
    static final int MAX_PARTS = 10_000;

    private Uploads() {
    }

    /** Uploads {@code size} bytes of the staging channel; returns the ETag. */
    static String uploadFile(S3AsyncClient s3, S3Options o, String key, Map<String, String> meta,
                             FileChannel ch, long size) throws FsException {
        if (size < o.partSize()) {
            return put(s3, o, key, meta, FILE_CONTENT_TYPE, new FileRangeBody(ch, 0, size));
        }
        String uploadId = createMultipart(s3, o, key, meta);
        try {
            List<CompletableFuture<CompletedPart>> parts = new ArrayList<>();
            ArrayDeque<CompletableFuture<CompletedPart>> window = new ArrayDeque<>();
            long part = partSizeFor(size, o);
            int number = 1;
            for (long off = 0; off < size; off += part, number++) {
                long len = Math.min(part, size - off);
                CompletableFuture<CompletedPart> f = uploadPart(s3, o, key, uploadId, number,
                        new FileRangeBody(ch, off, len), len);
                parts.add(f);
                window.add(f);
                if (window.size() >= o.maxInflightParts()) {
                    window.poll().join();
                }
            }
            List<CompletedPart> done = new ArrayList<>();
            for (CompletableFuture<CompletedPart> f : parts) {
                done.add(f.join());
            }
            return completeMultipart(s3, o, key, uploadId, done);
        } catch (RuntimeException | FsException e) {
            abortQuietly(s3, o, key, uploadId);
            throw S3Errors.toFsException(e, "multipart upload " + key);
        }
    }

    /**
     * The part size for a whole-file upload of {@code size} bytes: the configured one, or larger
     * (whole MiB) when that would take more parts than the store allows (with 8 MiB parts, files
     * past 78 GiB).
     */
    static long partSizeFor(long size, S3Options o) {
        long needed = (size + o.maxParts() - 1) / o.maxParts();
        long mib = 1 << 20;
        return Math.max(o.partSize(), (needed + mib - 1) / mib * mib);
    }

    // Storage class and encryption go on every request that makes an object, copies included: S3
    // gives a copy the bucket's defaults, not its source's settings.

    static PutObjectRequest.Builder placed(PutObjectRequest.Builder b, S3Options o) {
        return b.storageClass(o.storageClass()).serverSideEncryption(o.sse()).ssekmsKeyId(o.sseKmsKeyId());
    }

    static CreateMultipartUploadRequest.Builder placed(CreateMultipartUploadRequest.Builder b, S3Options o) {
        return b.storageClass(o.storageClass()).serverSideEncryption(o.sse()).ssekmsKeyId(o.sseKmsKeyId());
    }

    static CopyObjectRequest.Builder placed(CopyObjectRequest.Builder b, S3Options o) {
        return b.storageClass(o.storageClass()).serverSideEncryption(o.sse()).ssekmsKeyId(o.sseKmsKeyId());
    }

    static String put(S3AsyncClient s3, S3Options o, String key, Map<String, String> meta, String contentType,
                      AsyncRequestBody body) throws FsException {
        try {
            return s3.putObject(b -> placed(b.bucket(o.bucket()).key(key).metadata(meta).contentType(contentType)
                    .contentLength(body.contentLength().orElseThrow()), o), body).join().eTag();
        } catch (RuntimeException e) {
            throw S3Errors.toFsException(e, "PUT " + key);
        }
    }

    static String createMultipart(S3AsyncClient s3, S3Options o, String key, Map<String, String> meta)
            throws FsException {
        try {
            return s3.createMultipartUpload(b -> placed(b.bucket(o.bucket()).key(key).metadata(meta)
                    .contentType(FILE_CONTENT_TYPE), o)).join().uploadId();
        } catch (RuntimeException e) {
            throw S3Errors.toFsException(e, "CreateMultipartUpload " + key);
        }
    }

    static CompletableFuture<CompletedPart> uploadPart(S3AsyncClient s3, S3Options o, String key, String uploadId,
                                                       int number, AsyncRequestBody body, long length) {
        return s3.uploadPart(b -> b.bucket(o.bucket()).key(key).uploadId(uploadId).partNumber(number)
                        .contentLength(length), body)
                .thenApply(r -> CompletedPart.builder().partNumber(number).eTag(r.eTag()).build());
    }

    static String completeMultipart(S3AsyncClient s3, S3Options o, String key, String uploadId,
                                    List<CompletedPart> parts) throws FsException {
        try {
            return s3.completeMultipartUpload(b -> b.bucket(o.bucket()).key(key).uploadId(uploadId)
                    .multipartUpload(CompletedMultipartUpload.builder().parts(parts).build())).join().eTag();
        } catch (RuntimeException e) {
            throw S3Errors.toFsException(e, "CompleteMultipartUpload " + key);
        }
    }

    static void abortQuietly(S3AsyncClient s3, S3Options o, String key, String uploadId) {
        s3.abortMultipartUpload(b -> b.bucket(o.bucket()).key(key).uploadId(uploadId))
                .whenComplete((r, e) -> {
                    if (e != null) {
                        // a bucket lifecycle rule for incomplete uploads cleans this up eventually
                        LOG.warn("AbortMultipartUpload {} {} failed: {}", key, uploadId, S3Errors.unwrap(e).toString());
                    }
                });
    }

    /**
     * Copies {@code src} to {@code dst}. With {@code meta} null the metadata is copied, else replaced
     * (chmod/chown/utimens rewrite an object onto itself this way). Returns the new ETag.
     */
    static String copy(S3AsyncClient s3, S3Options o, String src, String dst, long size, Map<String, String> meta,
                       String contentType) throws FsException {
        // 512 MiB copy parts: 10,000 of them reach the 5 TiB object limit
        return copy(s3, o, src, dst, size, meta, contentType, MAX_SINGLE_COPY, 512L << 20);
    }

    /**
     * One CopyObject (objects up to 5 GiB), started: src -> dst with {@code meta} and
     * {@code contentType} replacing the source's when {@code meta} is not null. Completes with the
     * copy's ETag, or null when the server names none.
     */
    static CompletableFuture<String> startCopy(S3AsyncClient s3, S3Options o, String src, String dst,
                                               Map<String, String> meta, String contentType) {
        return s3.copyObject(b -> {
            placed(b.sourceBucket(o.bucket()).sourceKey(src).destinationBucket(o.bucket()).destinationKey(dst), o);
            if (meta != null) {
                b.metadataDirective(MetadataDirective.REPLACE).metadata(meta).contentType(contentType);
            }
        }).thenApply(r -> r.copyObjectResult() == null ? null : r.copyObjectResult().eTag());
    }

    /** As above with explicit limits, so a test can take the multipart path without a 5 GiB object. */
    static String copy(S3AsyncClient s3, S3Options o, String src, String dst, long size, Map<String, String> meta,
                       String contentType, long singleCopyLimit, long copyPartSize) throws FsException {
        try {
            if (size <= singleCopyLimit) {
                return startCopy(s3, o, src, dst, meta, contentType).join();
            }
            return multipartCopy(s3, o, src, dst, size, meta, contentType, copyPartSize);
        } catch (RuntimeException e) {
            throw S3Errors.toFsException(e, "COPY " + src + " -> " + dst);
        }
    }

    private static String multipartCopy(S3AsyncClient s3, S3Options o, String src, String dst, long size,
                                        Map<String, String> meta, String contentType, long part)
            throws FsException {
        Map<String, String> m = meta;
        String ct = contentType;
        if (m == null) {
            // UploadPartCopy copies bytes only: carry the metadata over by hand
            var head = s3.headObject(b -> b.bucket(o.bucket()).key(src)).join();
            m = head.metadata();
            ct = head.contentType();
        }
        Map<String, String> finalMeta = m;
        String finalCt = ct;
        String uploadId;
        try {
            uploadId = s3.createMultipartUpload(b -> placed(b.bucket(o.bucket()).key(dst).metadata(finalMeta)
                    .contentType(finalCt), o)).join().uploadId();
        } catch (RuntimeException e) {
            throw S3Errors.toFsException(e, "CreateMultipartUpload " + dst);
        }
        try {
            List<CompletableFuture<CompletedPart>> parts = new ArrayList<>();
            int number = 1;
            for (long off = 0; off < size; off += part, number++) {
                long last = Math.min(size, off + part) - 1;
                int n = number;
                long first = off;
                parts.add(s3.uploadPartCopy(b -> b.sourceBucket(o.bucket()).sourceKey(src)
                                .destinationBucket(o.bucket()).destinationKey(dst).uploadId(uploadId).partNumber(n)
                                .copySourceRange("bytes=" + first + "-" + last))
                        .thenApply(r -> CompletedPart.builder().partNumber(n).eTag(r.copyPartResult().eTag()).build()));
            }
            List<CompletedPart> done = new ArrayList<>();
            for (CompletableFuture<CompletedPart> f : parts) {
                done.add(f.join());
            }
            return completeMultipart(s3, o, dst, uploadId, done);
        } catch (RuntimeException | FsException e) {
            abortQuietly(s3, o, dst, uploadId);
            throw S3Errors.toFsException(e, "multipart copy " + src + " -> " + dst);
        }
    }
}
