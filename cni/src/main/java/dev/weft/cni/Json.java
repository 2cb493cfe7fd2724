package dev.weft.cni;

import java.util.HashMap;
import java.util.Map;

/**
 * Just enough JSON for the executable (JDK only): checks that a text is one JSON object and collects its
 * top-level string members ({@code cniVersion}, {@code agentSocket}); quotes strings. Strict per RFC 8259.
 */
final class Json {
    /** Deepest nesting of objects and arrays accepted (Jackson's default, which the agent parses with). */
    static final int MAX_DEPTH = 1000;
    /** Longest number accepted, in characters (Jackson's default limit is 1000 digits). */
    static final int MAX_NUMBER_LENGTH = 1000;

    private final String s;
    private int i;
    private int depth;

    private Json(String s) {
        this.s = s;
    }

    /**
     * The top-level string members of a JSON object.
     *
     * @throws IllegalArgumentException when the text is not exactly one JSON object, or nests deeper than
     *                                  {@link #MAX_DEPTH} (a deeper text would exhaust the stack)
     */
    static Map<String, String> topLevelStrings(String text) {
        Json p = new Json(text);
        p.depth = 1;
        Map<String, String> out = new HashMap<>();
        p.space();
        if (p.peek() != '{') {
            throw p.fail("expected a JSON object");
        }
        p.object(out);
        p.space();
        if (p.i != p.s.length()) {
            throw p.fail("unexpected text after the object");
        }
        return out;
    }

    /** Appends {@code value} as a JSON string. */
    static void quote(StringBuilder b, String value) {
        b.append('"');
        for (int k = 0; k < value.length(); k++) {
            char c = value.charAt(k);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append("\\u00").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    private void object(Map<String, String> top) {
        expect('{');
        space();
        if (peek() == '}') {
            i++;
            return;
        }
        while (true) {
            space();
            String key = string();
            space();
            expect(':');
            space();
            if (top != null && peek() == '"') {
                top.put(key, string());
            } else {
                if (top != null) {
                    top.remove(key); // the last member of a name wins, as in Jackson (the agent's reading)
                }
                value();
            }
            space();
            char c = next();
            if (c == '}') {
                return;
            }
            if (c != ',') {
                throw fail("expected ',' or '}'");
            }
        }
    }

    private void array() {
        expect('[');
        space();
        if (peek() == ']') {
            i++;
            return;
        }
        while (true) {
            space();
            value();
            space();
            char c = next();
            if (c == ']') {
                return;
            }
            if (c != ',') {
                throw fail("expected ',' or ']'");
            }
        }
    }

    private void value() {
        char c = peek();
        if (c == '{' || c == '[') {
            if (++depth > MAX_DEPTH) {
                throw fail("nested deeper than " + MAX_DEPTH);
            }
            if (c == '{') {
                object(null);
            } else {
                array();
            }
            depth--;
        } else if (c == '"') {
            string();
        } else if (c == 't') {
            word("true");
        } else if (c == 'f') {
            word("false");
        } else if (c == 'n') {
            word("null");
        } else if (c == '-' || c >= '0' && c <= '9') {
            number();
        } else {
            throw fail("unexpected character");
        }
    }

    private String string() {
        expect('"');
        StringBuilder b = new StringBuilder();
        while (true) {
            char c = next();
            if (c == '"') {
                return b.toString();
            }
            if (c < 0x20) {
                throw fail("control character in a string");
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = next();
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (i + 4 > s.length()) {
                        throw fail("short \\u escape");
                    }
                    // exactly four hex digits: Integer.parseInt alone would also take a sign (+0e9, -001)
                    int code = 0;
                    for (int k = i; k < i + 4; k++) {
                        int d = Character.digit(s.charAt(k), 16);
                        if (d < 0 || s.charAt(k) > 'f') {
                            throw fail("bad \\u escape");
                        }
                        code = code * 16 + d;
                    }
                    b.append((char) code);
                    i += 4;
                }
                default -> throw fail("bad escape");
            }
        }
    }

    private void number() {
        int start = i;
        if (peek() == '-') {
            i++;
        }
        if (peek() == '0') {
            i++;
        } else {
            digits();
        }
        if (peek() == '.') {
            i++;
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            i++;
            if (peek() == '+' || peek() == '-') {
                i++;
            }
            digits();
        }
        if (i == start) {
            throw fail("bad number");
        }
        if (i - start > MAX_NUMBER_LENGTH) {
            throw fail("number longer than " + MAX_NUMBER_LENGTH + " characters");
        }
    }

    private void digits() {
        int start = i;
        while (peek() >= '0' && peek() <= '9') {
            i++;
        }
        if (i == start) {
            throw fail("expected a digit");
        }
    }

    private void word(String w) {
        if (!s.startsWith(w, i)) {
            throw fail("unexpected word");
        }
        i += w.length();
    }

    private void space() {
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t' || s.charAt(i) == '\n'
                || s.charAt(i) == '\r')) {
            i++;
        }
    }

    private char peek() {
        return i < s.length() ? s.charAt(i) : '\0';
    }

    private char next() {
        if (i >= s.length()) {
            throw fail("unexpected end of input");
        }
        return s.charAt(i++);
    }

    private void expect(char c) {
        if (next() != c) {
            i--;
            throw fail("expected '" + c + "'");
        }
    }

    private IllegalArgumentException fail(String what) {
        return new IllegalArgumentException(what + " at offset " + i);
    }
}
