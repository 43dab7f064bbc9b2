package io.vfsgw.fuse;

/**
 * What vfsgw wants from INIT, independent of the kernel's offer; {@link InitNegotiation} intersects
 * the two. Validated on construction (a bad value is a configuration error, not a guest error).
 *
 * @param maxWrite            init_out.max_write: largest WRITE payload (the kernel also caps writes
 *                            at maxPages pages); at least 4096
 * @param maxPages            init_out.max_pages (with FUSE_MAX_PAGES); capped at 256, the kernel's
 *                            default limit
 * @param maxReadahead        upper bound for init_out.max_readahead (unsigned; the kernel's offer also
 *                            bounds it)
 * @param wantWritebackCache  accept FUSE_WRITEBACK_CACHE (the kernel then owns mtime/size while caching;
 *                            only safe when no other client changes files behind this mount)
 * @param wantDax             accept FUSE_MAP_ALIGNMENT and answer {@code mapAlignmentLog2}
 * @param mapAlignmentLog2    log2 of the alignment SETUPMAPPING offsets must have; 0..21 (the kernel
 *                            refuses more than its 2 MiB DAX range size)
 * @param maxBackground       init_out.max_background (0: kernel default of 12)
 * @param congestionThreshold init_out.congestion_threshold (0: kernel default, 3/4 of max_background)
 * @param timeGran            init_out.time_gran in ns: 1..1e9 (1: nanosecond timestamps)
 * @param exportSupport       accept FUSE_EXPORT_SUPPORT (the session answers LOOKUP of "." and "..");
 *                            when false and the kernel offers it, FUSE_NO_EXPORT_SUPPORT is set
 * @param posixLocks          accept FUSE_POSIX_LOCKS: only when the session and backend serve
 *                            GETLK/SETLK/SETLKW; otherwise the kernel keeps locks local, which is
 *                            correct for one client (ENOSYS after accepting would break fcntl locks)
 * @param flockLocks          accept FUSE_FLOCK_LOCKS: same rule for flock(2)
 * @param handleKillprivV2    accept FUSE_HANDLE_KILLPRIV_V2: only when the session clears suid/sgid on
 *                            FUSE_WRITE_KILL_SUIDGID, FATTR_KILL_SUIDGID and FUSE_OPEN_KILL_SUIDGID;
 *                            otherwise the kernel does it with an extra SETATTR (correct, slower)
 * @param directIoAllowMmap   accept FUSE_DIRECT_IO_ALLOW_MMAP (7.39+ kernels): shared mmap of
 *                            FOPEN_DIRECT_IO files works instead of failing with ENODEV
 * @param posixAcl            accept FUSE_POSIX_ACL and FUSE_DONT_MASK together: the kernel enforces
 *                            ACLs from system.posix_acl_* xattrs and leaves the umask to the backend
 *                            (CREATE/MKDIR/MKNOD carry it), which must then apply it or the parent's
 *                            default ACL; only for a backend that stores ACLs (posix --posix-acl)
 * @param readdirplus         accept FUSE_DO_READDIRPLUS and FUSE_READDIRPLUS_AUTO: listings carry
 *                            each entry's attributes; pointless when entries expire at once (cache
 *                            none), where every entry looked up for it is forgotten straight away
 */
public record InitPolicy(int maxWrite, int maxPages, int maxReadahead, boolean wantWritebackCache,
                         boolean wantDax, int mapAlignmentLog2, int maxBackground, int congestionThreshold,
                         int timeGran, boolean exportSupport, boolean posixLocks, boolean flockLocks,
                         boolean handleKillprivV2, boolean directIoAllowMmap, boolean posixAcl,
                         boolean readdirplus) {

    /** Largest map_alignment the kernel accepts (FUSE_DAX_SHIFT, its 2 MiB DAX range). */
    public static final int MAX_MAP_ALIGNMENT_LOG2 = 21;

    public InitPolicy {
        if (maxWrite < 4096) {
            throw new IllegalArgumentException("maxWrite must be at least 4096: " + maxWrite);
        }
        if (maxPages < 1 || maxPages > 0xFFFF) {
            throw new IllegalArgumentException("maxPages must be 1..65535: " + maxPages);
        }
        if (mapAlignmentLog2 < 0 || mapAlignmentLog2 > MAX_MAP_ALIGNMENT_LOG2) {
            throw new IllegalArgumentException("mapAlignmentLog2 must be 0.." + MAX_MAP_ALIGNMENT_LOG2 + ": " + mapAlignmentLog2);
        }
        if (maxBackground < 0 || maxBackground > 0xFFFF || congestionThreshold < 0 || congestionThreshold > 0xFFFF) {
            throw new IllegalArgumentException("maxBackground and congestionThreshold must be 0..65535");
        }
        if (timeGran < 1 || timeGran > 1_000_000_000) {
            throw new IllegalArgumentException("timeGran must be 1..1e9 ns: " + timeGran);
        }
    }

    /**
     * 1 MiB writes (256 pages), readahead as the kernel offers, 64 background requests, nanosecond
     * times, no writeback cache, no DAX (4 KiB alignment if enabled), no NFS export, no remote locks,
     * no KILLPRIV_V2 (the kernel handles suid clearing), shared mmap on direct-I/O files allowed, no
     * POSIX ACLs, READDIRPLUS.
     * maxReadahead -1 is the unsigned maximum: take whatever the kernel offers.
     */
    public static InitPolicy defaults() {
        return new InitPolicy(1 << 20, 256, -1, false, false, 12, 64, 48, 1, false, false, false, false, true, false, true);
    }

    public InitPolicy withWritebackCache(boolean on) {
        return new InitPolicy(maxWrite, maxPages, maxReadahead, on, wantDax, mapAlignmentLog2, maxBackground,
                congestionThreshold, timeGran, exportSupport, posixLocks, flockLocks, handleKillprivV2, directIoAllowMmap, posixAcl, readdirplus);
    }

    public InitPolicy withDax(boolean on, int alignmentLog2) {
        return new InitPolicy(maxWrite, maxPages, maxReadahead, wantWritebackCache, on, alignmentLog2, maxBackground,
                congestionThreshold, timeGran, exportSupport, posixLocks, flockLocks, handleKillprivV2, directIoAllowMmap, posixAcl, readdirplus);
    }

    public InitPolicy withLocks(boolean posix, boolean flock) {
        return new InitPolicy(maxWrite, maxPages, maxReadahead, wantWritebackCache, wantDax, mapAlignmentLog2,
                maxBackground, congestionThreshold, timeGran, exportSupport, posix, flock, handleKillprivV2, directIoAllowMmap, posixAcl, readdirplus);
    }

    public InitPolicy withExportSupport(boolean on) {
        return new InitPolicy(maxWrite, maxPages, maxReadahead, wantWritebackCache, wantDax, mapAlignmentLog2,
                maxBackground, congestionThreshold, timeGran, on, posixLocks, flockLocks, handleKillprivV2, directIoAllowMmap, posixAcl, readdirplus);
    }

    public InitPolicy withHandleKillprivV2(boolean on) {
        return new InitPolicy(maxWrite, maxPages, maxReadahead, wantWritebackCache, wantDax, mapAlignmentLog2,
                maxBackground, congestionThreshold, timeGran, exportSupport, posixLocks, flockLocks, on, directIoAllowMmap, posixAcl, readdirplus);
    }

    public InitPolicy withPosixAcl(boolean on) {
        return new InitPolicy(maxWrite, maxPages, maxReadahead, wantWritebackCache, wantDax, mapAlignmentLog2,
                maxBackground, congestionThreshold, timeGran, exportSupport, posixLocks, flockLocks, handleKillprivV2,
                directIoAllowMmap, on, readdirplus);
    }

    public InitPolicy withReaddirplus(boolean on) {
        return new InitPolicy(maxWrite, maxPages, maxReadahead, wantWritebackCache, wantDax, mapAlignmentLog2,
                maxBackground, congestionThreshold, timeGran, exportSupport, posixLocks, flockLocks, handleKillprivV2,
                directIoAllowMmap, posixAcl, on);
    }

    public InitPolicy withMaxWrite(int bytes, int pages) {
        return new InitPolicy(bytes, pages, maxReadahead, wantWritebackCache, wantDax, mapAlignmentLog2, maxBackground,
                congestionThreshold, timeGran, exportSupport, posixLocks, flockLocks, handleKillprivV2, directIoAllowMmap, posixAcl, readdirplus);
    }
}
