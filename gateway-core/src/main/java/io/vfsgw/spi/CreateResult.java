package io.vfsgw.spi;

/** create/tmpfile: the new node (one lookup reference) and its open handle. */
public record CreateResult(Entry entry, OpenResult open) {
}
