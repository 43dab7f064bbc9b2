package io.vfsgw.cli;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import picocli.CommandLine;

/**
 * An S3 endpoint: an http:// or https:// URL with a host. "127.0.0.1:9000" or "localhost:9000"
 * without a scheme is the usual slip; the SDK then fails on the first request with a message
 * about JSON and a null base URI, so it is caught here with what to write instead.
 */
public final class EndpointConverter implements CommandLine.ITypeConverter<URI> {
    @Override
    public URI convert(String value) {
        String hint = "an S3 endpoint is an http:// or https:// URL, e.g. http://" + value.trim() + ", not '" + value + "'";
        URI uri;
        try {
            uri = new URI(value.trim());
        } catch (URISyntaxException e) {
            throw new CommandLine.TypeConversionException(hint);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
            throw new CommandLine.TypeConversionException(hint);
        }
        return uri;
    }
}
