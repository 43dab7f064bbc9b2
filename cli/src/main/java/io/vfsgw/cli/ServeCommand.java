package io.vfsgw.cli;

import io.vfsgw.transport.vhostuser.VhostUserOptions;
import io.vfsgw.transport.vhostuser.VhostUserServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vfsgw serve}: the virtio-fs device over a vhost-user socket, for QEMU guests. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve the backend to virtual machines as a virtio-fs device on a vhost-user socket.",
                "QEMU connects with -chardev socket,path=SOCKET and -device vhost-user-fs-pci; the guest"
                        + " mounts with 'mount -t virtiofs TAG /mnt'. The exact arguments are printed at start."})
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--socket-path", paramLabel = "PATH", description = "The vhost-user socket to listen on.")
    Path socketPath;

    @Option(names = "--tag", paramLabel = "TAG", defaultValue = "vfsgw",
            description = "The virtio-fs tag the guest mounts (default: ${DEFAULT-VALUE}).")
    String tag;

    @Option(names = "--queues", paramLabel = "N", defaultValue = "1",
            description = "Request queues offered to the guest (default: ${DEFAULT-VALUE}).")
    int queues;

    @Option(names = "--socket-group", paramLabel = "GROUP",
            description = "Give the socket to this group, mode 0660 (default: owner only, 0600).")
    String socketGroup;

    @Option(names = "--exit-on-disconnect", description = "Stop when the VM disconnects instead of waiting for the next.")
    boolean exitOnDisconnect;

    @Option(names = "--print-capabilities", description = "Print the vhost-user backend capabilities (JSON, for libvirt) and exit.")
    boolean printCapabilities;

    @Mixin
    BackendOptions backend = new BackendOptions();

    @Mixin
    GatewayOptions gateway = new GatewayOptions();

    @Override
    public Integer call() throws Exception {
        if (printCapabilities) {
            System.out.println("{\n  \"type\": \"fs\"\n}");
            return ExitCodes.OK;
        }
        gateway.applyLogLevel();
        if (socketPath == null) {
            throw new SetupException("serve needs --socket-path PATH: where QEMU's vhost-user chardev connects");
        }
        if (queues < 1 || queues > 254) {
            throw new SetupException("--queues must be 1..254, not " + queues);
        }
        VhostUserOptions opts = VhostUserOptions.defaults(tag).withRequestQueues(queues)
                .withExitOnDisconnect(exitOnDisconnect)
                .withQueueThreads(gateway.threads());
        if (socketGroup != null) {
            opts = opts.withSocketGroup(socketGroup);
        }
        try (Gateway gw = Gateway.create(gateway, backend)) {
            VhostUserServer server;
            try {
                server = VhostUserServer.start(socketPath, opts, () -> gw.newSession("virtio-fs", 1 << 20));
            } catch (IOException | IllegalArgumentException e) {
                throw new SetupException("cannot serve: " + e.getMessage());
            }
            Runtime.getRuntime().addShutdownHook(new Thread(server::close, "vfsgw-serve-stop"));
            printAttachHelp();
            server.terminated().join();
            server.close();
            return ExitCodes.OK;
        }
    }

    private void printAttachHelp() {
        Path s = socketPath.toAbsolutePath();
        System.err.printf("vfsgw: serving %s as virtio-fs tag '%s' on %s%n", backend.describe(), tag, s);
        System.err.println("vfsgw: attach QEMU with:");
        System.err.printf("    -object memory-backend-memfd,id=mem,size=1G,share=on -numa node,memdev=mem \\%n"
                + "    -chardev socket,id=vfsgw0,path=%s \\%n"
                + "    -device vhost-user-fs-pci,chardev=vfsgw0,tag=%s,queue-size=1024%s%n", s, tag,
                queues > 1 ? ",num-request-queues=" + queues : "");
        System.err.printf("vfsgw: in the guest: mount -t virtiofs%s %s /mnt%n", backend.readonly ? " -o ro" : "", tag);
    }
}
