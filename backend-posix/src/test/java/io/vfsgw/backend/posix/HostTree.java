package io.vfsgw.backend.posix;

import io.vfsgw.nativeio.Xattrs;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The host side of the jail tests: a share ({@code base/source}, world-writable) beside a canary
 * directory ({@code base/canary}) on disk under target/, so xattrs are real, and snapshots of a
 * tree that a test compares before and after to show the host untouched.
 */
record HostTree(Path base, Path source, Path canary) {
    /** A fresh {@code target/<group>/baseNNN} holding an empty {@code source} and an empty {@code canary}. */
    static HostTree create(String group) throws Exception {
        Path parent = Files.createDirectories(Path.of("target", group).toAbsolutePath());
        Path base = Files.createTempDirectory(parent, "base");
        Path source = Files.createDirectory(base.resolve("source"));
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rwxrwxrwx"));
        return new HostTree(base, source, Files.createDirectory(base.resolve("canary")));
    }

    /** Every path under the base but those in the source: what a guest must never change. */
    Map<String, String> outsideSource() throws Exception {
        return snapshot(base, source);
    }

    void delete() throws Exception {
        try (Stream<Path> s = Files.walk(base)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /**
     * Every path under {@code top} but those under {@code skip} (null: none), with type, mode, owner,
     * size, times, content hash and xattrs.
     */
    static Map<String, String> snapshot(Path top, Path skip) throws Exception {
        Map<String, String> all = new TreeMap<>();
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> s = Files.walk(top)) {
            s.filter(p -> skip == null || !p.startsWith(skip)).forEach(paths::add);
        }
        for (Path p : paths) {
            all.put(p.toString(), describe(p));
        }
        return all;
    }

    private static String describe(Path p) throws Exception {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,size,nlink,lastModifiedTime,ctime",
                LinkOption.NOFOLLOW_LINKS);
        StringBuilder d = new StringBuilder(new TreeMap<>(a).toString());
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            d.append(" sha256=").append(HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
        }
        if (!Files.isSymbolicLink(p)) { // the xattr calls follow symlinks, some of which dangle
            for (String x : Xattrs.list(p.toString())) {
                d.append(' ').append(x).append('=').append(HexFormat.of().formatHex(Xattrs.get(p.toString(), x)));
            }
        }
        return d.toString();
    }
}
