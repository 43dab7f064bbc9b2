package io.vfsgw.backend.s3;

import io.vfsgw.spi.FileType;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * File attributes as s3fs-fuse stores them in user metadata (x-amz-meta-mode, -uid, -gid, -mtime,
 * -atime, -ctime; decimal strings, times in seconds with an optional fraction), so buckets written
 * by s3fs read correctly here and the other way round. The SDK hands us the names lower-case and
 * without the x-amz-meta- prefix.
 */
record S3Metadata(Integer mode, Integer uid, Integer gid, Long mtimeNs, Long atimeNs, Long ctimeNs,
                  Map<String, String> others) {
    static final String MODE = "mode";
    static final String UID = "uid";
    static final String GID = "gid";
    static final String MTIME = "mtime";
    static final String ATIME = "atime";
    static final String CTIME = "ctime";

    private static final Set<String> OURS = Set.of(MODE, UID, GID, MTIME, ATIME, CTIME);

    static final S3Metadata NONE = new S3Metadata(null, null, null, null, null, null, Map.of());

    /** Parses what it can; a malformed value counts as absent (the object stays readable). */
    static S3Metadata parse(Map<String, String> meta) {
        if (meta == null || meta.isEmpty()) {
            return NONE;
        }
        Map<String, String> others = new HashMap<>(meta);
        others.keySet().removeAll(OURS);
        return new S3Metadata(parseInt(meta.get(MODE)), parseInt(meta.get(UID)), parseInt(meta.get(GID)),
                parseTime(meta.get(MTIME)), parseTime(meta.get(ATIME)), parseTime(meta.get(CTIME)), Map.copyOf(others));
    }

    /** The type these bits say, or null when the mode carries no type bits (some tools write "644"). */
    FileType type() {
        return mode == null ? null : FileType.ofMode(mode);
    }

    /**
     * Our attributes as user metadata, on top of {@code others}: whatever else the object carried
     * (another tool's keys, s3fs's x-amz-meta-xattr), which a rewrite must keep.
     */
    static Map<String, String> encode(Map<String, String> others, int mode, int uid, int gid, long mtimeNs,
                                      long atimeNs, long ctimeNs) {
        Map<String, String> m = new HashMap<>(others);
        m.put(MODE, Integer.toString(mode));
        m.put(UID, Integer.toString(uid));
        m.put(GID, Integer.toString(gid));
        m.put(MTIME, formatTime(mtimeNs));
        m.put(ATIME, formatTime(atimeNs));
        m.put(CTIME, formatTime(ctimeNs));
        return m;
    }

    /** Whole seconds when there is no fraction (what s3fs writes), else a 9-digit fraction. */
    static String formatTime(long ns) {
        long s = Math.floorDiv(ns, 1_000_000_000L);
        long frac = Math.floorMod(ns, 1_000_000_000L);
        return frac == 0 ? Long.toString(s) : s + "." + String.format("%09d", frac);
    }

    static Long parseTime(String v) {
        if (v == null || v.isBlank()) {
            return null;
        }
        try {
            String t = v.trim();
            int dot = t.indexOf('.');
            if (dot < 0) {
                return Math.multiplyExact(Long.parseLong(t), 1_000_000_000L);
            }
            long s = Long.parseLong(t.substring(0, dot));
            String f = (t.substring(dot + 1) + "000000000").substring(0, 9);
            return Math.addExact(Math.multiplyExact(s, 1_000_000_000L), Long.parseLong(f));
        } catch (NumberFormatException | ArithmeticException e) {
            return null;
        }
    }

    private static Integer parseInt(String v) {
        if (v == null || v.isBlank()) {
            return null;
        }
        try {
            long l = Long.parseLong(v.trim());
            return (int) l;   // s3fs writes uid 4294967295 for nobody on some systems
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
