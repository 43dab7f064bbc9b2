package io.vfsgw.spi;

/** Where readdir puts entries; the reply buffer decides how many fit. */
@FunctionalInterface
public interface DirSink {
    /** Adds one entry; returns false (and takes nothing) when the reply is full: stop there. */
    boolean add(DirEntry entry) throws FsException;
}
