package io.vfsgw.spi;

/**
 * Who is asking: the caller's credentials as the kernel reported them in the request header.
 * Backends create files owned by {@code uid}/{@code gid} and apply permission rules for them.
 *
 * @param uid   effective (fs) uid of the calling process, as seen by the kernel that sent the request
 * @param gid   effective (fs) gid
 * @param pid   thread group id of the caller, 0 when the kernel did not say (e.g. writeback)
 */
public record RequestContext(int uid, int gid, int pid) {
    /** Internal operations (recovery, tests) that act with full rights. */
    public static final RequestContext ROOT = new RequestContext(0, 0, 0);

    public boolean isRoot() {
        return uid == 0;
    }
}
