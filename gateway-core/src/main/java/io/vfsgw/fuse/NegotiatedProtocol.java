package io.vfsgw.fuse;

/**
 * What INIT settled, kept by the session for the connection's life and passed to the decoders whose
 * layout depends on it ({@code ReadIn/WriteIn/MknodIn/CreateIn/GetattrIn/SetxattrIn.decode(b, this)}).
 *
 * @param minor        the protocol minor both sides use: min(kernel's, 38); layouts follow this
 * @param kernelMinor  the minor the kernel offered (for logs)
 * @param kernelFlags  the kernel's 64-bit offer ({@link InitFlags}); capabilities such as
 *                     FUSE_HAS_EXPIRE_ONLY are read here, since they are never echoed back
 * @param flags        the 64-bit set vfsgw answered: always a subset of {@code kernelFlags}
 * @param maxWrite     init_out.max_write sent (a WRITE payload never exceeds it)
 * @param maxReadahead init_out.max_readahead sent
 * @param maxPages     init_out.max_pages sent (0 when FUSE_MAX_PAGES is off: the kernel uses 32)
 * @param mapAlignment init_out.map_alignment sent (log2; 0 when FUSE_MAP_ALIGNMENT is off)
 */
public record NegotiatedProtocol(int minor, int kernelMinor, long kernelFlags, long flags, int maxWrite,
                                 int maxReadahead, int maxPages, int mapAlignment) {

    /** True when vfsgw accepted {@code flag} (one or more {@link InitFlags} bits, all required). */
    public boolean has(long flag) {
        return (flags & flag) == flag;
    }

    /** True when the kernel offered {@code flag} (a capability, whether or not vfsgw accepted it). */
    public boolean kernelOffers(long flag) {
        return (kernelFlags & flag) == flag;
    }

    /** SETXATTR bodies are the 16-byte fuse_setxattr_in (else 8 bytes). */
    public boolean setxattrExt() {
        return has(InitFlags.FUSE_SETXATTR_EXT);
    }

    /** READ and WRITE bodies use the 24-byte layouts of kernels before 7.9. */
    public boolean compatReadWriteIn() {
        return minor < 9;
    }

    /** Pages per request the kernel will use (FUSE_MAX_PAGES_PER_REQ when max_pages was not negotiated). */
    public int effectiveMaxPages() {
        return has(InitFlags.FUSE_MAX_PAGES) ? maxPages : FuseProtocol.FUSE_MAX_PAGES_PER_REQ;
    }
}
