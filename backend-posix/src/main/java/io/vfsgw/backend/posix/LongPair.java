package io.vfsgw.backend.posix;

/**
 * A map key of two longs: (st_dev, st_ino) in the {@link InodeTable}, (node, lock owner) for the
 * backend's lock fds. equals and hashCode are written out because a record's generated ones are
 * method-handle calls under C1, and these keys are looked up on every create, lookup and flush.
 */
record LongPair(long first, long second) {
    @Override
    public boolean equals(Object o) {
        return o instanceof LongPair p && first == p.first && second == p.second;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(first) * 31 + Long.hashCode(second);
    }
}
