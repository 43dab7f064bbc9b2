package io.vfsgw.cli;

import picocli.CommandLine.Command;

/** The top-level {@code vfsgw} command: only subcommands. */
@Command(name = "vfsgw", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "A virtio-fs gateway: serve a RAM tree, a host directory or an S3 bucket to"
                + " virtual machines (vhost-user, `mount -t virtiofs`) or mount it on the host (/dev/fuse).",
        subcommands = {MountCommand.class, ServeCommand.class, TryVmCommand.class, S3Command.class, picocli.CommandLine.HelpCommand.class},
        footer = {"", "Started as virtiofsd is (vfsgw --fd=N -o source=DIR,..., or any command line that begins"
                + " with an option), vfsgw runs serve: libvirt can name it as a domain's virtio-fs binary.",
                "", "Exit codes: 0 clean stop, 1 failure while serving, 2 bad usage, 3 could not start."})
public final class VfsgwCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "missing command: use 'vfsgw mount' or 'vfsgw serve' (see --help)");
    }
}
