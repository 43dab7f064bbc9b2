package io.vfsgw.transport.devfuse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads the kernel's mount table (/proc/self/mountinfo) to find who is mounted where. */
final class MountTable {
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    /** One line of mountinfo; the path is unescaped (the kernel writes a space as \040). */
    record Entry(int id, int major, int minor, String mountPoint, String fsType, String source) {
        /** The connection number fusectl uses: the kernel's dev_t, (major << 20) | minor. */
        long connectionId() {
            return ((long) major << 20) | minor;
        }
    }

    private MountTable() {
    }

    static List<Entry> read() {
        try {
            return parse(Files.readString(MOUNTINFO));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + MOUNTINFO, e);
        }
    }

    /** The topmost mount at exactly {@code path} (later lines stack on earlier ones), if any. */
    static Optional<Entry> topAt(String path) {
        Entry top = null;
        for (Entry e : read()) {
            if (e.mountPoint().equals(path)) {
                top = e;
            }
        }
        return Optional.ofNullable(top);
    }

    // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    static List<Entry> parse(String text) {
        List<Entry> entries = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(" ");
            int dash = -1;
            for (int i = 6; i < f.length; i++) {
                if (f[i].equals("-")) {
                    dash = i;
                    break;
                }
            }
            if (f.length < 7 || dash < 0 || dash + 2 >= f.length) {
                continue; // a format we do not know: skip rather than guess
            }
            String[] dev = f[2].split(":");
            entries.add(new Entry(Integer.parseInt(f[0]), Integer.parseInt(dev[0]), Integer.parseInt(dev[1]),
                    unescape(f[4]), f[dash + 1], unescape(f[dash + 2])));
        }
        return entries;
    }

    /** Undoes the kernel's octal escaping of space, tab, newline and backslash. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1)) {
                out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '7') {
                return false;
            }
        }
        return true;
    }
}
