package io.vfsgw.cli;

import io.vfsgw.transport.vhostuser.VhostUserOptions;
import io.vfsgw.transport.vhostuser.VhostUserServer;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vfsgw try-vm}: serves the backend on a private socket and boots a throw-away Linux guest
 * (the test guest of testing/guest: Debian kernel + busybox, QEMU/TCG) with it mounted at /mnt, for
 * an interactive look or one command. Stops the gateway when QEMU exits.
 */
@Command(name = "try-vm", mixinStandardHelpOptions = true,
        description = {"Boot a throw-away Linux VM with the backend mounted at /mnt over virtio-fs.",
                "QEMU boots a small guest (Debian kernel, busybox) and gives you its shell on this terminal;"
                        + " with --command it runs that command and powers off. The guest image is built once by"
                        + " testing/guest/build-guest.sh (needs the vfsgw source tree)."})
final class TryVmCommand implements Callable<Integer> {
    private static final Pattern DONE = Pattern.compile("^VFSGW-DONE rc=(\\d+)");

    @Option(names = "--command", paramLabel = "SHELL",
            description = "Run this busybox sh command in /mnt instead of an interactive shell, print its"
                    + " output, power off; the exit status is the command's.")
    String command;

    @Option(names = "--tag", paramLabel = "TAG", defaultValue = "vfsgw",
            description = "The virtio-fs tag (default: ${DEFAULT-VALUE}).")
    String tag;

    @Option(names = "--vm-memory", paramLabel = "MIB", defaultValue = "1024",
            description = "Guest RAM in MiB (default: ${DEFAULT-VALUE}).")
    int memoryMiB;

    @Option(names = "--vm-cpus", paramLabel = "N", defaultValue = "2",
            description = "Guest CPUs (default: ${DEFAULT-VALUE}).")
    int cpus;

    @Option(names = "--guest-dir", paramLabel = "DIR",
            description = "testing/guest of the vfsgw source tree (default: found above the jar or the"
                    + " working directory, or $VFSGW_GUEST_DIR).")
    Path guestDir;

    @Option(names = "--guest-cache", paramLabel = "DIR",
            description = "Where the guest kernel and initramfs are cached (default: $VFSGW_GUEST_CACHE or"
                    + " ~/.cache/vfsgw-guest).")
    Path guestCache;

    @Option(names = "--qemu", paramLabel = "BINARY", defaultValue = "qemu-system-x86_64",
            description = "The QEMU binary (default: ${DEFAULT-VALUE}).")
    String qemuBinary;

    @Mixin
    BackendOptions backend = new BackendOptions();

    @Mixin
    GatewayOptions gateway = new GatewayOptions();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // The terminal is the guest's console: keep vfsgw's own start-up chatter out of it.
        if (spec != null && !spec.commandLine().getParseResult().hasMatchedOption("--log-level")) {
            gateway.logLevel = "warn";
        }
        gateway.applyLogLevel();
        if (memoryMiB < 128 || cpus < 1) {
            throw new SetupException("--vm-memory must be at least 128 and --vm-cpus at least 1");
        }
        if (!tag.matches("[A-Za-z0-9_.-]{1,36}")) {
            throw new SetupException("--tag must be 1-36 characters of A-Z a-z 0-9 _ . -, not '" + tag + "'");
        }
        Path guestDir = findGuestDir();
        Path tmp = Files.createTempDirectory("vfsgw-try-vm");
        Path socket = tmp.resolve("vfsgw.sock");
        // The backend first: a wrong bucket or source is said at once, not after building a guest.
        try (Gateway gw = Gateway.create(gateway, backend)) {
            Map<String, String> image = buildGuest(guestDir);
            VhostUserServer server;
            try {
                server = VhostUserServer.start(socket, VhostUserOptions.defaults(tag)
                                .withQueueThreads(gateway.threads()),
                        () -> gw.newSession("virtio-fs", 1 << 20));
            } catch (IOException e) {
                throw new SetupException("cannot serve: " + e.getMessage());
            }
            try {
                return command == null ? interactive(image, socket) : runCommand(image, socket, tmp);
            } finally {
                server.close();
            }
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(tmp.resolve("command.sh"));
            Files.deleteIfExists(tmp);
        }
    }

    private int interactive(Map<String, String> image, Path socket) throws IOException, InterruptedException {
        // mon:stdio multiplexes the QEMU monitor on the console, which is what makes Ctrl-A X work.
        List<String> cmd = qemuCommand(image, socket, "shell", List.of("-serial", "mon:stdio"));
        System.err.printf("vfsgw: booting a VM with %s at /mnt; leave with 'exit' (powers off) or Ctrl-A X (kills QEMU)%n",
                backend.describe());
        Process qemu = start(new ProcessBuilder(cmd).inheritIO());
        return waitFor(qemu);
    }

    private int runCommand(Map<String, String> image, Path socket, Path tmp) throws IOException, InterruptedException {
        Path script = tmp.resolve("command.sh");
        Files.writeString(script, command + "\n", StandardCharsets.UTF_8);
        List<String> extra = List.of("-serial", "stdio", "-fw_cfg", "name=opt/vfsgw/script,file=" + script);
        List<String> cmd = qemuCommand(image, socket, "script", extra);
        System.err.printf("vfsgw: booting a VM with %s at /mnt to run: %s%n", backend.describe(), command);
        Process qemu = start(new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))));
        int rc = -1;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(qemu.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                line = line.replace("\r", "");
                Matcher m = DONE.matcher(line);
                if (m.find()) {
                    rc = Integer.parseInt(m.group(1));
                } else if (line.startsWith("VFSGW-RESULT umount:") && line.contains(" fail ")) {
                    System.err.println("vfsgw: " + line);
                } else if (!line.startsWith("VFSGW-READY") && !line.startsWith("VFSGW-RESULT umount:")
                        && !line.endsWith("reboot: Power down") && !(rc >= 0 && line.isBlank())) {
                    System.out.println(line);        // the command's output (and any kernel message)
                }
            }
        }
        int qemuExit = waitFor(qemu);
        if (rc < 0) {
            System.err.println("vfsgw: the VM ended (QEMU exit " + qemuExit + ") before the command finished");
            return ExitCodes.RUNTIME_FAILURE;
        }
        return rc;
    }

    private Thread reaper;

    private Process start(ProcessBuilder pb) throws IOException {
        Process qemu;
        try {
            qemu = pb.start();
        } catch (IOException e) {
            throw new SetupException("cannot start " + pb.command().get(0) + " (apt-get install qemu-system-x86): "
                    + e.getMessage());
        }
        // vfsgw stopped by a signal: take the VM down with it rather than leave it without its share.
        reaper = new Thread(qemu::destroyForcibly, "vfsgw-try-vm-stop");
        Runtime.getRuntime().addShutdownHook(reaper);
        return qemu;
    }

    private int waitFor(Process qemu) throws InterruptedException {
        int exit = qemu.waitFor();
        Runtime.getRuntime().removeShutdownHook(reaper);
        return exit;
    }

    /** The QEMU command line; the same as testing/guest/run-guest.sh and io.vfsgw.testvm.GuestVm build. */
    List<String> qemuCommand(Map<String, String> image, Path socket, String mode, List<String> extra) {
        List<String> cmd = new ArrayList<>(List.of(qemuBinary,
                "-accel", "tcg", "-m", memoryMiB + "M", "-smp", Integer.toString(cpus),
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                // vhost-user needs the guest RAM in a shared memfd that vfsgw maps.
                "-object", "memory-backend-memfd,id=mem,size=" + memoryMiB + "M,share=on",
                "-numa", "node,memdev=mem",
                "-chardev", "socket,id=vfs0,path=" + socket.toAbsolutePath(),
                "-device", "vhost-user-fs-pci,chardev=vfs0,tag=" + tag + ",queue-size=1024",
                "-kernel", image.get("KERNEL"), "-initrd", image.get("INITRD"),
                "-append", "console=ttyS0 quiet panic=-1 vfsgw.mode=" + mode + " vfsgw.tag=" + tag));
        cmd.addAll(extra);
        return cmd;
    }

    /** testing/guest: --guest-dir, $VFSGW_GUEST_DIR, or the first one above the jar or the working directory. */
    Path findGuestDir() {
        if (guestDir != null) {
            if (!Files.isRegularFile(guestDir.resolve("build-guest.sh"))) {
                throw new SetupException("--guest-dir " + guestDir + " has no build-guest.sh");
            }
            return guestDir.toAbsolutePath();
        }
        String env = System.getenv("VFSGW_GUEST_DIR");
        if (env != null && !env.isBlank()) {
            return Path.of(env).toAbsolutePath();
        }
        List<Path> starts = new ArrayList<>();
        try {
            starts.add(Path.of(TryVmCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            // No code source (an unusual class loader): the working directory still works.
        }
        starts.add(Path.of("").toAbsolutePath());
        for (Path start : starts) {
            for (Path dir = start.toAbsolutePath(); dir != null; dir = dir.getParent()) {
                if (Files.isRegularFile(dir.resolve("testing/guest/build-guest.sh"))) {
                    return dir.resolve("testing/guest");
                }
            }
        }
        throw new SetupException("cannot find testing/guest/build-guest.sh above the jar or " + Path.of("").toAbsolutePath()
                + ": run from the vfsgw source tree or pass --guest-dir DIR");
    }

    /** Runs build-guest.sh (a no-op when the cached image is current) and reads its guest.env. */
    private Map<String, String> buildGuest(Path scripts) throws IOException, InterruptedException {
        Path cache = guestCache;
        if (cache == null) {
            String env = System.getenv("VFSGW_GUEST_CACHE");
            cache = env != null && !env.isBlank() ? Path.of(env)
                    : Path.of(System.getProperty("user.home"), ".cache", "vfsgw-guest");
        }
        // Its progress lines go to our stderr: a first build downloads a kernel and takes a minute.
        Process p = new ProcessBuilder("bash", scripts.resolve("build-guest.sh").toString(), cache.toString())
                .redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        if (!p.waitFor(15, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new SetupException("build-guest.sh did not finish in 15 minutes");
        }
        if (p.exitValue() != 0) {
            throw new SetupException("build-guest.sh failed (exit " + p.exitValue() + "); see its messages above");
        }
        Map<String, String> env = new HashMap<>();
        for (String line : Files.readAllLines(cache.resolve("guest.env"), StandardCharsets.UTF_8)) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                env.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        for (String key : List.of("KERNEL", "INITRD")) {
            if (!env.containsKey(key)) {
                throw new SetupException(cache.resolve("guest.env") + " lacks " + key + "; delete " + cache + " and retry");
            }
        }
        return env;
    }
}
