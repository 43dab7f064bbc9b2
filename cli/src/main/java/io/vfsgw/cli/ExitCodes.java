package io.vfsgw.cli;

/** Exit codes scripts can rely on; documented in the README. */
public final class ExitCodes {
    /** Clean shutdown (unmounted, or the server stopped on request). */
    public static final int OK = 0;
    /** A failure while serving (backend broke, transport failed). */
    public static final int RUNTIME_FAILURE = 1;
    /** Bad command line: unknown flag, bad value (picocli's usage error code). */
    public static final int USAGE = 2;
    /** Could not start: mount point, socket path, source directory or bucket unusable. */
    public static final int SETUP_FAILURE = 3;

    private ExitCodes() {
    }
}
