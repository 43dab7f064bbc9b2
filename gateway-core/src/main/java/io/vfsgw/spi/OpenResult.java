package io.vfsgw.spi;

/**
 * An open file or directory handle.
 *
 * @param fh        backend-chosen handle passed back on read/write/release
 * @param directIo  bypass the guest page cache for this handle
 * @param keepCache the guest may keep cached pages from a previous open (data unchanged)
 * @param nonSeekable the file is a stream (FIFO-like)
 */
public record OpenResult(long fh, boolean directIo, boolean keepCache, boolean nonSeekable) {
    public static OpenResult of(long fh) {
        return new OpenResult(fh, false, false, false);
    }

    public OpenResult withDirectIo(boolean v) {
        return new OpenResult(fh, v, keepCache, nonSeekable);
    }

    public OpenResult withKeepCache(boolean v) {
        return new OpenResult(fh, directIo, v, nonSeekable);
    }
}
