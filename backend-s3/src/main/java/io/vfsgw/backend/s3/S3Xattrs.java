package io.vfsgw.backend.s3;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * Extended attributes in one user-metadata value, x-amz-meta-xattr, as s3fs-fuse (-o use_xattr)
 * stores them, so either tool reads what the other set: {@code {"name":"base64(value)",...}},
 * percent-encoded as a whole (every byte but ASCII letters, digits and {@code -_.~}).
 */
final class S3Xattrs {
    /** The metadata key (the SDK's name, without the x-amz-meta- prefix). */
    static final String KEY = "xattr";

    private S3Xattrs() {
    }

    /** The attributes in a header value; null or malformed reads as none (the object stays usable). */
    static TreeMap<String, byte[]> decode(String header) {
        TreeMap<String, byte[]> out = new TreeMap<>();
        if (header == null || header.isEmpty()) {
            return out;
        }
        String s;
        try {
            s = percentDecode(header);
        } catch (IllegalArgumentException e) {
            return out;
        }
        s = s.strip();
        if (!s.startsWith("{") || !s.endsWith("}")) {
            return out;
        }
        // Names and base64 values never contain '"' or ',' unescaped, so splitting is exact.
        for (String pair : s.substring(1, s.length() - 1).split(",")) {
            String p = pair.strip();
            int c = p.indexOf("\":\"");
            if (c < 1 || !p.startsWith("\"") || !p.endsWith("\"") || p.length() < c + 4) {
                continue;
            }
            try {
                out.put(p.substring(1, c), Base64.getDecoder().decode(p.substring(c + 3, p.length() - 1)));
            } catch (IllegalArgumentException e) {
                // a value that is not base64: skip it, keep the rest
            }
        }
        return out;
    }

    /** Whether the format can carry this name: it has no escaping for '"' and ','. */
    static boolean representable(String name) {
        return name.indexOf('"') < 0 && name.indexOf(',') < 0;
    }

    /** The header value for {@code xattrs}, or null when there are none (the key is then dropped). */
    static String encode(Map<String, byte[]> xattrs) {
        if (xattrs.isEmpty()) {
            return null;
        }
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, byte[]> e : xattrs.entrySet()) {
            if (b.length() > 1) {
                b.append(',');
            }
            b.append('"').append(e.getKey()).append("\":\"")
                    .append(Base64.getEncoder().encodeToString(e.getValue())).append('"');
        }
        return percentEncode(b.append('}').toString());
    }

    private static String percentEncode(String s) {
        StringBuilder out = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == '~') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return out.toString();
    }

    private static String percentDecode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new IllegalArgumentException("truncated escape");
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("bad escape");
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
