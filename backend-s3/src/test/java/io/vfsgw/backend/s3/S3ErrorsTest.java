package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.io.IOException;
import java.net.ConnectException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** The S3 failure -> errno table, row by row. */
class S3ErrorsTest {

    private static S3Exception s3(int status, String code) {
        return (S3Exception) S3Exception.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code.isEmpty() ? null : code).build()).build();
    }

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource({
        "404, NoSuchKey, ENOENT",
        "404, NoSuchBucket, ENOENT",
        "404, NoSuchUpload, ENOENT",
        "404, '', ENOENT",
        "403, AccessDenied, EACCES",
        "403, InvalidObjectState, EACCES",
        "403, '', EACCES",
        "401, '', EACCES",
        "412, PreconditionFailed, ESTALE",
        "412, '', ESTALE",
        "416, InvalidRange, ENXIO",
        "400, EntityTooLarge, EFBIG",
        "400, KeyTooLongError, ENAMETOOLONG",
        "400, InvalidArgument, EINVAL",
        "409, OperationAborted, EBUSY",
        "501, NotImplemented, EOPNOTSUPP",
        "405, MethodNotAllowed, EOPNOTSUPP",
        "500, InternalError, EIO",
        "503, SlowDown, EIO",
        "503, ServiceUnavailable, EIO",
        "400, RequestTimeout, EIO",
        "502, '', EIO",
        "504, '', EIO",
        "429, '', EIO",
    })
    void serviceErrors(int status, String code, Errno expected) {
        assertEquals(expected, S3Errors.toErrno(s3(status, code)));
        assertEquals(expected, S3Errors.toErrno(new CompletionException(s3(status, code))), "wrapped by a future");
    }

    @Test
    void clientSideFailuresAreEio() {
        assertEquals(Errno.EIO, S3Errors.toErrno(ApiCallTimeoutException.create(1000)));
        assertEquals(Errno.EIO, S3Errors.toErrno(ApiCallAttemptTimeoutException.create(1000)));
        assertEquals(Errno.EIO, S3Errors.toErrno(SdkClientException.create("connect", new ConnectException("refused"))));
        assertEquals(Errno.EIO, S3Errors.toErrno(new CompletionException(new IOException("reset"))));
        assertEquals(Errno.EIO, S3Errors.toErrno(new ExecutionException(new IllegalStateException("?"))));
        assertEquals(Errno.EINTR, S3Errors.toErrno(new InterruptedException()));
    }

    @Test
    void fsExceptionsPassThrough() {
        FsException e = FsException.of(Errno.ENOTEMPTY);
        assertEquals(Errno.ENOTEMPTY, S3Errors.toErrno(new CompletionException(e)));
        assertEquals(e, S3Errors.toFsException(new CompletionException(e), "x"));
        assertEquals(Errno.ESTALE, S3Errors.toFsException(s3(412, ""), "GET k").errno());
    }
}
