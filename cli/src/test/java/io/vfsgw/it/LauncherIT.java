package io.vfsgw.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ./vfsgw launcher on a copy of the built jar (a tree without sources, so it never rebuilds
 * under a running build): the first start trains the class-data archive next to the jar, later
 * starts load classes from it, and a new jar makes it train again.
 */
class LauncherIT {
    @TempDir
    Path tree;

    @Test
    void trainsItsClassDataArchiveOnceAndStartsFromIt() throws Exception {
        Path root = Shell.repoRoot();
        Files.copy(root.resolve("vfsgw"), tree.resolve("vfsgw"), StandardCopyOption.COPY_ATTRIBUTES);
        Path target = Files.createDirectories(tree.resolve("cli/target"));
        Path jar = Files.copy(root.resolve("cli/target/vfsgw.jar"), target.resolve("vfsgw.jar"));
        Path archive = target.resolve("vfsgw.jsa");

        String first = launch();
        assertTrue(first.contains("vfsgw "), "version printed: " + first);
        assertTrue(Files.size(archive) > 1 << 20, "archive trained next to the jar");
        long trained = Files.getLastModifiedTime(archive).toMillis();

        String second = launch();
        assertTrue(second.contains("source: shared objects file (top)"),
                "classes come from the launcher's archive (the top layer over the JDK's)");
        assertEquals(trained, Files.getLastModifiedTime(archive).toMillis(), "not trained again");

        Files.setLastModifiedTime(jar, FileTime.fromMillis(trained + 2000));
        launch();
        assertTrue(Files.getLastModifiedTime(archive).toMillis() > trained, "a newer jar gets a new archive");
    }

    /** Runs {@code vfsgw --version} with class-load logging; returns stdout and stderr. */
    private String launch() throws Exception {
        Path out = tree.resolve("out.txt");
        ProcessBuilder pb = new ProcessBuilder(List.of(tree.resolve("vfsgw").toString(), "--version"))
                .redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("VFSGW_JAVA_OPTS", "-Xlog:class+load=info");
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "launcher finished");
        String s = Files.readString(out);
        assertEquals(0, p.exitValue(), s);
        return s;
    }
}
