package io.vfsgw.cli;

import io.vfsgw.nativeio.FusermountHelper;
import io.vfsgw.nativeio.Processes;
import io.vfsgw.session.FuseSession;
import io.vfsgw.spi.FsException;
import io.vfsgw.transport.devfuse.DevFuseMount;
import io.vfsgw.transport.devfuse.MountOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code vfsgw mount}: serves the backend on the host through /dev/fuse until unmounted. */
@Command(name = "mount", mixinStandardHelpOptions = true,
        description = {"Mount the backend on a host directory through /dev/fuse.",
                "It is served until unmounted (umount MOUNTPOINT) or vfsgw is stopped (Ctrl-C, SIGTERM);"
                        + " if vfsgw is killed the mount goes away by itself. Users other than root mount"
                        + " through fusermount3 (Debian package fuse3)."})
final class MountCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MOUNTPOINT", description = "An existing, empty directory.")
    Path mountPoint;

    @Mixin
    BackendOptions backend = new BackendOptions();

    @Mixin
    GatewayOptions gateway = new GatewayOptions();

    @Option(names = "--allow-non-empty", description = "Mount over a directory that has entries (hiding them).")
    boolean allowNonEmpty;

    @Option(names = "--allow-other", negatable = true,
            description = "Let users other than the one mounting into the mount (--no-allow-other: only that"
                    + " user). Default: yes as root; otherwise only if /etc/fuse.conf has user_allow_other,"
                    + " without which fusermount3 refuses it.")
    Boolean allowOther;

    @Option(names = "--max-write", paramLabel = "SIZE", defaultValue = "1M", converter = SizeConverter.class,
            description = "Largest read/write request, a multiple of 4K up to 1M (default: ${DEFAULT-VALUE}).")
    long maxWrite;

    @Option(names = "--fsname", paramLabel = "NAME", defaultValue = "vfsgw",
            description = "The mount's source as mount(8) and df show it (default: ${DEFAULT-VALUE}); the fstab"
                    + " helper sets it to the fstab source, so that mount -a sees the entry mounted.")
    String fsName;

    @Override
    public Integer call() throws Exception {
        gateway.applyLogLevel();
        if (maxWrite < 4096 || maxWrite > (1 << 20) || maxWrite % 4096 != 0) {
            throw new SetupException("--max-write must be a multiple of 4K between 4K and 1M, not " + maxWrite);
        }
        boolean others = allowOther != null ? allowOther : Processes.isRoot() || FusermountHelper.userAllowOther();
        if (allowOther == null && !others) {
            System.err.println("vfsgw: without allow_other, only you can enter the mount (for anyone but root,"
                    + " fusermount3 allows it only with user_allow_other in /etc/fuse.conf)");
        }
        MountOptions opts;
        try {
            opts = MountOptions.defaults().withWorkerThreads(gateway.threads())
                    .withMaxWrite((int) maxWrite).withAllowNonEmpty(allowNonEmpty).withAllowOther(others)
                    .withReadOnly(backend.readonly)   // the kernel then refuses writes itself, and mount(8) shows ro
                    .withFsName(fsName);
        } catch (IllegalArgumentException e) {
            throw new SetupException("--fsname: " + e.getMessage());
        }
        try (Gateway gw = Gateway.create(gateway, backend)) {
            FuseSession session = gw.newSession("devfuse", (int) maxWrite);
            DevFuseMount mount;
            try {
                mount = DevFuseMount.mount(mountPoint, opts, session);
            } catch (FsException e) {
                throw new SetupException(e.getMessage());
            }
            session.setNotifier(mount.notifier());
            System.err.printf("vfsgw: %s mounted at %s (cache %s); stop with 'umount %s' or Ctrl-C%n",
                    backend.describe(), mount.mountPoint(), gateway.cache, mount.mountPoint());
            try {
                mount.awaitUnmount();
            } finally {
                mount.close();
                session.close();
            }
            System.err.println("vfsgw: " + mountPoint + " unmounted");
            return ExitCodes.OK;
        }
    }
}
