package io.vfsgw.transport.vhostuser.device;

/**
 * A guest address range or descriptor chain that cannot be trusted (outside memory, a loop, a bad
 * indirect table, an overflowing length). Expected under hostile guests, so stackless; the chain
 * is dropped and the queue keeps going.
 */
public final class BadDescriptorException extends Exception {
    private static final long serialVersionUID = 1L;

    public BadDescriptorException(String message) {
        super(message, null, false, false);
    }
}
