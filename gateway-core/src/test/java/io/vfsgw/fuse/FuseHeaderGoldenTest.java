package io.vfsgw.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compiles a C probe with the machine's gcc against /usr/include/linux/fuse.h and checks every
 * struct size, field offset and field width of {@link WireLayouts} (hence of every record) against it.
 */
class FuseHeaderGoldenTest {
    private static final Path HEADER = Path.of("/usr/include/linux/fuse.h");
    /** Structs of fuse.h vfsgw does not model, with the reason. */
    private static final Set<String> NOT_MODELLED = Set.of(
            "cuse_init_in", "cuse_init_out");   // CUSE character devices, not a filesystem

    @Test
    void everyRecordMatchesTheKernelHeader(@TempDir Path dir) throws Exception {
        Path gcc = findGcc();
        Assumptions.assumeTrue(gcc != null, () -> skip("gcc not found on PATH"));
        Assumptions.assumeTrue(Files.isReadable(HEADER), () -> skip(HEADER + " missing (install linux-libc-dev)"));

        StringBuilder c = new StringBuilder("""
                #include <stdio.h>
                #include <stddef.h>
                #include <stdint.h>
                #include <linux/fuse.h>
                int main(void) {
                """);
        for (WireLayouts.Layout l : WireLayouts.ALL) {
            String s = "struct " + l.cStruct();
            c.append("  printf(\"S %s %zu\\n\", \"").append(l.cStruct()).append("\", sizeof(").append(s).append("));\n");
            for (WireLayouts.Field f : l.fields()) {
                c.append("  printf(\"F %s %s %zu %zu\\n\", \"").append(l.cStruct()).append("\", \"").append(f.cPath())
                        .append("\", offsetof(").append(s).append(", ").append(f.cPath()).append("), sizeof(((")
                        .append(s).append(" *)0)->").append(f.cPath()).append("));\n");
            }
        }
        c.append("  return 0;\n}\n");
        Path src = dir.resolve("probe.c");
        Path exe = dir.resolve("probe");
        Files.writeString(src, c);
        run(dir, gcc.toString(), "-O0", "-w", "-o", exe.toString(), src.toString());
        String out = run(dir, exe.toString());

        Map<String, Long> actual = new HashMap<>();
        for (String line : out.split("\n")) {
            String[] p = line.split(" ");
            if (p[0].equals("S")) {
                actual.put(p[1], Long.parseLong(p[2]));
            } else {
                actual.put(p[1] + "." + p[2] + "@", Long.parseLong(p[3]));
                actual.put(p[1] + "." + p[2] + "#", Long.parseLong(p[4]));
            }
        }
        int checked = 0;
        for (WireLayouts.Layout l : WireLayouts.ALL) {
            assertEquals(actual.get(l.cStruct()), (long) l.size(), "sizeof(struct " + l.cStruct() + ")");
            assertEquals(l.size(), l.type().getField("SIZE").getInt(null), l.type().getSimpleName() + ".SIZE");
            for (WireLayouts.Field f : l.fields()) {
                String k = l.cStruct() + "." + f.cPath();
                assertEquals(actual.get(k + "@"), (long) f.offset(), "offsetof " + k);
                assertEquals(actual.get(k + "#"), (long) f.width(), "sizeof " + k);
                checked++;
            }
        }
        assertTrue(checked > 250, "checked only " + checked + " fields");
    }

    /** Every struct the header defines has a record (or is knowingly left out). */
    @Test
    void everyHeaderStructHasARecord() throws IOException {
        Assumptions.assumeTrue(Files.isReadable(HEADER), () -> skip(HEADER + " missing (install linux-libc-dev)"));
        Set<String> inHeader = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^struct ((?:fuse|cuse)_\\w+) \\{").matcher(Files.readString(HEADER));
        while (m.find()) {
            inHeader.add(m.group(1));
        }
        Set<String> modelled = new TreeSet<>();
        WireLayouts.ALL.forEach(l -> modelled.add(l.cStruct()));
        inHeader.removeAll(modelled);
        inHeader.removeAll(NOT_MODELLED);
        assertEquals(Set.of(), inHeader, "structs of " + HEADER + " without a record");
        assertTrue(modelled.size() >= 60, "only " + modelled.size() + " records");
    }

    private static String skip(String why) {
        String msg = "SKIPPED FuseHeaderGoldenTest: " + why;
        System.err.println(msg);
        return msg;
    }

    private static Path findGcc() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(d, "gcc");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    private static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + String.join(" ", cmd));
        String s = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + s);
        return s;
    }
}
