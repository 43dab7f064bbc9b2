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
        return cl.execute(args);
    }
}
