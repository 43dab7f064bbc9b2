package io.vfsgw.spi;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One path component as the guest sent it: raw bytes (Linux names need not be UTF-8), never
 * empty, never containing '/' or NUL, at most {@link #MAX_LENGTH} bytes. "." and ".." are
 * representable (the kernel looks up ".." for NFS export) and flagged by {@link #isDotOrDotDot()};
 * backends refuse to create them.
 */
public final class FileName implements Comparable<FileName> {
    /** NAME_MAX on Linux. */
    public static final int MAX_LENGTH = 255;

    private final byte[] bytes;
    private final int hash;

    private FileName(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    /**
     * Validates and wraps a name (the array is copied).
     *
     * @throws FsException ENAMETOOLONG over 255 bytes; EINVAL when empty or containing '/' or NUL
     */
    public static FileName of(byte[] raw) throws FsException {
        if (raw.length == 0) {
            throw FsException.of(Errno.EINVAL, "empty file name");
        }
        if (raw.length > MAX_LENGTH) {
            throw FsException.of(Errno.ENAMETOOLONG, raw.length + " bytes");
        }
        for (byte b : raw) {
            if (b == '/' || b == 0) {
                throw FsException.of(Errno.EINVAL, "file name contains '/' or NUL");
            }
        }
        return new FileName(Arrays.copyOf(raw, raw.length)); // not clone(): a native call under C1
    }

    /** Validates a UTF-8 name; see {@link #of(byte[])}. */
    public static FileName of(String name) throws FsException {
        return of(name.getBytes(StandardCharsets.UTF_8));
    }

    /** For literals in code that are known valid. */
    public static FileName literal(String name) {
        try {
            return of(name);
        } catch (FsException e) {
            throw new IllegalArgumentException(name, e);
        }
    }

    /** A copy of the raw bytes. */
    public byte[] bytes() {
        return Arrays.copyOf(bytes, bytes.length);
    }

    /** A copy of the raw bytes with a NUL after them, as the *at system calls take a name. */
    public byte[] nulTerminated() {
        return Arrays.copyOf(bytes, bytes.length + 1);
    }

    public int length() {
        return bytes.length;
    }

    public byte byteAt(int i) {
        return bytes[i];
    }

    public boolean isDotOrDotDot() {
        return (bytes.length == 1 && bytes[0] == '.')
                || (bytes.length == 2 && bytes[0] == '.' && bytes[1] == '.');
    }

    /**
     * Whether the bytes are well-formed UTF-8. Linux names need not be; S3 keys must, so a backend
     * that turns names into keys refuses the others rather than store a replacement character.
     */
    public boolean isUtf8() {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /** The name decoded as UTF-8 (invalid sequences replaced); for logs, keys and S3. */
    @Override
    public String toString() {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FileName f && hash == f.hash && Arrays.equals(bytes, f.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public int compareTo(FileName o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }
}
