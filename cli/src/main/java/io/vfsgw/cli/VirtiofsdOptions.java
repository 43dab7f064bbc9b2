package io.vfsgw.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * virtiofsd's spellings of serve's options, so that libvirt, and scripts written for virtiofsd,
 * can start vfsgw where they start virtiofsd: the C daemon's {@code -o source=DIR,cache=auto,...}
 * list and {@code -d}, and the Rust daemon's {@code --shared-dir}, {@code --sandbox},
 * {@code --seccomp} and {@code --announce-submounts}. Its other options ({@code --fd}, {@code --socket-path},
 * {@code --cache}, {@code --xattr}, {@code --readonly}, {@code --thread-pool-size},
 * {@code --uid-map}) are vfsgw's own or aliases of them. An option vfsgw cannot honour is
 * refused, not ignored.
 *
 * <p>virtiofsd's source directory selects the posix backend over it. libvirt always names one; a
 * wrapper that adds {@code --backend mem} or {@code --backend s3 --bucket B} to libvirt's command
 * line serves that backend instead, and the directory is set aside with a note.
 */
final class VirtiofsdOptions {
    @Option(names = "-o", paramLabel = "OPT[,OPT...]",
            description = "virtiofsd's option list, as libvirt passes it (repeatable; ',,' is a comma in a value):"
                    + " source=DIR (the posix backend over DIR), cache=none|auto|always, timeout=SECONDS,"
                    + " xattr|no_xattr, posix_lock|no_posix_lock, flock|no_flock, writeback|no_writeback,"
                    + " allow_direct_io|no_allow_direct_io, posix_acl|no_posix_acl, xattrmap=RULES, announce_submounts,"
                    + " log_level=err|warn|info|debug, debug, sandbox=MODE.")
    List<String> lists = new ArrayList<>();

    @Option(names = "--shared-dir", paramLabel = "DIR",
            description = "virtiofsd's name for --source: the host directory to share (posix backend).")
    Path sharedDir;

    @Option(names = "-d", description = "virtiofsd's debug switch: the same as --log-level debug.")
    boolean debug;

    @Option(names = "--sandbox", paramLabel = "namespace|chroot|none",
            description = "Accepted for virtiofsd's callers; vfsgw does not sandbox its process but confines every"
                    + " path to the source itself (docs/security.md), and says so at start.")
    String sandbox;

    @Option(names = "--seccomp", paramLabel = "none|kill|log|trap",
            description = "Accepted for virtiofsd's callers; vfsgw installs no seccomp filter, and says so at start.")
    String seccomp;

    @Option(names = "--announce-submounts", description = "Accepted for virtiofsd's callers: vfsgw always announces submounts.")
    boolean announceSubmounts;

    /** Applies {@code -o} and {@code -d} over the other options; a bad entry is a one-line SetupException. */
    void applyTo(BackendOptions backend, GatewayOptions gateway) {
        if (debug) {
            gateway.logLevel = "debug";
        }
        Path source = sharedDir;
        for (String list : lists) {
            for (String entry : split(list)) {
                if (entry.startsWith("source=")) {
                    source = Path.of(required("source", entry.substring("source=".length())));
                } else {
                    apply(entry, backend, gateway);
                }
            }
        }
        if (source != null) {
            if (backend.backend == null || backend.backend == BackendOptions.Kind.posix) {
                backend.source = source;
            } else {
                System.err.println("vfsgw: serving --backend " + backend.backend + "; virtiofsd's source directory "
                        + source + " is not used");
            }
        }
        if (seccomp != null && !"none".equals(seccomp)) {
            System.err.println("vfsgw: seccomp=" + seccomp + ": vfsgw installs no seccomp filter (see docs/security.md)");
        }
        if (sandbox != null && !"none".equals(sandbox)) {
            System.err.println("vfsgw: sandbox=" + sandbox + ": vfsgw does not sandbox its process; it confines every"
                    + " path to the source itself (openat2 RESOLVE_BENEATH, see docs/security.md)");
        }
    }

    private void apply(String entry, BackendOptions backend, GatewayOptions gateway) {
        int eq = entry.indexOf('=');
        String key = eq < 0 ? entry : entry.substring(0, eq);
        String value = eq < 0 ? null : entry.substring(eq + 1);
        switch (key) {
            case "source" -> required(key, value); // a bare "source": say it needs its directory
            case "cache" -> gateway.cache = required(key, value);
            case "timeout" -> {
                try {
                    gateway.cacheTimeout = Double.parseDouble(required(key, value));
                } catch (NumberFormatException e) {
                    throw new SetupException("-o timeout= wants seconds, not '" + value + "'");
                }
            }
            case "xattr", "no_xattr" -> backend.xattr = flag(key, value) ? "on" : "off";
            case "posix_lock", "no_posix_lock" -> gateway.posixLocks = flag(key, value);
            case "flock", "no_flock" -> gateway.flockLocks = flag(key, value);
            case "writeback", "no_writeback" -> gateway.writebackCache = flag(key, value);
            case "allow_direct_io", "no_allow_direct_io" -> backend.allowDirectIo = flag(key, value);
            case "posix_acl", "no_posix_acl" -> backend.posixAcl = flag(key, value);
            case "xattrmap" -> backend.xattrMap = required(key, value);
            case "announce_submounts" -> flag(key, value); // always on
            case "log_level" -> gateway.logLevel = "err".equals(value) ? "error" : required(key, value);
            case "debug" -> gateway.logLevel = flag(key, value) ? "debug" : gateway.logLevel;
            case "sandbox" -> sandbox = required(key, value);
            default -> throw new SetupException("-o " + entry + ": not a virtiofsd option vfsgw knows (it takes "
                    + "source, cache, timeout, xattr, posix_lock, flock, writeback, allow_direct_io, posix_acl, xattrmap,"
                    + " announce_submounts, log_level, debug, sandbox and their no_ forms; see vfsgw serve --help)");
        }
    }

    private static String required(String key, String value) {
        if (value == null || value.isEmpty()) {
            throw new SetupException("-o " + key + " needs a value: " + key + "=...");
        }
        return value;
    }

    /** "xattr" is on, "no_xattr" off; a flag given a value is a mistake. */
    private static boolean flag(String key, String value) {
        if (value != null) {
            throw new SetupException("-o " + key + " takes no value (got '" + key + "=" + value + "')");
        }
        return !key.startsWith("no_");
    }

    /** Splits at commas; libvirt writes a comma inside a value (a path) as ",,". */
    static List<String> split(String list) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < list.length(); i++) {
            char c = list.charAt(i);
            if (c != ',') {
                cur.append(c);
            } else if (i + 1 < list.length() && list.charAt(i + 1) == ',') {
                cur.append(',');
                i++;
            } else {
                out.add(cur.toString());
                cur.setLength(0);
            }
        }
        out.add(cur.toString());
        out.removeIf(String::isEmpty);
        return out;
    }
}
