package io.vfsgw.testvm;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The guest kernel and initramfs, built (once per JVM, cached on disk) by testing/guest/build-guest.sh.
 *
 * <p>Where things are: the scripts directory comes from the system property {@code vfsgw.guest.dir}
 * (or env {@code VFSGW_GUEST_DIR}), else from walking up from the working directory to a
 * {@code testing/guest/build-guest.sh}; the cache from {@code vfsgw.guest.cache} (or env
 * {@code VFSGW_GUEST_CACHE}), else {@code ~/.cache/vfsgw-guest}.
 */
public record GuestImage(Path kernel, Path initrd, Path initrdWithFio, String kernelRelease) {

    private static GuestImage built;

    /** Builds the guest if its inputs changed (a no-op taking milliseconds otherwise) and returns it. */
    public static synchronized GuestImage get() {
        if (built == null) {
            built = build(scriptsDir(), cacheDir());
        }
        return built;
    }

    /** The directory holding build-guest.sh and run-guest.sh. */
    public static Path scriptsDir() {
        String configured = setting("vfsgw.guest.dir", "VFSGW_GUEST_DIR");
        if (configured != null) {
            return Path.of(configured).toAbsolutePath();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("testing/guest");
            if (Files.isRegularFile(candidate.resolve("build-guest.sh"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("testing/guest/build-guest.sh not found above "
                + Path.of("").toAbsolutePath() + "; set -Dvfsgw.guest.dir=/path/to/testing/guest");
    }

    /** Where the kernel package, kernel and initramfs are cached between runs. */
    public static Path cacheDir() {
        String configured = setting("vfsgw.guest.cache", "VFSGW_GUEST_CACHE");
        return configured != null ? Path.of(configured).toAbsolutePath()
                : Path.of(System.getProperty("user.home"), ".cache", "vfsgw-guest");
    }

    private static GuestImage build(Path scripts, Path cache) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("vfsgw-build-guest", ".out");
            err = Files.createTempFile("vfsgw-build-guest", ".log");
            Process p = new ProcessBuilder(List.of("bash", scripts.resolve("build-guest.sh").toString(),
                    cache.toString()))
                    .redirectOutput(out.toFile())      // stdout: only the path of the build's guest.env
                    .redirectError(err.toFile())       // progress and errors
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            // A first build downloads ~70 MB and packs the initramfs: well under this on a CI machine.
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("build-guest.sh did not finish in 10 minutes; log " + err);
            }
            String log = Files.readString(err, StandardCharsets.UTF_8);
            List<String> stdout = Files.readAllLines(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0 || stdout.isEmpty()) {
                throw new IllegalStateException("build-guest.sh failed (exit " + p.exitValue() + "):\n" + log);
            }
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
            return fromEnvFile(Path.of(stdout.get(stdout.size() - 1).trim()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run build-guest.sh (log " + err + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building the guest", e);
        }
    }

    /** Reads the KEY=VALUE file build-guest.sh writes beside the images. */
    static GuestImage fromEnvFile(Path envFile) throws IOException {
        Map<String, String> env = new HashMap<>();
        for (String line : Files.readAllLines(envFile, StandardCharsets.UTF_8)) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                env.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        for (String key : List.of("KERNEL", "INITRD", "INITRD_FIO", "KERNEL_RELEASE")) {
            if (!env.containsKey(key)) {
                throw new IOException(envFile + " lacks " + key);
            }
        }
        return new GuestImage(Path.of(env.get("KERNEL")), Path.of(env.get("INITRD")),
                Path.of(env.get("INITRD_FIO")), env.get("KERNEL_RELEASE"));
    }

    private static String setting(String property, String envVar) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            value = System.getenv(envVar);
        }
        return value == null || value.isBlank() ? null : value;
    }
}
