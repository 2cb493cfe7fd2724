package dev.weft.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** Status line and headers of an HTTP/1.1 response; header names lower-cased, repeated ones joined by ", ". */
record HttpHead(int status, String reason, Map<String, String> headers) {

    static HttpHead parse(byte[] head, int len) throws IOException {
        String text = new String(head, 0, len, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\r?\n");
        String statusLine = lines[0];
        if (!statusLine.startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP/1.x response: '" + abbreviate(statusLine) + "'");
        }
        String[] parts = statusLine.split(" ", 3);
        int status;
        try {
            status = Integer.parseInt(parts[1]);
        } catch (RuntimeException e) {
            throw new IOException("bad HTTP status line: '" + abbreviate(statusLine) + "'");
        }
        Map<String, String> headers = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            if (line.isEmpty()) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IOException("bad HTTP header line: '" + abbreviate(line) + "'");
            }
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            headers.merge(name, value, (a, b) -> a + ", " + b);
        }
        return new HttpHead(status, parts.length > 2 ? parts[2] : "", Map.copyOf(headers));
    }

    String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    boolean chunked() {
        String te = header("transfer-encoding");
        return te != null && te.toLowerCase(Locale.ROOT).contains("chunked");
    }

    /** Content-Length, or -1 when absent. */
    long contentLength() throws IOException {
        String cl = header("content-length");
        if (cl == null) {
            return -1;
        }
        try {
            return Long.parseLong(cl.trim());
        } catch (NumberFormatException e) {
            throw new IOException("bad Content-Length '" + cl + "'");
        }
    }

    /** 1xx, 204 and 304 answers carry no body. */
    boolean noBody() {
        return status / 100 == 1 || status == 204 || status == 304;
    }

    private static String abbreviate(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "…" : s;
    }
}
