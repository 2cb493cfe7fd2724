package dev.weft.kvstore.acl;

/**
 * A strict parser for the subset of Consul's rule language weft understands, in its HCL form
 * <pre>
 * key_prefix "app/" { policy = "write" }
 * service "web" { policy = "read" }
 * operator = "read"
 * </pre>
 * and its JSON form ({@code {"key_prefix": {"app/": {"policy": "write"}}, "operator": "read"}}). Blocks:
 * {@code key}, {@code key_prefix}, {@code service}, {@code service_prefix}, {@code node}, {@code node_prefix},
 * {@code session}, {@code session_prefix}, {@code agent}, {@code agent_prefix}; levels: {@code operator},
 * {@code acl}; values {@code read}, {@code write}, {@code deny} ({@code list} is read, for keys). Anything else
 * is an {@link InvalidRulesException} with its line number.
 */
public final class RulesParser {
    private final String text;
    private int pos;
    private int line = 1;

    private RulesParser(String text) {
        this.text = text;
    }

    /** Thrown for rules outside the supported subset; the message names the line. */
    public static final class InvalidRulesException extends IllegalArgumentException {
        InvalidRulesException(String message) {
            super(message);
        }
    }

    public static AclRules parse(String text) {
        if (text == null || text.isBlank()) {
            return new AclRules();
        }
        RulesParser p = new RulesParser(text);
        p.skipSpace();
        AclRules rules = new AclRules();
        if (p.peek() == '{') {
            p.json(rules);
        } else {
            p.hcl(rules);
        }
        return rules;
    }

    // ---- HCL ---------------------------------------------------------------------------------------------

    private void hcl(AclRules rules) {
        while (true) {
            skipSpace();
            if (pos >= text.length()) {
                return;
            }
            int at = line;
            String word = ident();
            skipSpace();
            if (word.equals("operator") || word.equals("acl")) {
                expect('=');
                level(rules, word, string(), at);
                continue;
            }
            Target t = target(word, at);
            String name = string();
            skipSpace();
            expect('{');
            Access access = null;
            while (true) {
                skipSpace();
                if (peek() == '}') {
                    pos++;
                    break;
                }
                int attrLine = line;
                String attr = ident();
                if (!attr.equals("policy")) {
                    throw error(attrLine, "unsupported attribute \"" + attr + "\" (only \"policy\")");
                }
                skipSpace();
                expect('=');
                skipSpace();
                access = access(string(), attrLine, t.resource);
                skipSpace();
                if (peek() == ',') {
                    pos++;
                }
            }
            if (access == null) {
                throw error(at, word + " \"" + name + "\" has no policy");
            }
            rules.add(t.resource, t.prefix, name, access);
        }
    }

    private record Target(Resource resource, boolean prefix) {
    }

    private Target target(String word, int at) {
        boolean prefix = word.endsWith("_prefix");
        Resource r = Resource.of(prefix ? word.substring(0, word.length() - "_prefix".length()) : word);
        if (r == null) {
            throw error(at, "unsupported rule \"" + word + "\"");
        }
        return new Target(r, prefix);
    }

    private void level(AclRules rules, String word, String value, int at) {
        Access a = access(value, at, null);
        if (word.equals("operator")) {
            rules.operator = Access.merge(rules.operator, a);
        } else {
            rules.acl = Access.merge(rules.acl, a);
        }
    }

    private Access access(String value, int at, Resource resource) {
        return switch (value) {
            case "read" -> Access.READ;
            case "write" -> Access.WRITE;
            case "deny" -> Access.DENY;
            case "list" -> {
                if (resource != Resource.KEY) {
                    throw error(at, "policy \"list\" is only valid for keys");
                }
                yield Access.READ;
            }
            default -> throw error(at, "invalid policy \"" + value + "\" (read, write or deny)");
        };
    }

    // ---- JSON --------------------------------------------------------------------------------------------

    private void json(AclRules rules) {
        expect('{');
        skipSpace();
        if (peek() == '}') {
            pos++;
            trailing();
            return;
        }
        while (true) {
            skipSpace();
            int at = line;
            String word = string();
            skipSpace();
            expect(':');
            skipSpace();
            if (word.equals("operator") || word.equals("acl")) {
                level(rules, word, string(), at);
            } else {
                Target t = target(word, at);
                expect('{');
                skipSpace();
                if (peek() == '}') {
                    pos++;
                } else {
                    while (true) {
                        skipSpace();
                        int nameLine = line;
                        String name = string();
                        skipSpace();
                        expect(':');
                        skipSpace();
                        expect('{');
                        skipSpace();
                        String attr = string();
                        if (!attr.equals("policy")) {
                            throw error(nameLine, "unsupported attribute \"" + attr + "\" (only \"policy\")");
                        }
                        skipSpace();
                        expect(':');
                        skipSpace();
                        Access a = access(string(), nameLine, t.resource);
                        skipSpace();
                        expect('}');
                        rules.add(t.resource, t.prefix, name, a);
                        skipSpace();
                        if (peek() == ',') {
                            pos++;
                            continue;
                        }
                        expect('}');
                        break;
                    }
                }
            }
            skipSpace();
            if (peek() == ',') {
                pos++;
                continue;
            }
            expect('}');
            trailing();
            return;
        }
    }

    private void trailing() {
        skipSpace();
        if (pos < text.length()) {
            throw error(line, "unexpected text after the rules object");
        }
    }

    // ---- tokens ------------------------------------------------------------------------------------------

    private char peek() {
        return pos < text.length() ? text.charAt(pos) : '\0';
    }

    private void skipSpace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '\n') {
                line++;
                pos++;
            } else if (Character.isWhitespace(c)) {
                pos++;
            } else if (c == '#' || (c == '/' && pos + 1 < text.length() && text.charAt(pos + 1) == '/')) {
                while (pos < text.length() && text.charAt(pos) != '\n') {
                    pos++;
                }
            } else {
                return;
            }
        }
    }

    private void expect(char c) {
        skipSpace();
        if (peek() != c) {
            throw error(line, "expected '" + c + "' but found " + found());
        }
        pos++;
    }

    private String found() {
        return pos >= text.length() ? "end of rules" : "'" + text.charAt(pos) + "'";
    }

    private String ident() {
        int start = pos;
        while (pos < text.length() && (Character.isLetterOrDigit(text.charAt(pos)) || text.charAt(pos) == '_')) {
            pos++;
        }
        if (start == pos) {
            throw error(line, "expected a rule name but found " + found());
        }
        return text.substring(start, pos);
    }

    private String string() {
        skipSpace();
        if (peek() != '"') {
            throw error(line, "expected a quoted string but found " + found());
        }
        pos++;
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= text.length() || text.charAt(pos) == '\n') {
                throw error(line, "unterminated string");
            }
            char c = text.charAt(pos++);
            if (c == '"') {
                return sb.toString();
            }
            if (c == '\\') {
                if (pos >= text.length()) {
                    throw error(line, "unterminated string");
                }
                char e = text.charAt(pos++);
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    default -> throw error(line, "unsupported escape \\" + e);
                }
            } else {
                sb.append(c);
            }
        }
    }

    private static InvalidRulesException error(int line, String what) {
        return new InvalidRulesException("Failed to parse ACL rules: line " + line + ": " + what);
    }
}
