package io.vfsgw.spi;

import java.util.ArrayList;
import java.util.List;

/** A whole directory through the SPI, read as a getdents loop reads it: one handle, each call from the last entry's cookie. */
public final class DirListing {
    private DirListing() {
    }

    /** Every entry of {@code dir}, "." and ".." included, in the backend's order. */
    public static List<DirEntry> of(StorageBackend fs, RequestContext ctx, long dir) throws FsException {
        long fh = fs.opendir(ctx, dir, 0).fh();
        List<DirEntry> all = new ArrayList<>();
        try {
            long cookie = 0;
            while (true) {
                int before = all.size();
                fs.readdir(ctx, dir, fh, cookie, all::add);
                if (all.size() == before) {
                    return all;
                }
                cookie = all.get(all.size() - 1).nextCookie();
            }
        } finally {
            fs.releasedir(ctx, dir, fh);
        }
    }
}
