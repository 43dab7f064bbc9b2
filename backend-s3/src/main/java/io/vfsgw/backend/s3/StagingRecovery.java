package io.vfsgw.backend.s3;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.net.URLDecoder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * Staging files a crashed run left behind, and their way to the bucket ({@code vfsgw s3 recover}).
 *
 * <p>Each staging file {@code <cacheDir>/staging/<run>-<node>-<url-encoded key>} has a manifest
 * beside it, {@code <name>~manifest} (a '~' never occurs in the URL-encoded name), a properties
 * file with the bucket, the full object key and the user metadata at the time the file got that
 * key. The file name alone is not enough: it is cut at 200 characters and keeps the old key after
 * a rename. A staging file without a manifest (a crash in the instant between the two) is still
 * reported, with the key decoded from its name when the name was not cut.
 */
public final class StagingRecovery {
    static final String MANIFEST_SUFFIX = "~manifest";
    private static final int NAME_KEY_MAX = 200;

    private StagingRecovery() {
    }

    /**
     * One leftover staging file. {@code bucket} is null when unknown (no manifest); {@code key} is
     * null when it cannot be known (no manifest and a cut name).
     */
    public record Leftover(Path staging, String bucket, String key, long size, Map<String, String> meta,
                           boolean fromManifest) {
        /** One report line: path, target, size. */
        public String describe() {
            String target = key == null ? "unknown key (no manifest, name cut): upload by hand"
                    : "s3://" + (bucket == null ? "<bucket?>" : bucket) + "/" + key
                    + (fromManifest ? "" : " (key from the file name: no manifest)");
            return staging + "  ->  " + target + "  (" + size + " bytes)";
        }
    }

    /** {@code <cacheDir>/staging}. */
    public static Path stagingDir(Path cacheDir) {
        return cacheDir.resolve("staging");
    }

    /** Records where the staging file's bytes belong; replaces any earlier manifest atomically. */
    static void writeManifest(Path staging, String bucket, String key, Map<String, String> meta) throws IOException {
        Properties p = new Properties();
        p.setProperty("bucket", bucket);
        p.setProperty("key", key);
        if (meta != null) {
            meta.forEach((k, v) -> p.setProperty("meta." + k, v));
        }
        Path manifest = manifestOf(staging);
        Path tmp = manifest.resolveSibling(manifest.getFileName() + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            p.store(w, "vfsgw S3 staging manifest: the object the staging file beside it belongs to");
        }
        Files.move(tmp, manifest, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static Path manifestOf(Path staging) {
        return staging.resolveSibling(staging.getFileName() + MANIFEST_SUFFIX);
    }

    /** Removes a staging file and its manifest. */
    static void delete(Path staging) throws IOException {
        Files.deleteIfExists(staging);
        Files.deleteIfExists(manifestOf(staging));
    }

    /** The staging files in {@code <cacheDir>/staging}, sorted by name; empty when there is no such directory. */
    public static List<Leftover> scan(Path cacheDir) throws IOException {
        Path dir = stagingDir(cacheDir);
        List<Leftover> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> !p.getFileName().toString().contains("~")).sorted().toList();
        }
        for (Path f : files) {
            long size = Files.size(f);
            Path manifest = manifestOf(f);
            if (Files.isRegularFile(manifest)) {
                Properties p = new Properties();
                try (Reader r = Files.newBufferedReader(manifest, StandardCharsets.UTF_8)) {
                    p.load(r);
                }
                Map<String, String> meta = new TreeMap<>();
                for (String name : p.stringPropertyNames()) {
                    if (name.startsWith("meta.")) {
                        meta.put(name.substring(5), p.getProperty(name));
                    }
                }
                out.add(new Leftover(f, p.getProperty("bucket"), p.getProperty("key"), size, meta, true));
            } else {
                out.add(new Leftover(f, null, keyFromName(f.getFileName().toString()), size, Map.of(), false));
            }
        }
        return out;
    }

    /** {@code <run>-<node>-<url-encoded key>} back to the key, or null when the name was cut. */
    static String keyFromName(String name) {
        int first = name.indexOf('-');
        int second = first < 0 ? -1 : name.indexOf('-', first + 1);
        if (second < 0) {
            return null;
        }
        String encoded = name.substring(second + 1);
        if (encoded.length() >= NAME_KEY_MAX) {
            return null;
        }
        return URLDecoder.decode(encoded, StandardCharsets.UTF_8);
    }

    /**
     * Uploads one leftover to {@code o.bucket()} under its key with its metadata (PUT, or multipart
     * above the part size), then deletes the staging file and its manifest. Returns the ETag.
     */
    public static String upload(S3AsyncClient s3, S3Options o, Leftover l) throws FsException {
        if (l.key() == null) {
            throw FsException.of(Errno.EINVAL, "the key of " + l.staging() + " is unknown");
        }
        String etag;
        try (FileChannel ch = FileChannel.open(l.staging(), StandardOpenOption.READ)) {
            etag = Uploads.uploadFile(s3, o, l.key(), l.meta(), ch, ch.size());
        } catch (IOException e) {
            throw FsException.wrap(Errno.EIO, e, "reading " + l.staging());
        }
        try {
            delete(l.staging());
        } catch (IOException e) {
            throw FsException.wrap(Errno.EIO, e, "uploaded, but cannot remove " + l.staging());
        }
        return etag;
    }

    /** The one warning line a backend logs at start when it finds leftovers. */
    static String warning(Path cacheDir, int count) {
        return count + " staging file(s) from an earlier run are in " + stagingDir(cacheDir)
                + ": they hold data that was never uploaded. List them with 'vfsgw s3 recover --cache-dir "
                + cacheDir + "', upload them with '... --upload' (stop the gateway using this cache dir first)";
    }
}
