package io.vfsgw.transport.vhostuser.protocol;

/**
 * The front end sent bytes that break the protocol (bad size, bad version, bad queue index, too
 * many fds): the stream can no longer be trusted, so that connection is closed. Never the process.
 */
public class MalformedMessageException extends Exception {
    private static final long serialVersionUID = 1L;

    public MalformedMessageException(String message) {
        super(message, null, false, false);
    }
}
