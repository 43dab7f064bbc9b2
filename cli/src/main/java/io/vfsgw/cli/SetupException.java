package io.vfsgw.cli;

/** A start-up problem the user can fix; its message is one line saying what to do. */
public final class SetupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SetupException(String message) {
        super(message);
    }

    public SetupException(String message, Throwable cause) {
        super(message, cause);
    }
}
