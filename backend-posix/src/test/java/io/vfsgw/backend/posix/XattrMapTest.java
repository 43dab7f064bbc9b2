package io.vfsgw.backend.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The rule language of virtiofsd's --xattrmap, checked against the examples of virtiofsd's manual. */
class XattrMapTest {
    static Errno refused(XattrMap m, String clientName) {
        return assertThrows(FsException.class, () -> m.toHost(clientName)).errno();
    }

    @Test
    void prefixEverythingAndHideTheRest() throws Exception {
        // virtiofsd's SELinux example: every guest xattr lives under user.virtiofs. on the host
        XattrMap m = XattrMap.parse(":prefix:all::user.virtiofs.::bad:all:::");
        assertEquals("user.virtiofs.security.selinux", m.toHost("security.selinux"));
        assertEquals("user.virtiofs.user.x", m.toHost("user.x"));
        assertEquals(Optional.of("security.selinux"), m.toClient("user.virtiofs.security.selinux"));
        assertEquals(Optional.empty(), m.toClient("security.selinux"), "the host's own label is hidden");
        assertEquals(Optional.empty(), m.toClient("user.other"));
    }

    @Test
    void theMapShortFormIsTheSameAsItsLongForm() throws Exception {
        XattrMap longForm = XattrMap.parse(":prefix:all::user.virtiofs.::bad:all:::");
        XattrMap shortForm = XattrMap.parse(":map::user.virtiofs.:");
        assertEquals(longForm.rules(), shortForm.rules(), "virtiofsd expands ':map::P:' to exactly these rules");
        for (String n : new String[] {"security.selinux", "user.a", "trusted.b"}) {
            assertEquals(longForm.toHost(n), shortForm.toHost(n));
        }
        for (String n : new String[] {"user.virtiofs.user.a", "user.a", "security.selinux"}) {
            assertEquals(longForm.toClient(n), shortForm.toClient(n));
        }
    }

    @Test
    void prefixTrustedAndLetOthersThrough() throws Exception {
        // virtiofsd's second example, with '/' separators and newlines between rules
        XattrMap m = XattrMap.parse("/prefix/all/trusted./user.virtiofs./\n /bad/server//trusted./\n"
                + " /bad/client/user.virtiofs.//\n /ok/all///");
        assertEquals("user.virtiofs.trusted.overlay.opaque", m.toHost("trusted.overlay.opaque"));
        assertEquals("user.plain", m.toHost("user.plain"));
        assertEquals(Errno.EPERM, refused(m, "user.virtiofs.trusted.x"), "no direct access to mapped names");
        assertEquals(Optional.of("trusted.overlay.opaque"), m.toClient("user.virtiofs.trusted.overlay.opaque"));
        assertEquals(Optional.empty(), m.toClient("trusted.host"), "the host's real trusted.* is hidden");
        assertEquals(Optional.of("user.plain"), m.toClient("user.plain"));
        assertEquals(Optional.of("security.selinux"), m.toClient("security.selinux"));

        XattrMap shortForm = XattrMap.parse("/map/trusted./user.virtiofs./");
        for (String n : new String[] {"trusted.overlay.opaque", "user.plain", "security.x"}) {
            assertEquals(m.toHost(n), shortForm.toHost(n), n);
        }
        assertEquals(Errno.EPERM, refused(shortForm, "user.virtiofs.trusted.x"));
        for (String n : new String[] {"user.virtiofs.trusted.a", "trusted.host", "user.plain", "security.selinux"}) {
            assertEquals(m.toClient(n), shortForm.toClient(n), n);
        }
    }

    @Test
    void hideSecurityAllowTheRest() throws Exception {
        XattrMap m = XattrMap.parse("/bad/all/security./security./ /ok/all///");
        assertEquals(Errno.EPERM, refused(m, "security.capability"));
        assertEquals("user.a", m.toHost("user.a"));
        assertEquals(Optional.empty(), m.toClient("security.selinux"));
        assertEquals(Optional.of("user.a"), m.toClient("user.a"));
    }

    @Test
    void unsupportedIsEopnotsuppAndUnmatchedIsRefused() throws Exception {
        XattrMap m = XattrMap.parse(":unsupported:client:system.:: :ok:client:user.::");
        assertEquals(Errno.EOPNOTSUPP, refused(m, "system.nfs4_acl"));
        assertEquals("user.a", m.toHost("user.a"));
        assertEquals(Errno.EPERM, refused(m, "trusted.a"), "no rule matched: virtiofsd's final bad rule");
        assertEquals(Optional.empty(), m.toClient("user.a"), "no server rule at all: every host name hidden");
    }

    @Test
    void serverScopedOkPassesListsOnly() throws Exception {
        XattrMap m = XattrMap.parse(":ok:server::security.: :prefix:all:user.:user.g.:");
        assertEquals(Optional.of("security.selinux"), m.toClient("security.selinux"));
        assertEquals(Errno.EPERM, refused(m, "security.selinux"), "the server rule does not apply to clients");
        assertEquals("user.g.user.a", m.toHost("user.a"));
        assertEquals(Optional.of("user.a"), m.toClient("user.g.user.a"));
    }

    @Test
    void malformedRulesAreOneLineErrors() {
        String[][] cases = {
            {":prefix:all::user.virtiofs.", "missing ':' at the end of the prepend field"},
            {":frob:all:::", "unknown type 'frob'"},
            {":prefix:everyone:::", "unknown scope 'everyone'"},
            {":ok:all:::   :prefix", "rule 2: missing ':' at the end of the type field"},
            {":map::user.virtiofs.: :ok:all:::", "must be the last rule"},
            {":map:user.", "missing ':' at the end of the key field"},
            {"   ", "no rules"},
            {"", "no rules"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> XattrMap.parse(c[0]),
                    c[0]);
            assertTrue(e.getMessage().startsWith("--xattrmap: "), e.getMessage());
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        }
    }
}
