package io.vfsgw.backend.s3;

import io.vfsgw.spi.FileName;

/** One name as a ListObjectsV2 page showed it: a common prefix (directory) or an object. */
record Listed(FileName name, boolean dir, long size, long mtimeNs, String etag) {
}
