package io.vfsgw.spi;

/**
 * The changes a SETATTR asks for; a null field is left unchanged. Times are nanoseconds since the
 * epoch; {@code *Now} means "the backend's current time" (utimensat UTIME_NOW).
 *
 * @param fh            the open handle the change was made through (ftruncate, fchmod), or null
 * @param killSuidGid   clear suid (and sgid if group-executable) as a write by a non-owner would
 *                      (FUSE_HANDLE_KILLPRIV_V2)
 */
public record SetAttr(Integer mode, Integer uid, Integer gid, Long size,
                      Long atimeNs, boolean atimeNow, Long mtimeNs, boolean mtimeNow, Long ctimeNs,
                      Long fh, boolean killSuidGid) {

    public static SetAttr size(long size) {
        return new SetAttr(null, null, null, size, null, false, null, false, null, null, false);
    }

    public static SetAttr mode(int mode) {
        return new SetAttr(mode, null, null, null, null, false, null, false, null, null, false);
    }

    public static SetAttr owner(Integer uid, Integer gid) {
        return new SetAttr(null, uid, gid, null, null, false, null, false, null, null, false);
    }

    public static SetAttr times(Long atimeNs, boolean atimeNow, Long mtimeNs, boolean mtimeNow) {
        return new SetAttr(null, null, null, null, atimeNs, atimeNow, mtimeNs, mtimeNow, null, null, false);
    }

    /**
     * A SETATTR with nothing in it. The kernel sends one for chown(f, -1, -1), and before a write
     * to a setuid file by a caller without CAP_FSETID, keeping to itself what Linux then does: move
     * ctime and, on a non-directory, clear setuid and group-executable setgid (see
     * {@link #emptySetattrClearsSetuid}).
     */
    public boolean changesNothing() {
        return mode == null && uid == null && gid == null && size == null && !changesTimes() && ctimeNs == null
                && !killSuidGid;
    }

    /**
     * Whether an empty SETATTR from this caller clears setuid/setgid of a non-directory with owner
     * {@code fileUid}, group {@code fileGid} and {@code mode} (ids as the backend stores them):
     * for root and the owner (chown(f, -1, -1)), and for whoever may write it (the kernel's
     * clearing before that caller's write; answering with the bits already gone keeps the
     * kernel's cached mode right). Others, whose chown Linux refuses, change nothing.
     */
    public static boolean emptySetattrClearsSetuid(boolean root, int callerUid, int callerGid, int fileUid,
                                                   int fileGid, int mode) {
        int writeBit = callerUid == fileUid ? 0200 : callerGid == fileGid ? 0020 : 0002;
        return root || callerUid == fileUid || (mode & writeBit) != 0;
    }

    /**
     * {@code mode} with setuid cleared, and setgid when group-executable: what Linux clears on a
     * write, truncate or chown by a caller without CAP_FSETID (setgid without group-execute is a
     * locking mark, not a privilege, and stays).
     */
    public static int withoutSetuid(int mode) {
        int m = mode & ~04000;
        return (m & 010) != 0 ? m & ~02000 : m;
    }

    public boolean changesTimes() {
        return atimeNs != null || atimeNow || mtimeNs != null || mtimeNow;
    }
}
