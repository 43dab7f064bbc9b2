package io.vfsgw.session;

import io.vfsgw.fuse.AttrOut;
import io.vfsgw.fuse.EntryOut;
import io.vfsgw.fuse.FuseAttr;
import io.vfsgw.fuse.InitFlags;
import io.vfsgw.fuse.NegotiatedProtocol;
import io.vfsgw.fuse.RequestFlags;
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

    /**
     * fuse_attr.flags of a node: FUSE_ATTR_SUBMOUNT on a directory that is a mount root, but only for
     * a kernel that offered FUSE_SUBMOUNTS (virtio-fs); others would not know the bit. Every reply
     * carrying the node's attributes must agree, or the kernel drops the dentry as stale.
     */
    static int attrFlags(Attr a, NegotiatedProtocol p) {
        return a.mountRoot() && a.isDirectory() && p != null && p.kernelOffers(InitFlags.FUSE_SUBMOUNTS)
                ? RequestFlags.FUSE_ATTR_SUBMOUNT : 0;
    }

    static EntryOut entryOut(Entry e, Duration timeout, NegotiatedProtocol p) {
        long s = timeout.getSeconds();
        int ns = timeout.getNano();
        return new EntryOut(e.nodeId(), e.generation(), s, s, ns, ns, FuseAttr.of(e.attr(), attrFlags(e.attr(), p)));
    }

    /** A negative entry: the kernel remembers "no such name" for the timeout. */
    static EntryOut negativeEntry(Duration timeout) {
        long s = timeout.getSeconds();
        int ns = timeout.getNano();
        return new EntryOut(0, 0, s, 0, ns, 0, FuseAttr.of(new Attr(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0));
    }

    static AttrOut attrOut(Attr a, Duration timeout, NegotiatedProtocol p) {
        return new AttrOut(timeout.getSeconds(), timeout.getNano(), FuseAttr.of(a, attrFlags(a, p)));
    }
}
