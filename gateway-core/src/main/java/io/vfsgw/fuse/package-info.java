/**
 * The FUSE wire format (linux/fuse.h, protocol 7.38): opcodes, flag constants, one record per
 * kernel struct, request-header validation, name parsing and INIT negotiation. It knows nothing of
 * where the bytes come from (/dev/fuse or guest memory) nor of what the session does with them.
 *
 * <p>Conventions shared by every record:
 * <ul>
 *   <li>Named after the kernel struct ({@code fuse_entry_out} is {@link io.vfsgw.fuse.EntryOut});
 *       components are the C field names in camelCase. Padding, dummy and unused fields are not
 *       components: decode skips them, encode writes zeros (reply buffers may hold stale guest data).
 *   <li>u64/s64 are {@code long}, u32/s32 are {@code int} (u32 values above 2^31-1 appear negative:
 *       widen with {@link java.lang.Integer#toUnsignedLong}), u16 are {@code int} (0..65535).
 *   <li>{@code decode(ByteBuffer)} reads at the buffer's position with absolute little-endian gets,
 *       throws {@link io.vfsgw.fuse.MalformedRequestException} when too few bytes remain, and
 *       advances past the struct. {@code encodeTo(ByteBuffer)} writes at the position and advances;
 *       the caller checks room first (an overrun is a vfsgw bug and throws IndexOutOfBounds).
 *   <li>Buffers are LITTLE_ENDIAN; the order is set once where each buffer is created.
 *   <li>Protocol-version differences (compat sizes of old kernels, FUSE_SETXATTR_EXT) are handled
 *       inside the {@code decode(ByteBuffer, NegotiatedProtocol)} and {@code encodeTo(ByteBuffer, int
 *       minor)} overloads, never in handlers.
 * </ul>
 */
package io.vfsgw.fuse;
