package io.vfsgw.transport.vhostuser.protocol;

/**
 * A well-formed request the back end refuses (bad ring size, unmappable region, unsupported
 * feature). The connection answers it with a failed REPLY_ACK when one was asked for and keeps
 * serving; contrast {@link MalformedMessageException}, which ends the connection.
 */
public class VhostUserException extends Exception {
    private static final long serialVersionUID = 1L;

    public VhostUserException(String message) {
        super(message, null, false, false);
    }

    public VhostUserException(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
