package io.vfsgw.backend.posix;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * virtiofsd's {@code --xattrmap}: rules renaming extended attributes between the guest (client) and
 * the host (server), in virtiofsd's own syntax so a working virtiofsd command line carries over.
 *
 * <p>A rule is {@code :type:scope:key:prepend:} where the first non-blank character (here ':') is the
 * rule's separator. Types: {@code prefix} (client names matching {@code key} get {@code prepend}
 * put in front; host names starting with {@code prepend} lose it), {@code ok} (pass unchanged, stop),
 * {@code bad} (client: EPERM; host: hidden), {@code unsupported} (client: EOPNOTSUPP; host: hidden).
 * Scopes: {@code client} (get/set/removexattr names), {@code server} (listxattr names), {@code all}.
 * {@code key} is matched as a prefix of client names, {@code prepend} as a prefix of host names; an
 * empty one matches everything. Rules are tried in order; the first match decides. A final implicit
 * {@code bad:all} rule refuses what nothing matched, as virtiofsd adds one.
 *
 * <p>The short form {@code :map:key:prepend:} must be the last rule and expands exactly as virtiofsd
 * expands it: prefix {@code key} with {@code prepend}, hide host names not carrying it, refuse
 * client names that already carry it, let everything else through.
 *
 * <p>Not done (virtiofsd does it): extra work to drop a remapped {@code security.capability} on
 * writes and chowns, which the host kernel then no longer does itself.
 */
public final class XattrMap {
    /** What a rule does with a name it matches. */
    enum Type { PREFIX, OK, BAD, UNSUPPORTED }

    /** One parsed rule; {@code client}/{@code server} say which directions it applies to. */
    record Rule(Type type, boolean client, boolean server, String key, String prepend) {
    }

    private final List<Rule> rules;
    private final String spec;

    private XattrMap(List<Rule> rules, String spec) {
        this.rules = List.copyOf(rules);
        this.spec = spec;
    }

    /** The rules in order, the implicit final {@code bad:all} included (for tests and logs). */
    List<Rule> rules() {
        return rules;
    }

    @Override
    public String toString() {
        return spec;
    }

    /**
     * Parses a rule list in virtiofsd's syntax.
     *
     * @throws IllegalArgumentException one line naming the rule (1-based) and what was expected
     */
    public static XattrMap parse(String spec) {
        List<Rule> out = new ArrayList<>();
        Cursor c = new Cursor(spec);
        int ruleNo = 0;
        while (true) {
            c.skipBlanks();
            if (c.atEnd()) {
                break;
            }
            ruleNo++;
            char sep = c.next();
            String type = c.field(sep, "type", ruleNo);
            if (type.equals("map")) {
                String key = c.field(sep, "key", ruleNo);
                String prepend = c.field(sep, "prepend", ruleNo);
                c.skipBlanks();
                if (!c.atEnd()) {
                    throw c.error(ruleNo, "a 'map' rule must be the last rule, found more after it");
                }
                expandMap(out, key, prepend);
                break;
            }
            Type t = switch (type) {
                case "prefix" -> Type.PREFIX;
                case "ok" -> Type.OK;
                case "bad" -> Type.BAD;
                case "unsupported" -> Type.UNSUPPORTED;
                default -> throw c.error(ruleNo, "unknown type '" + type
                        + "'; expected prefix, ok, bad, unsupported or map");
            };
            String scope = c.field(sep, "scope", ruleNo);
            boolean client;
            boolean server;
            switch (scope) {
                case "client" -> { client = true; server = false; }
                case "server" -> { client = false; server = true; }
                case "all" -> { client = true; server = true; }
                default -> throw c.error(ruleNo, "unknown scope '" + scope + "'; expected client, server or all");
            }
            String key = c.field(sep, "key", ruleNo);
            String prepend = c.field(sep, "prepend", ruleNo);
            out.add(new Rule(t, client, server, key, prepend));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--xattrmap: no rules in \"" + spec
                    + "\"; e.g. \":prefix:all::user.virtiofs.::bad:all:::\"");
        }
        out.add(new Rule(Type.BAD, true, true, "", "")); // virtiofsd's terminator: unmatched is refused
        return new XattrMap(out, spec.strip());
    }

    /** virtiofsd's parse_xattrmap_map, rule for rule. */
    private static void expandMap(List<Rule> out, String key, String prepend) {
        out.add(new Rule(Type.PREFIX, true, true, key, prepend));
        if (key.isEmpty()) {
            out.add(new Rule(Type.BAD, true, true, "", ""));
            return;
        }
        out.add(new Rule(Type.BAD, false, true, "", key));     // host names with the key but no prefix
        out.add(new Rule(Type.BAD, true, false, prepend, "")); // the guest naming prefixed names directly
        out.add(new Rule(Type.OK, true, true, "", ""));
    }

    /**
     * The host name for a name the guest uses in get/set/removexattr.
     *
     * @throws FsException EPERM for a {@code bad} (or unmatched) name, EOPNOTSUPP for {@code unsupported}
     */
    public String toHost(String clientName) throws FsException {
        for (Rule r : rules) {
            if (!r.client || !clientName.startsWith(r.key)) {
                continue;
            }
            return switch (r.type) {
                case OK -> clientName;
                case PREFIX -> r.prepend + clientName;
                case BAD -> throw FsException.of(Errno.EPERM, "xattr " + clientName + " refused by --xattrmap");
                case UNSUPPORTED -> throw FsException.of(Errno.EOPNOTSUPP, "xattr " + clientName
                        + " unsupported by --xattrmap");
            };
        }
        throw FsException.of(Errno.EPERM, "xattr " + clientName); // unreachable: the terminator matches all
    }

    /** The name the guest sees for a host name listxattr returned; empty when it is hidden. */
    public Optional<String> toClient(String serverName) {
        for (Rule r : rules) {
            if (!r.server || !serverName.startsWith(r.prepend)) {
                continue;
            }
            return switch (r.type) {
                case OK -> Optional.of(serverName);
                case PREFIX -> {
                    String stripped = serverName.substring(r.prepend.length());
                    yield stripped.isEmpty() ? Optional.empty() : Optional.of(stripped);
                }
                case BAD, UNSUPPORTED -> Optional.empty();
            };
        }
        return Optional.empty();
    }

    /** Reads separator-delimited fields of the spec. */
    private static final class Cursor {
        private final String s;
        private int i;

        Cursor(String s) {
            this.s = s;
        }

        boolean atEnd() {
            return i >= s.length();
        }

        char next() {
            return s.charAt(i++);
        }

        void skipBlanks() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        /** The text up to the next {@code sep}, consuming the separator. */
        String field(char sep, String what, int ruleNo) {
            int end = s.indexOf(sep, i);
            if (end < 0) {
                throw error(ruleNo, "missing '" + sep + "' at the end of the " + what + " field");
            }
            String f = s.substring(i, end);
            i = end + 1;
            return f;
        }

        IllegalArgumentException error(int ruleNo, String what) {
            return new IllegalArgumentException("--xattrmap: rule " + ruleNo + ": " + what + " (in \"" + s
                    + "\"; rules look like :type:scope:key:prepend:)");
        }
    }
}
