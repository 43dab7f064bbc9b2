package io.vfsgw.transport.vhostuser;

import io.vfsgw.session.FuseRequestHandler;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for the FUSE session: answers every request with an out-header carrying -ENOSYS and
 * the request's unique, except opcode {@link #SLOW_OPCODE}, whose reply waits for {@link #release}.
 * The same unique may be parked more than once (a request resubmitted after a reconnect while the
 * dead connection's copy is still parked); {@link #release} answers every copy.
 */
final class EchoFuseHandler implements FuseRequestHandler {
    static final int IN_HEADER = 40;
    static final int OUT_HEADER = 16;
    static final int ENOSYS = 38;
    static final int SLOW_OPCODE = 0x7fff0001;

    /** Uniques in the order requests arrived, with the byte count of each request. */
    final List<long[]> seen = new CopyOnWriteArrayList<>();
    private final Map<Long, List<Runnable>> parked = new ConcurrentHashMap<>();

    @Override
    public void handle(ByteBuffer[] request, ByteBuffer[] reply, ReplyCompletion completion) {
        long total = 0;
        for (ByteBuffer b : request) {
            total += b.remaining();
        }
        ByteBuffer in = request[0];
        int opcode = in.getInt(4);
        long unique = in.getLong(8);
        seen.add(new long[] {unique, total});
        Runnable answer = () -> {
            ByteBuffer out = reply[0];
            out.putInt(0, OUT_HEADER).putInt(4, -ENOSYS).putLong(8, unique);
            completion.complete(OUT_HEADER);
        };
        if (opcode == SLOW_OPCODE) {
            parked.computeIfAbsent(unique, u -> new CopyOnWriteArrayList<>()).add(answer);
        } else {
            answer.run();
        }
    }

    boolean isParked(long unique) {
        return parkedCount(unique) > 0;
    }

    /** How many copies of request {@code unique} wait for {@link #release}. */
    int parkedCount(long unique) {
        List<Runnable> l = parked.get(unique);
        return l == null ? 0 : l.size();
    }

    /** Answers every parked copy of a request, oldest first, from this (test) thread, as an asynchronous backend would. */
    void release(long unique) {
        parked.remove(unique).forEach(Runnable::run);
    }
}
