package io.vfsgw.testvm;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Collectors;

/**
 * What one guest run produced: the script's result lines, its exit status, and the whole console.
 *
 * @param results      every {@code VFSGW-RESULT} line, in order
 * @param scriptExit   the {@code rc} of the {@code VFSGW-DONE} line; empty if the guest never got there
 *                     (kernel panic, QEMU refused to start, daemon hung the mount)
 * @param qemuExit     QEMU's own exit status (0 after a clean power-off)
 * @param console      every console line (serial output and QEMU's stderr), carriage returns removed
 * @param consoleLog   the file the console was also written to, for debugging after the test
 * @param bootTime     from QEMU's start to the {@code VFSGW-READY} line (shares mounted), if seen
 * @param totalTime    from QEMU's start to its exit
 */
public record GuestReport(List<Result> results, OptionalInt scriptExit, int qemuExit, List<String> console,
                          Path consoleLog, Optional<Duration> bootTime, Duration totalTime) {

    /** One {@code VFSGW-RESULT name ok|fail detail} line. */
    public record Result(String name, boolean ok, String detail) {
    }

    public GuestReport {
        results = List.copyOf(results);
        console = List.copyOf(console);
    }

    /** The last result reported under {@code name}. */
    public Optional<Result> result(String name) {
        Result found = null;
        for (Result r : results) {
            if (r.name().equals(name)) {
                found = r;
            }
        }
        return Optional.ofNullable(found);
    }

    /** The detail of the result {@code name}, which must exist and be ok; otherwise fails with the console tail. */
    public String detail(String name) {
        Result r = result(name).orElseThrow(() -> new AssertionError("no result '" + name + "'\n" + describe()));
        if (!r.ok()) {
            throw new AssertionError("result '" + name + "' failed: " + r.detail() + "\n" + describe());
        }
        return r.detail();
    }

    public List<Result> failures() {
        return results.stream().filter(r -> !r.ok()).collect(Collectors.toList());
    }

    /** True when the script finished with status 0 and reported no failure. */
    public boolean ok() {
        return scriptExit.isPresent() && scriptExit.getAsInt() == 0 && failures().isEmpty();
    }

    /** Throws an AssertionError naming the failures and showing the console tail unless {@link #ok()}. */
    public GuestReport assertOk() {
        if (!ok()) {
            throw new AssertionError("guest run failed\n" + describe());
        }
        return this;
    }

    /** The last {@code lines} console lines. */
    public List<String> consoleTail(int lines) {
        return console.subList(Math.max(0, console.size() - lines), console.size());
    }

    /** A summary for failure messages: exit codes, failed results, console tail, log file. */
    public String describe() {
        return "script exit " + (scriptExit.isPresent() ? scriptExit.getAsInt() : "none (no VFSGW-DONE line)")
                + ", qemu exit " + qemuExit + ", failures " + failures()
                + "\n--- console tail (full log: " + consoleLog + ") ---\n"
                + String.join("\n", consoleTail(40));
    }
}
