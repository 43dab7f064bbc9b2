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

    public boolean changesTimes() {
        return atimeNs != null || atimeNow || mtimeNs != null || mtimeNow;
    }
}
