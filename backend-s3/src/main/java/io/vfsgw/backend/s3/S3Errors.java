package io.vfsgw.backend.s3;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.io.IOException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;

/** The one place S3 failures become errnos. Add a row here, never a special case elsewhere. */
public final class S3Errors {
    private static final Logger LOG = LoggerFactory.getLogger(S3Errors.class);

    private S3Errors() {
    }

    /** The errno for a failure from the SDK (wrapped or not); unknown failures are EIO plus a WARN. */
    public static Errno toErrno(Throwable t) {
        Throwable e = unwrap(t);
        if (e instanceof FsException fe) {
            return fe.errno();
        }
        if (e instanceof AwsServiceException s) {
            String code = errorCode(s);
            Errno byCode = code == null ? null : byErrorCode(code);
            return byCode != null ? byCode : byStatus(s.statusCode());
        }
        if (e instanceof ApiCallTimeoutException || e instanceof ApiCallAttemptTimeoutException
                || e instanceof TimeoutException) {
            return Errno.EIO;       // timed out after the SDK's retries: the guest sees an I/O error
        }
        if (e instanceof SdkClientException || e instanceof IOException) {
            return Errno.EIO;       // connection refused/reset, DNS: after retries
        }
        if (e instanceof CancellationException || e instanceof InterruptedException) {
            return Errno.EINTR;
        }
        LOG.warn("unmapped S3 failure, answering EIO", e);
        return Errno.EIO;
    }

    /** S3's error code of a service failure (NoSuchBucket...), or null when there is none. */
    public static String errorCode(Throwable t) {
        return unwrap(t) instanceof AwsServiceException s && s.awsErrorDetails() != null
                ? s.awsErrorDetails().errorCode() : null;
    }

    /** An FsException carrying the mapped errno and the cause for the log. */
    public static FsException toFsException(Throwable t, String what) {
        Throwable e = unwrap(t);
        if (e instanceof FsException fe) {
            return fe;
        }
        return FsException.wrap(toErrno(e), e, what + ": " + e);
    }

    /** Error codes whose meaning is sharper than their status. */
    static Errno byErrorCode(String code) {
        return switch (code) {
            case "NoSuchKey", "NoSuchUpload", "NoSuchBucket" -> Errno.ENOENT;
            case "InvalidObjectState", "AccessDenied", "AllAccessDisabled" -> Errno.EACCES;  // archived: as mountpoint-s3
            case "PreconditionFailed" -> Errno.ESTALE;
            case "EntityTooLarge" -> Errno.EFBIG;
            case "KeyTooLongError" -> Errno.ENAMETOOLONG;
            case "InvalidRange" -> Errno.ENXIO;
            case "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError",
                 "ServiceUnavailable" -> Errno.EIO;   // only reach us after the retries gave up
            // Never ENOSYS: the kernel reads it as "no such operation on this mount" and stops
            // asking (FLUSH and FSYNC then succeed unasked, xattrs are off for good), while the
            // server refused this one request.
            case "NotImplemented" -> Errno.EOPNOTSUPP;
            default -> null;
        };
    }

    static Errno byStatus(int status) {
        return switch (status) {
            case 404 -> Errno.ENOENT;
            case 401, 403 -> Errno.EACCES;
            case 412 -> Errno.ESTALE;   // If-Match lost: the object changed under an open handle
            case 416 -> Errno.ENXIO;
            case 400 -> Errno.EINVAL;
            case 405, 501 -> Errno.EOPNOTSUPP;
            case 409 -> Errno.EBUSY;    // OperationAborted: a conflicting operation is in progress
            case 413 -> Errno.EFBIG;
            default -> Errno.EIO;       // throttling and 5xx arrive here only after the SDK's retries
        };
    }

    static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
