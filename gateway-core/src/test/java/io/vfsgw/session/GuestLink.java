package io.vfsgw.session;

import java.nio.ByteBuffer;

/**
 * How a test guest's FUSE requests reach its session: handed to it in-process ({@link #IN_PROCESS}),
 * or carried by a transport, as {@code VirtioFsGuestLink} carries them over vhost-user virtqueues.
 */
@FunctionalInterface
public interface GuestLink {
    /** Connects a guest to {@code session}, which the link owns from now on. */
    Connection connect(FuseSession session) throws Exception;

    /** One guest's connection: requests go in through {@link #handle}; closing it ends the guest and its session. */
    interface Connection extends FuseRequestHandler, AutoCloseable {
        /** Replies the transport delivered that belonged to no request in flight (must stay 0). */
        default int strayReplies() {
            return 0;
        }

        @Override
        void close();
    }

    /** Requests go straight to the session's {@code handle}, as the /dev/fuse reader hands them over. */
    GuestLink IN_PROCESS = GuestLink::inProcess;

    /** The {@link #IN_PROCESS} connection to {@code session}. */
    static Connection inProcess(FuseSession session) {
        return new Connection() {
            @Override
            public void handle(ByteBuffer[] request, ByteBuffer[] reply, ReplyCompletion completion) {
                session.handle(request, reply, completion);
            }

            @Override
            public void close() {
                session.close();
            }
        };
    }
}
