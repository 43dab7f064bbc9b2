package io.vfsgw.testvm;

/** A guest run that could not complete (deadline passed, interrupted); the message carries the console tail. */
public final class GuestVmException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GuestVmException(String message) {
        super(message);
    }
}
