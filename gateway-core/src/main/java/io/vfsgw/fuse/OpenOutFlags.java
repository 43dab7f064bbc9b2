package io.vfsgw.fuse;

/** FOPEN_*: the bits of {@link OpenOut#openFlags()} telling the kernel how to cache an open file. */
public final class OpenOutFlags {
    private OpenOutFlags() {
    }

    /** Bypass the page cache for this open file. */
    public static final int FOPEN_DIRECT_IO = 1 << 0;
    /** Do not invalidate the data cache on open (the file did not change since the last open). */
    public static final int FOPEN_KEEP_CACHE = 1 << 1;
    public static final int FOPEN_NONSEEKABLE = 1 << 2;
    /** Allow caching this directory's READDIR results. */
    public static final int FOPEN_CACHE_DIR = 1 << 3;
    /** Stream-like file: no file position at all. */
    public static final int FOPEN_STREAM = 1 << 4;
    /** Do not flush the data cache on close (unless FUSE_WRITEBACK_CACHE). */
    public static final int FOPEN_NOFLUSH = 1 << 5;
    /** Allow concurrent direct writes on the same inode. */
    public static final int FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6;
    /** 7.40, not spoken by vfsgw: the open_out padding carries a backing id. */
    public static final int FOPEN_PASSTHROUGH = 1 << 7;
}
