package io.vfsgw.backend.posix;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.util.ArrayList;
import java.util.List;

/**
 * A uid or gid translation between guest and host ({@code --uid-map GUEST:HOST:COUNT}, repeatable),
 * as a user namespace's id map: an empty map is the identity; otherwise a host id outside every range
 * shows as {@link #OVERFLOW_ID} in the guest, and a guest id outside every range cannot own anything
 * on the host (EPERM).
 */
public record IdMap(List<Range> ranges) {
    /** What unmapped host ids look like to the guest (the kernel's overflowuid). */
    public static final int OVERFLOW_ID = 65534;
    public static final IdMap IDENTITY = new IdMap(List.of());

    /** Guest ids [guest, guest+count) are host ids [host, host+count). */
    public record Range(long guest, long host, long count) {
        public Range {
            if (guest < 0 || host < 0 || count <= 0 || guest + count > 1L << 32 || host + count > 1L << 32) {
                throw new IllegalArgumentException("id map " + guest + ":" + host + ":" + count
                        + " is out of range (ids are 0..4294967295, COUNT at least 1)");
            }
        }
    }

    public IdMap {
        ranges = List.copyOf(ranges);
    }

    /**
     * Parses "GUEST:HOST:COUNT" entries (or ":GUEST:HOST:COUNT:", virtiofsd's spelling).
     *
     * @throws IllegalArgumentException with a one-line message naming the bad entry
     */
    public static IdMap parse(List<String> specs) {
        List<Range> out = new ArrayList<>();
        for (String s : specs) {
            // virtiofsd's own spelling, as libvirt passes it, wraps the triple in colons: ":0:100000:65536:"
            String triple = s.length() > 1 && s.startsWith(":") && s.endsWith(":") ? s.substring(1, s.length() - 1) : s;
            String[] p = triple.split(":", -1);
            try {
                if (p.length != 3) {
                    throw new NumberFormatException();
                }
                out.add(new Range(Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2])));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("id map \"" + s + "\" is not GUEST:HOST:COUNT (e.g. 0:100000:65536)");
            }
        }
        return new IdMap(out);
    }

    public boolean isIdentity() {
        return ranges.isEmpty();
    }

    /** The host id for a guest id; EPERM when the guest id is not mapped. */
    public int toHost(int guestId) throws FsException {
        if (ranges.isEmpty()) {
            return guestId;
        }
        long g = guestId & 0xffffffffL;
        for (Range r : ranges) {
            if (g >= r.guest && g < r.guest + r.count) {
                return (int) (r.host + (g - r.guest));
            }
        }
        throw FsException.of(Errno.EPERM, "guest id " + g + " is not mapped");
    }

    /** The guest's view of a host id; {@link #OVERFLOW_ID} when not mapped. */
    public int toGuest(int hostId) {
        if (ranges.isEmpty()) {
            return hostId;
        }
        long h = hostId & 0xffffffffL;
        for (Range r : ranges) {
            if (h >= r.host && h < r.host + r.count) {
                return (int) (r.guest + (h - r.host));
            }
        }
        return OVERFLOW_ID;
    }
}
