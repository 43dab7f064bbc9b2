package io.vfsgw.session;

import io.vfsgw.fuse.AttrOut;
import io.vfsgw.fuse.EntryOut;
import io.vfsgw.fuse.FuseAttr;
import io.vfsgw.spi.Attr;
import io.vfsgw.spi.Entry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;

/** Small helpers turning SPI values into reply structs with the session's timeouts. */
final class Wire {
    private Wire() {
    }

    static ByteBuffer buffer(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    static EntryOut entryOut(Entry e, Duration timeout) {
        long s = timeout.getSeconds();
        int ns = timeout.getNano();
        return new EntryOut(e.nodeId(), e.generation(), s, s, ns, ns, FuseAttr.of(e.attr(), 0));
    }

    /** A negative entry: the kernel remembers "no such name" for the timeout. */
    static EntryOut negativeEntry(Duration timeout) {
        long s = timeout.getSeconds();
        int ns = timeout.getNano();
        return new EntryOut(0, 0, s, 0, ns, 0, FuseAttr.of(new Attr(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0));
    }

    static AttrOut attrOut(Attr a, Duration timeout) {
        return new AttrOut(timeout.getSeconds(), timeout.getNano(), FuseAttr.of(a, 0));
    }
}
