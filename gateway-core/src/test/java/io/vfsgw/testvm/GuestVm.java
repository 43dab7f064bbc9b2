package io.vfsgw.testvm;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Boots a real Linux guest under QEMU/TCG, mounts virtio-fs (and optionally 9p) shares in it, runs a
 * shell script there and returns what the script reported.
 *
 * <p>How it works: the guest is a Debian kernel with a busybox initramfs ({@link GuestImage},
 * testing/guest/). The script travels through QEMU's fw_cfg ({@code opt/vfsgw/script}), so it does
 * not depend on the daemon under test; the shares to mount travel on the kernel command line. The
 * guest's /init mounts them, runs the script with helper functions ({@code check}, {@code expect},
 * {@code result}: see testing/guest/vfsgw-lib.sh), reports on the serial console and powers off.
 * This class reads QEMU's stdout line by line, never sleeps, and kills QEMU at the deadline.
 *
 * <p>Any vhost-user-fs backend can serve the sockets: vfsgw in the test JVM, or {@link Virtiofsd}.
 * <pre>{@code
 * GuestReport r = GuestVm.builder().socket(sock).tag("vfsgw")
 *         .script("expect hello 'hi' cat /mnt/hello.txt")
 *         .timeout(Duration.ofSeconds(90)).build().run();
 * r.assertOk();
 * }</pre>
 */
public final class GuestVm {

    /** Where the main share is mounted in the guest. */
    public static final String MAIN_MOUNT = "/mnt";

    static final String RESULT_PREFIX = "VFSGW-RESULT ";
    /**
     * Every virtio-fs device's ring size. The guest caps a FUSE request at the ring size less four
     * descriptors; QEMU's default of 128 would keep the tests off 1 MiB requests and full rings.
     */
    static final int QUEUE_SIZE = 1024;
    static final String READY_PREFIX = "VFSGW-READY";
    static final Pattern DONE = Pattern.compile("VFSGW-DONE rc=(\\d+)");
    // Tags, paths and options go on the kernel command line and through ':'-separated specs.
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_./,=+-]+");

    private final Builder b;

    private GuestVm(Builder b) {
        this.b = b;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Boots the guest, waits for the script to finish and QEMU to exit, and returns the report. */
    public GuestReport run() {
        GuestImage image = GuestImage.get();
        try {
            Files.createDirectories(b.logDir);
            String stem = b.name + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HHmmss-SSS"));
            Path scriptFile = b.logDir.resolve(stem + ".script.sh");
            Files.writeString(scriptFile, b.script + "\n", StandardCharsets.UTF_8);
            Path logFile = b.logDir.resolve(stem + ".console.log");
            return boot(qemuCommand(image, scriptFile), logFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the guest run in " + b.logDir, e);
        }
    }

    /** The QEMU command line this VM runs (for the docs and for debugging by hand). */
    public List<String> qemuCommand(GuestImage image, Path scriptFile) {
        List<String> cmd = new ArrayList<>(List.of(b.qemuBinary,
                "-accel", "tcg",     // KVM hangs at boot on these machines
                "-m", b.memoryMiB + "M", "-smp", Integer.toString(b.cpus),
                "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot"));
        if (b.machine != null) {
            cmd.addAll(List.of("-machine", b.machine));
        }
        addGuestMemory(cmd, b.memoryMiB, b.numaNodes, b.cpus);
        cmd.addAll(List.of(
                "-kernel", image.kernel().toString(),
                "-initrd", (b.fio ? image.initrdWithFio() : image.initrd()).toString(),
                "-fw_cfg", "name=opt/vfsgw/script,file=" + scriptFile.toAbsolutePath()));
        StringBuilder append = new StringBuilder("console=ttyS0 quiet panic=-1 vfsgw.mode=script");
        int n = 0;
        if (b.socket != null) {
            addVirtioFs(cmd, n++, b.socket, b.tag, b.requestQueues);
            append.append(" vfsgw.tag=").append(b.tag);
            if (b.mountOptions != null) {
                append.append(" vfsgw.opts=").append(b.mountOptions);
            }
        }
        for (Share s : b.shares) {
            if (s.socket != null) {
                addVirtioFs(cmd, n++, s.socket, s.tag, 1);
            } else {
                String id = "p9" + n++;
                cmd.addAll(List.of("-fsdev", "local,id=" + id + ",path=" + qemuPath(s.hostDir)
                                + ",security_model=passthrough",
                        "-device", "virtio-9p-pci,fsdev=" + id + ",mount_tag=" + s.tag));
            }
            append.append(" vfsgw.mount=").append(s.type).append(':').append(s.tag).append(':').append(s.guestDir);
            if (s.options != null) {
                append.append(':').append(s.options);
            }
        }
        for (String arg : b.kernelArgs) {
            append.append(' ').append(arg);
        }
        cmd.add("-append");
        cmd.add(append.toString());
        cmd.addAll(b.qemuArgs);
        return cmd;
    }

    /**
     * vhost-user needs the guest RAM in shareable memfds the daemon can map: one per NUMA node, the
     * vCPUs dealt out to the nodes in turn (nodes beyond the vCPUs hold only memory).
     */
    private static void addGuestMemory(List<String> cmd, int memoryMiB, int nodes, int cpus) {
        if (nodes == 1) {
            cmd.addAll(List.of("-object", "memory-backend-memfd,id=mem,size=" + memoryMiB + "M,share=on",
                    "-numa", "node,memdev=mem"));
            return;
        }
        for (int node = 0; node < nodes; node++) {
            StringBuilder cpuList = new StringBuilder();
            for (int cpu = node; cpu < cpus; cpu += nodes) {
                cpuList.append(",cpus=").append(cpu);
            }
            cmd.addAll(List.of("-object", "memory-backend-memfd,id=mem" + node + ",size=" + memoryMiB / nodes
                            + "M,share=on",
                    "-numa", "node,nodeid=" + node + ",memdev=mem" + node + cpuList));
        }
    }

    private static void addVirtioFs(List<String> cmd, int n, Path socket, String tag, int requestQueues) {
        String id = "vfs" + n;
        cmd.addAll(List.of("-chardev", "socket,id=" + id + ",path=" + qemuPath(socket),
                "-device", "vhost-user-fs-pci,chardev=" + id + ",tag=" + tag + ",queue-size=" + QUEUE_SIZE
                        + (requestQueues > 1 ? ",num-request-queues=" + requestQueues : "")));
    }

    private GuestReport boot(List<String> cmd, Path logFile) throws IOException {
        ConsoleReader console = new ConsoleReader(logFile);
        long start = System.nanoTime();
        Process qemu = new ProcessBuilder(cmd)
                .redirectErrorStream(true)     // QEMU's own errors (socket refused, bad option) belong in the log
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        console.start(qemu, start);
        try {
            long deadline = start + b.timeout.toNanos();
            // The reader counts down on VFSGW-DONE or at end of output (QEMU exited).
            if (!console.finished.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                throw timeout(qemu, console, logFile, "no VFSGW-DONE line");
            }
            // DONE comes after the unmounts; power-off follows at once.
            long exitDeadline = Math.max(deadline, System.nanoTime() + TimeUnit.SECONDS.toNanos(20));
            if (!qemu.waitFor(exitDeadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                throw timeout(qemu, console, logFile, "QEMU did not exit after the guest powered off");
            }
            long end = System.nanoTime();
            console.thread.join(TimeUnit.SECONDS.toMillis(10));
            return new GuestReport(console.results(), console.scriptExit(), qemu.exitValue(), console.lines(),
                    logFile, console.bootTime(), Duration.ofNanos(end - start));
        } catch (InterruptedException e) {
            qemu.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new GuestVmException("interrupted while the guest ran; console " + logFile);
        } finally {
            if (qemu.isAlive()) {
                qemu.destroyForcibly();
            }
        }
    }

    private GuestVmException timeout(Process qemu, ConsoleReader console, Path logFile, String what)
            throws InterruptedException {
        qemu.destroyForcibly();
        qemu.waitFor(10, TimeUnit.SECONDS);
        console.thread.join(TimeUnit.SECONDS.toMillis(5));
        List<String> lines = console.lines();
        return new GuestVmException("guest '" + b.name + "' timed out after " + b.timeout + " (" + what
                + "); QEMU killed\n--- console tail (full log: " + logFile + ") ---\n"
                + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
    }

    /** An absolute path for a QEMU option value, where ',' would start the next option. */
    private static String qemuPath(Path p) {
        String abs = p.toAbsolutePath().toString();
        if (abs.indexOf(',') >= 0) {
            throw new IllegalArgumentException("QEMU cannot take a path with ',': " + abs);
        }
        return abs;
    }

    /** Parses {@code VFSGW-RESULT name ok|fail detail}; empty for any other line. */
    static Optional<GuestReport.Result> parseResult(String line) {
        int at = line.indexOf(RESULT_PREFIX);
        if (at < 0) {
            return Optional.empty();
        }
        String[] parts = line.substring(at + RESULT_PREFIX.length()).split(" ", 3);
        if (parts.length < 2 || !(parts[1].equals("ok") || parts[1].equals("fail"))) {
            return Optional.empty();
        }
        return Optional.of(new GuestReport.Result(parts[0], parts[1].equals("ok"),
                parts.length == 3 ? parts[2].strip() : ""));
    }

    /** The rc of a {@code VFSGW-DONE rc=N} line; empty for any other line. */
    static OptionalInt parseDone(String line) {
        Matcher m = DONE.matcher(line);
        return m.find() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
    }

    /** Reads QEMU's output on its own thread: log file, line list, results, DONE. */
    private static final class ConsoleReader {
        final CountDownLatch finished = new CountDownLatch(1);
        final Path logFile;
        private final List<String> lines = new ArrayList<>();
        private final List<GuestReport.Result> results = new ArrayList<>();
        private final AtomicInteger exit = new AtomicInteger(-1);
        private volatile long bootNanos = -1;
        Thread thread;

        ConsoleReader(Path logFile) {
            this.logFile = logFile;
        }

        void start(Process qemu, long startNanos) {
            thread = new Thread(() -> read(qemu, startNanos), "guest-console");
            thread.setDaemon(true);
            thread.start();
        }

        private void read(Process qemu, long startNanos) {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(qemu.getInputStream(), StandardCharsets.UTF_8));
                 Writer log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8)) {
                String line;
                while ((line = in.readLine()) != null) {
                    line = line.replace("\r", "");
                    log.write(line);
                    log.write('\n');
                    log.flush();       // the log must be readable while a hung guest is investigated
                    synchronized (this) {
                        lines.add(line);
                        parseResult(line).ifPresent(results::add);
                    }
                    if (bootNanos < 0 && line.startsWith(READY_PREFIX)) {
                        bootNanos = System.nanoTime() - startNanos;
                    }
                    OptionalInt rc = parseDone(line);
                    if (rc.isPresent()) {
                        exit.set(rc.getAsInt());
                        finished.countDown();
                    }
                }
            } catch (IOException e) {
                synchronized (this) {
                    lines.add("[GuestVm] console read failed: " + e);
                }
            } finally {
                finished.countDown();
            }
        }

        synchronized List<String> lines() {
            return new ArrayList<>(lines);
        }

        synchronized List<GuestReport.Result> results() {
            return new ArrayList<>(results);
        }

        OptionalInt scriptExit() {
            int rc = exit.get();
            return rc < 0 ? OptionalInt.empty() : OptionalInt.of(rc);
        }

        Optional<Duration> bootTime() {
            long t = bootNanos;
            return t < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(t));
        }
    }

    /** An extra share: virtio-fs (socket set) or virtio-9p (hostDir set). */
    private record Share(String type, Path socket, Path hostDir, String tag, String guestDir, String options) {
    }

    /** Configures one guest run; every setter returns this. */
    public static final class Builder {
        private Path socket;
        private String tag = "vfsgw";
        private int requestQueues = 1;
        private String mountOptions;
        private final List<Share> shares = new ArrayList<>();
        private int memoryMiB = 1024;
        private int cpus = 2;
        private int numaNodes = 1;
        private String machine;
        private String script = "true";
        private Duration timeout = Duration.ofSeconds(120);
        private boolean fio;
        private String name = "guest";
        private Path logDir = Path.of("target", "guest-vm");
        private String qemuBinary = "qemu-system-x86_64";
        private final List<String> kernelArgs = new ArrayList<>();
        private final List<String> qemuArgs = new ArrayList<>();

        private Builder() {
        }

        /** The vhost-user-fs socket of the main share, mounted at /mnt with virtiofs. Optional. */
        public Builder socket(Path vhostUserSocket) {
            this.socket = Objects.requireNonNull(vhostUserSocket);
            return this;
        }

        /** Request queues of the main share's device (QEMU's num-request-queues; default 1). */
        public Builder requestQueues(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("request queues must be at least 1: " + n);
            }
            this.requestQueues = n;
            return this;
        }

        /** The main share's tag (default {@code vfsgw}). */
        public Builder tag(String tag) {
            this.tag = safe(tag, "tag");
            return this;
        }

        /** Extra virtiofs mount options for /mnt, comma separated (e.g. {@code dax}). */
        public Builder mountOptions(String options) {
            this.mountOptions = safe(options, "mount options");
            return this;
        }

        /** One more virtio-fs share, served on {@code socket}, mounted at {@code guestDir}. */
        public Builder virtioFs(Path socket, String tag, String guestDir) {
            shares.add(new Share("virtiofs", Objects.requireNonNull(socket), null, safe(tag, "tag"),
                    safe(guestDir, "guest dir"), null));
            return this;
        }

        /**
         * A virtio-9p share of host directory {@code hostDir} (QEMU serves it, security_model=passthrough),
         * mounted at {@code guestDir} with trans=virtio,version=9p2000.L,msize=512000: the usual
         * comparison for virtio-fs.
         */
        public Builder ninep(Path hostDir, String tag, String guestDir) {
            shares.add(new Share("9p", null, Objects.requireNonNull(hostDir), safe(tag, "tag"),
                    safe(guestDir, "guest dir"), null));
            return this;
        }

        public Builder memoryMiB(int mib) {
            if (mib < 128) {
                throw new IllegalArgumentException("the guest needs at least 128 MiB, got " + mib);
            }
            this.memoryMiB = mib;
            return this;
        }

        public Builder cpus(int cpus) {
            if (cpus < 1) {
                throw new IllegalArgumentException("cpus must be >= 1, got " + cpus);
            }
            this.cpus = cpus;
            return this;
        }

        /**
         * Splits the guest RAM into {@code nodes} NUMA nodes, each its own memfd: the daemon then maps
         * several regions from several fds, as for a VM laid out by libvirt's {@code <numa>}.
         */
        public Builder numaNodes(int nodes) {
            if (nodes < 1) {
                throw new IllegalArgumentException("NUMA nodes must be at least 1: " + nodes);
            }
            this.numaNodes = nodes;
            return this;
        }

        /** QEMU's {@code -machine} (default: QEMU's, i440fx); {@code q35} is what libvirt picks today. */
        public Builder machine(String machine) {
            this.machine = safe(machine, "machine");
            return this;
        }

        /** The busybox sh script to run in the guest (cwd /mnt); helpers check/expect/result are defined. */
        public Builder script(String guestShellScript) {
            this.script = Objects.requireNonNull(guestShellScript);
            return this;
        }

        /** Deadline for the whole run, boot included (default 120 s); QEMU is killed when it passes. */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout);
            return this;
        }

        /** Boot the initramfs that also carries fio (36 MB more: about 2 s slower to boot). */
        public Builder withFio() {
            this.fio = true;
            return this;
        }

        /** A name for the console log file (default {@code guest}). */
        public Builder name(String name) {
            this.name = name.replaceAll("[^A-Za-z0-9_.-]", "_");
            return this;
        }

        /** Where console logs and scripts are kept (default target/guest-vm). */
        public Builder logDir(Path dir) {
            this.logDir = Objects.requireNonNull(dir);
            return this;
        }

        /** Another QEMU binary (default qemu-system-x86_64 on PATH). */
        public Builder qemuBinary(String binary) {
            this.qemuBinary = Objects.requireNonNull(binary);
            return this;
        }

        /** Extra kernel command line words. */
        public Builder kernelArgs(String... args) {
            kernelArgs.addAll(List.of(args));
            return this;
        }

        /** Extra QEMU arguments, appended last. */
        public Builder qemuArgs(String... args) {
            qemuArgs.addAll(List.of(args));
            return this;
        }

        public GuestVm build() {
            if (memoryMiB % numaNodes != 0) {
                throw new IllegalArgumentException(memoryMiB + " MiB cannot be split evenly into " + numaNodes
                        + " NUMA nodes");
            }
            return new GuestVm(this);
        }

        private static String safe(String value, String what) {
            if (value == null || !SAFE.matcher(value).matches()) {
                throw new IllegalArgumentException(what + " must match " + SAFE + ": " + value);
            }
            return value;
        }
    }
}
