package io.vfsgw.backend.s3;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.ReadSink;
import io.vfsgw.spi.WriteSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.FileTransformerConfiguration;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * The local staging file of one file being written, and its way back to S3.
 *
 * <p>Every byte written goes to the staging file first; that is what makes "nothing acknowledged
 * is lost" true: an upload that fails leaves the staging file (and the dirty state) in place, the
 * error goes to flush/fsync/close, and the next flush, fsync or close tries again.
 *
 * <p>A file that starts empty (create, O_TRUNC) and is written strictly sequentially streams: each
 * full part is uploaded (UploadPart, up to maxInflightParts at once) while later bytes are still
 * being written, and commit only sends the tail and completes the upload. The first write that is
 * not an append, a truncate, or a failed part turns streaming off (the multipart upload is
 * aborted) and commit uploads the whole staging file instead: PutObject below the part size,
 * a multipart upload above.
 */
final class FileWriter {
    private static final Logger LOG = LoggerFactory.getLogger(FileWriter.class);

    private final S3AsyncClient s3;
    private final S3Options o;
    final Path staging;
    private final FileChannel ch;
    private long size;
    private boolean dirty;
    private boolean streaming;
    private String uploadId;
    private String uploadKey;
    private long streamedUpTo;
    private final ArrayDeque<CompletableFuture<CompletedPart>> inflight = new ArrayDeque<>();
    private final List<CompletableFuture<CompletedPart>> parts = new ArrayList<>();
    /** The key the manifest beside the staging file names (see {@link StagingRecovery}). */
    private String manifestKey;

    private FileWriter(S3AsyncClient s3, S3Options o, Path staging, long size, boolean dirty, boolean streaming)
            throws IOException {
        this.s3 = s3;
        this.o = o;
        this.staging = staging;
        this.ch = FileChannel.open(staging, StandardOpenOption.READ, StandardOpenOption.WRITE,
                StandardOpenOption.CREATE);
        this.size = size;
        this.dirty = dirty;
        this.streaming = streaming;
        if (ch.size() != size) {
            ch.truncate(size);
        }
    }

    /** A new, empty file (create, O_TRUNC): dirty so that close creates the object even unwritten. */
    static FileWriter empty(S3AsyncClient s3, S3Options o, Path staging) throws FsException {
        try {
            Files.deleteIfExists(staging);
            return new FileWriter(s3, o, staging, 0, true, true);
        } catch (IOException e) {
            throw FsException.wrap(Errno.EIO, e, "cannot create staging file " + staging);
        }
    }

    /** Downloads the whole object into the staging file (writes to existing objects, truncate). */
    static FileWriter download(S3AsyncClient s3, S3Options o, Path staging, String key, String etag)
            throws FsException {
        try {
            var req = software.amazon.awssdk.services.s3.model.GetObjectRequest.builder()
                    .bucket(o.bucket()).key(key);
            if (etag != null) {
                req.ifMatch(etag);
            }
            s3.getObject(req.build(), AsyncResponseTransformer.toFile(staging,
                    FileTransformerConfiguration.defaultCreateOrReplaceExisting())).join();
            return new FileWriter(s3, o, staging, Files.size(staging), false, false);
        } catch (IOException e) {
            throw FsException.wrap(Errno.EIO, e, "cannot stage " + key + " in " + staging);
        } catch (RuntimeException e) {
            throw S3Errors.toFsException(e, "GET " + key + " into staging");
        }
    }

    /**
     * Makes the manifest beside the staging file name {@code key}, so that after a crash
     * {@code vfsgw s3 recover} knows where the bytes belong. Written when the key changes
     * (creation, rename), not per write: the metadata recorded is the one at that moment.
     */
    synchronized void target(String key, Map<String, String> meta) throws FsException {
        if (key.equals(manifestKey)) {
            return;
        }
        try {
            StagingRecovery.writeManifest(staging, o.bucket(), key, meta);
        } catch (IOException e) {
            throw FsException.wrap(Errno.EIO, e, "cannot write the manifest of " + staging);
        }
        manifestKey = key;
    }

    synchronized long size() {
        return size;
    }

    synchronized boolean dirty() {
        return dirty;
    }

    /** Writes all of {@code src} at {@code offset}; may upload finished parts (streaming). */
    synchronized int write(long offset, WriteSource src, String key, Map<String, String> meta) throws FsException {
        checkObjectSize(offset + src.remaining());
        if (streaming && offset != size) {
            stopStreaming("write at " + offset + " is not an append at " + size);
        }
        target(key, meta);
        int total = 0;
        try {
            for (ByteBuffer v : src.views()) {
                long pos = offset + total;
                while (v.hasRemaining()) {
                    pos += ch.write(v, pos);
                }
                total = (int) (pos - offset);
            }
        } catch (IOException e) {
            src.advance(total);
            throw stagingFailure(e, "staging write");
        }
        src.advance(total);
        size = Math.max(size, offset + total);
        dirty = true;
        if (streaming) {
            streamFullParts(key, meta);
        }
        return total;
    }

    synchronized void truncate(long newSize) throws FsException {
        checkObjectSize(newSize);
        if (streaming && newSize != size) {
            stopStreaming("truncate");
        }
        try {
            if (newSize < ch.size()) {
                ch.truncate(newSize);
            } else if (newSize > size) {
                ch.write(ByteBuffer.allocate(1), newSize - 1);   // extends with a hole
            }
        } catch (IOException e) {
            throw stagingFailure(e, "staging truncate");
        }
        size = newSize;
        dirty = true;
    }

    private static void checkObjectSize(long end) throws FsException {
        if (end > Uploads.MAX_OBJECT_SIZE) {
            throw FsException.of(Errno.EFBIG, "S3 objects end at 5 TiB, not " + end);
        }
    }

    /**
     * ENOSPC when the cache directory's file system is full (the JDK's IOException hides the
     * errno; an application must see "No space left on device", not an I/O error), else EIO.
     */
    private FsException stagingFailure(IOException e, String what) {
        try {
            if (Files.getFileStore(staging).getUsableSpace() < 1 << 20) {
                return FsException.of(Errno.ENOSPC, what + ": the cache directory's file system is full ("
                        + staging.getParent() + ")");
            }
        } catch (IOException ignored) {
            // fall through to EIO
        }
        return FsException.wrap(Errno.EIO, e, what + " " + staging);
    }

    /** Reads staged bytes (the staging file holds the whole file). */
    synchronized void read(long offset, ReadSink sink) throws FsException {
        long avail = size - offset;
        if (avail <= 0) {
            return;
        }
        int want = (int) Math.min(avail, sink.remaining());
        try {
            int got = 0;
            while (got < want) {
                ByteBuffer[] views = sink.views(want - got);
                int n = 0;
                for (ByteBuffer v : views) {
                    int r = ch.read(v, offset + got + n);
                    if (r <= 0) {
                        break;
                    }
                    n += r;
                    if (v.hasRemaining()) {
                        break;
                    }
                }
                if (n == 0) {
                    break;
                }
                sink.advance(n);
                got += n;
            }
        } catch (IOException e) {
            throw FsException.wrap(Errno.EIO, e, "staging read " + staging);
        }
    }

    /**
     * Makes S3 hold what the staging file holds, under {@code key} with {@code meta}. Returns the
     * new ETag, or null when there was nothing to upload. On failure the staging file and the
     * dirty state stay, and the next commit tries again.
     */
    synchronized String commit(String key, Map<String, String> meta) throws FsException {
        if (!dirty) {
            return null;
        }
        target(key, meta);
        String etag = null;
        if (streaming && uploadId != null && key.equals(uploadKey)) {
            try {
                etag = finishStreaming();
            } catch (FsException e) {
                LOG.warn("streaming upload of {} failed ({}); retrying as a whole-file upload", key, e.getMessage());
                stopStreaming("part upload failed");
            }
        } else if (streaming && uploadId != null) {
            stopStreaming("renamed while streaming");
        }
        if (etag == null) {
            try {
                etag = Uploads.uploadFile(s3, o, key, meta, ch, size);
            } catch (FsException e) {
                LOG.error("upload of {} failed ({}); its data stays in {} and the next flush/fsync/close retries",
                        key, e.getMessage(), staging);
                throw e;
            }
        }
        dirty = false;
        streaming = false;
        return etag;
    }

    /** Drops the staged data (unlink of the file, or a clean close): aborts any multipart upload. */
    synchronized void discard() {
        if (uploadId != null) {
            stopStreaming("discarded");
        }
        streaming = false;
        try {
            ch.close();
            StagingRecovery.delete(staging);
        } catch (IOException e) {
            LOG.warn("cannot remove staging file {}: {}", staging, e.toString());
        }
    }

    /** Closes the channel but keeps the staging file (an upload that never succeeded). */
    synchronized void abandon() {
        try {
            ch.close();
        } catch (IOException e) {
            LOG.warn("closing staging file {}: {}", staging, e.toString());
        }
    }

    private void streamFullParts(String key, Map<String, String> meta) throws FsException {
        int part = o.partSize();
        while (streaming && size - streamedUpTo >= part) {
            if (parts.size() >= o.maxParts() - 1) { // keep the last part for the tail
                stopStreaming("over " + o.maxParts() + " parts; commit uploads the file in larger parts");
                return;
            }
            if (failedPart()) {
                stopStreaming("an earlier part failed");
                return;
            }
            if (uploadId == null) {
                try {
                    uploadId = Uploads.createMultipart(s3, o, key, meta);
                    uploadKey = key;
                } catch (FsException e) {
                    stopStreaming("CreateMultipartUpload failed: " + e.getMessage());
                    return;
                }
            }
            int number = parts.size() + 1;
            CompletableFuture<CompletedPart> f = Uploads.uploadPart(s3, o, key, uploadId, number,
                    new FileRangeBody(ch, streamedUpTo, part), part);
            parts.add(f);
            inflight.add(f);
            streamedUpTo += part;
            // Back-pressure: the writer waits for the oldest part when too many are in flight.
            while (inflight.size() > o.maxInflightParts()) {
                try {
                    inflight.poll().join();
                } catch (RuntimeException e) {
                    stopStreaming("part upload failed: " + S3Errors.unwrap(e));
                    return;
                }
            }
            inflight.removeIf(CompletableFuture::isDone);
        }
    }

    private boolean failedPart() {
        for (CompletableFuture<CompletedPart> f : parts) {
            if (f.isCompletedExceptionally()) {
                return true;
            }
        }
        return false;
    }

    private String finishStreaming() throws FsException {
        if (size > streamedUpTo) {
            parts.add(Uploads.uploadPart(s3, o, uploadKey, uploadId, parts.size() + 1,
                    new FileRangeBody(ch, streamedUpTo, size - streamedUpTo), size - streamedUpTo));
            streamedUpTo = size;
        }
        List<CompletedPart> done = new ArrayList<>();
        for (CompletableFuture<CompletedPart> f : parts) {
            try {
                done.add(f.join());
            } catch (RuntimeException e) {
                throw S3Errors.toFsException(e, "UploadPart " + uploadKey);
            }
        }
        String etag = Uploads.completeMultipart(s3, o, uploadKey, uploadId, done);
        uploadId = null;
        parts.clear();
        inflight.clear();
        return etag;
    }

    private void stopStreaming(String why) {
        LOG.debug("{}: streaming upload off: {}", staging, why);
        streaming = false;
        for (CompletableFuture<CompletedPart> f : parts) {
            f.cancel(false);
        }
        parts.clear();
        inflight.clear();
        if (uploadId != null) {
            Uploads.abortQuietly(s3, o, uploadKey, uploadId);
            uploadId = null;
        }
    }
}
