package io.vfsgw.cli;

import io.vfsgw.backend.s3.S3Options;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * How objects are written: storage class, encryption, checksums. Shared by the s3 backend's flags
 * and {@code s3 recover}, so a recovered upload lands as the gateway would have written it (a
 * bucket policy that demands encryption refuses anything else).
 */
public final class S3WriteOptions {
    @Option(names = {"--storage-class", "--s3-storage-class"}, paramLabel = "CLASS",
            description = "s3: storage class of every object written, copied or renamed (STANDARD_IA,"
                    + " INTELLIGENT_TIERING, ...); default: the bucket's.")
    String storageClass;

    @Option(names = {"--sse", "--s3-sse"}, paramLabel = "AES256|aws:kms|aws:kms:dsse",
            description = "s3: server-side encryption of every object written, copied or renamed; default: the bucket's.")
    String sse;

    @Option(names = {"--sse-kms-key-id", "--s3-sse-kms-key-id"}, paramLabel = "KEY",
            description = "s3: the KMS key (id, ARN or alias) of --sse aws:kms; default: the account's S3 key.")
    String sseKmsKeyId;

    @Option(names = {"--upload-checksums", "--s3-upload-checksums"}, paramLabel = "auto|on|off", defaultValue = "auto",
            description = "s3: send a CRC32 checksum with each upload (an aws-chunked trailer, which S3 checks);"
                    + " auto: on for AWS, off with --endpoint, as servers that predate it may store its framing"
                    + " as data (default: ${DEFAULT-VALUE}).")
    String uploadChecksums;

    /** Applies these flags to {@code b}. */
    S3Options.Builder applyTo(S3Options.Builder b) {
        return b.storageClass(storageClass).serverSideEncryption(sse, sseKmsKeyId).uploadChecksums(uploadChecksums());
    }

    private S3Options.UploadChecksums uploadChecksums() {
        try {
            return S3Options.UploadChecksums.valueOf(uploadChecksums.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new SetupException("--upload-checksums must be auto, on or off, not '" + uploadChecksums + "'");
        }
    }
}
