package io.vfsgw.cli;

import io.vfsgw.session.FuseSession;
import io.vfsgw.transport.vhostuser.VhostUserOptions;
import io.vfsgw.transport.vhostuser.VhostUserServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code vfsgw serve}: the virtio-fs device over a vhost-user socket, for QEMU guests. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve the backend to virtual machines as a virtio-fs device on a vhost-user socket.",
                "QEMU connects with -chardev socket,path=SOCKET and -device vhost-user-fs-pci; the guest"
                        + " mounts with 'mount -t virtiofs TAG /mnt'. The exact arguments are printed at start."})
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--socket-path", paramLabel = "PATH",
            description = "The vhost-user socket to listen on. Repeat it to serve several VMs (one per socket)"
                    + " over one backend and one metadata cache.")
    List<Path> socketPaths = new ArrayList<>();

    @Option(names = "--fd", paramLabel = "FD",
            description = "Serve on a listening Unix socket inherited as this file descriptor, instead of"
                    + " --socket-path: libvirt binds the socket itself and starts its virtio-fs daemon so.")
    Integer fd;

    @Option(names = "--tag", paramLabel = "TAG",
            description = "The virtio-fs tag the guest mounts (default: vfsgw). Given once, every socket uses it;"
                    + " given once per --socket-path, the tags pair with the sockets in order.")
    List<String> tags = new ArrayList<>();

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

    @Mixin
    VirtiofsdOptions virtiofsd = new VirtiofsdOptions();

    /**
     * What vfsgw says to --print-capabilities (libvirt asks before starting a virtio-fs daemon):
     * "separate-options" tells libvirt to pass --shared-dir, --cache, --xattr... rather than one -o
     * list; both work. No "migrate-precopy": vfsgw cannot hand its state to another daemon.
     */
    static final String CAPABILITIES = "{\n  \"type\": \"fs\",\n  \"features\": [\n    \"separate-options\"\n  ]\n}";

    @Override
    public Integer call() throws Exception {
        if (printCapabilities) {
            System.out.println(CAPABILITIES);
            return ExitCodes.OK;
        }
        virtiofsd.applyTo(backend, gateway);
        gateway.applyLogLevel();
        if (fd != null && !socketPaths.isEmpty()) {
            throw new SetupException("give --socket-path or --fd, not both");
        }
        if (fd == null && socketPaths.isEmpty()) {
            throw new SetupException("serve needs --socket-path PATH: where QEMU's vhost-user chardev connects"
                    + " (or --fd N: a listening socket inherited from libvirt)");
        }
        int sockets = fd != null ? 1 : socketPaths.size();
        if (new HashSet<>(socketPaths.stream().map(p -> p.toAbsolutePath().normalize()).toList()).size()
                != socketPaths.size()) {
            throw new SetupException("each --socket-path must be a different path: " + socketPaths);
        }
        List<String> socketTags = socketTags(sockets);
        if (queues < 1 || queues > 254) {
            throw new SetupException("--queues must be 1..254, not " + queues);
        }
        VhostUserOptions opts = VhostUserOptions.defaults(socketTags.get(0)).withRequestQueues(queues)
                .withExitOnDisconnect(exitOnDisconnect)
                .withQueueThreads(gateway.threads());
        if (socketGroup != null) {
            opts = opts.withSocketGroup(socketGroup);
        }
        try (Gateway gw = Gateway.create(gateway, backend)) {
            // The stop hook may run while the sockets are still being opened.
            List<VhostUserServer> servers = new CopyOnWriteArrayList<>();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> closeAll(servers), "vfsgw-serve-stop"));
            Supplier<FuseSession> sessions = () -> gw.newSession("virtio-fs", 1 << 20);
            for (int i = 0; i < sockets; i++) {
                VhostUserOptions o = opts.withTag(socketTags.get(i));
                try {
                    servers.add(fd != null ? VhostUserServer.adopt(fd, o, sessions)
                            : VhostUserServer.start(socketPaths.get(i), o, sessions));
                } catch (IOException | IllegalArgumentException e) {
                    closeAll(servers);
                    throw new SetupException("cannot serve: " + e.getMessage());
                }
            }
            printAttachHelp(servers, socketTags);
            // With --exit-on-disconnect each socket stops at its VM's first disconnect; vfsgw stops
            // when all have.
            CompletableFuture.allOf(servers.stream().map(VhostUserServer::terminated)
                    .toArray(CompletableFuture[]::new)).join();
            closeAll(servers);
            return ExitCodes.OK;
        }
    }

    /** One tag per socket: the single --tag (or the default) for all, or the tags in order. */
    private List<String> socketTags(int sockets) {
        if (tags.isEmpty()) {
            return Collections.nCopies(sockets, "vfsgw");
        }
        if (tags.size() == 1) {
            return Collections.nCopies(sockets, tags.get(0));
        }
        if (tags.size() != sockets) {
            throw new SetupException("give --tag once (for every socket) or once per --socket-path: "
                    + tags.size() + " tags for " + sockets + " sockets");
        }
        return tags;
    }

    private static synchronized void closeAll(List<VhostUserServer> servers) {
        for (VhostUserServer s : servers) {
            s.close();
        }
    }

    private void printAttachHelp(List<VhostUserServer> servers, List<String> socketTags) {
        for (int i = 0; i < servers.size(); i++) {
            VhostUserServer server = servers.get(i);
            String tag = socketTags.get(i);
            System.err.printf("vfsgw: serving %s as virtio-fs tag '%s' on %s%n", backend.describe(), tag, server.where());
            if (fd != null) {
                continue;   // an inherited socket: whoever passed it attaches the VM
            }
            Path s = server.socketPath().toAbsolutePath();
            System.err.printf("vfsgw: attach %s with:%n", servers.size() == 1 ? "QEMU" : "a VM");
            System.err.printf("    -object memory-backend-memfd,id=mem,size=1G,share=on -numa node,memdev=mem \\%n"
                    + "    -chardev socket,id=vfsgw0,path=%s \\%n"
                    + "    -device vhost-user-fs-pci,chardev=vfsgw0,tag=%s,queue-size=1024%s%n", s, tag,
                    queues > 1 ? ",num-request-queues=" + queues : "");
            System.err.printf("vfsgw: in the guest: mount -t virtiofs%s %s /mnt%n", backend.readonly ? " -o ro" : "", tag);
        }
        if (servers.size() > 1) {
            String seen = switch (gateway.cache) {
                case "none" -> "at once";
                case "always" -> "only after their guests drop their caches (--cache always)";
                default -> "within " + gateway.cacheTimeout + " s (--cache-timeout)";
            };
            System.err.printf("vfsgw: the %d sockets share one backend and one metadata cache: a change made"
                    + " through one is seen through the others %s%n", servers.size(), seen);
        }
    }
}
