package io.vfsgw.cli;

import picocli.CommandLine;

/** Entry point of the vfsgw jar. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        args = asVirtiofsd(args);
        CommandLine cl = new CommandLine(new VfsgwCommand());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof SetupException) {
                cmd.getErr().println("vfsgw: " + ex.getMessage());
                return ExitCodes.SETUP_FAILURE;
            }
            cmd.getErr().println("vfsgw: " + ex);
            ex.printStackTrace(cmd.getErr());
            return ExitCodes.RUNTIME_FAILURE;
        });
        // A wrong flag or value: the error and where to look, not the whole usage (148 lines for mount).
        cl.setParameterExceptionHandler((ex, given) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("vfsgw: " + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, cmd.getErr());
            cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName(" ") + " --help' for the options.");
            return ExitCodes.USAGE;
        });
        return cl.execute(args);
    }

    /**
     * A command line that starts with an option other than the top level's own is serve's: that is
     * how libvirt starts a virtio-fs daemon ({@code BINARY --print-capabilities}, then
     * {@code BINARY --fd=N --shared-dir DIR ...} or {@code BINARY --fd=N -o source=DIR,...}), so
     * vfsgw can stand where virtiofsd is named.
     */
    static String[] asVirtiofsd(String[] args) {
        if (args.length == 0 || !args[0].startsWith("-") || java.util.Set.of("-h", "--help", "-V", "--version").contains(args[0])) {
            return args;
        }
        String[] serve = new String[args.length + 1];
        serve[0] = "serve";
        System.arraycopy(args, 0, serve, 1, args.length);
        return serve;
    }
}
