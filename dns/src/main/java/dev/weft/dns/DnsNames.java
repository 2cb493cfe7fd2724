package dev.weft.dns;

import org.xbill.DNS.Name;
import org.xbill.DNS.NameTooLongException;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.TextParseException;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The one place where DNS names map to catalog lookups and back (Consul's conventions):
 * {@code [<tag>.]<service>.service[.<dc>].<domain>}, {@code _<service>._<tag|tcp|udp>.service[.<dc>].<domain>},
 * {@code <node>.node[.<dc>].<domain>}, {@code <hex-ip>.addr[.<dc>].<domain>}, {@code ns.<domain>} and the
 * reverse names under in-addr.arpa / ip6.arpa. Parsing is case-insensitive; parsed strings are lower case.
 */
final class DnsNames {
    static final Name IN_ADDR_ARPA = Name.fromConstantString("in-addr.arpa.");
    static final Name IP6_ARPA = Name.fromConstantString("ip6.arpa.");

    /** What a query name refers to. */
    sealed interface Parsed permits Service, Node, Addr, Apex, NsHost, NoSuchName, Reverse, Outside {
    }

    /** A service lookup; {@code tag} null when not filtering by tag. */
    record Service(Name zone, String service, String tag) implements Parsed {
    }

    record Node(Name zone, String node) implements Parsed {
    }

    record Addr(Name zone, InetAddress address) implements Parsed {
    }

    /** The domain itself (SOA, NS). */
    record Apex(Name zone) implements Parsed {
    }

    /** {@code ns.<domain>}: this agent as the domain's name server. */
    record NsHost(Name zone) implements Parsed {
    }

    /** Under our domain but naming nothing that can exist (unknown kind, other datacenter, bad hex): NXDOMAIN. */
    record NoSuchName(Name zone) implements Parsed {
    }

    /** A full reverse name of one address. */
    record Reverse(InetAddress address) implements Parsed {
    }

    /** Not ours: forwarded to recursors, or refused. */
    record Outside() implements Parsed {
    }

    private static final Outside OUTSIDE = new Outside();

    private final Name domain;
    private final Name altDomain;
    private final String datacenter;

    DnsNames(String domain, String altDomain, String datacenter) {
        this.domain = Name.fromConstantString(domain);
        this.altDomain = altDomain == null ? null : Name.fromConstantString(altDomain);
        this.datacenter = datacenter.toLowerCase(Locale.ROOT);
    }

    Name domain() {
        return domain;
    }

    String datacenter() {
        return datacenter;
    }

    Parsed parse(Name qname) {
        if (qname.subdomain(domain)) {
            return parseUnder(qname, domain);
        }
        if (altDomain != null && qname.subdomain(altDomain)) {
            return parseUnder(qname, altDomain);
        }
        if (qname.subdomain(IN_ADDR_ARPA) || qname.subdomain(IP6_ARPA)) {
            InetAddress ip = reverseAddress(qname);
            return ip == null ? OUTSIDE : new Reverse(ip);
        }
        return OUTSIDE;
    }

    private Parsed parseUnder(Name qname, Name zone) {
        int n = qname.labels() - zone.labels();
        if (n == 0) {
            return new Apex(zone);
        }
        String[] l = new String[n];
        for (int i = 0; i < n; i++) {
            l[i] = qname.getLabelString(i).toLowerCase(Locale.ROOT);
        }
        if (n == 1 && l[0].equals("ns")) {
            return new NsHost(zone);
        }
        int kind;
        if (isKind(l[n - 1])) {
            kind = n - 1;
        } else if (n >= 2 && isKind(l[n - 2])) {
            kind = n - 2;
            if (!l[n - 1].equals(datacenter)) {
                return new NoSuchName(zone);
            }
        } else {
            return new NoSuchName(zone);
        }
        switch (l[kind]) {
            case "service":
                if (kind == 1) {
                    return new Service(zone, l[0], null);
                }
                if (kind == 2) {
                    if (l[0].startsWith("_") && l[1].startsWith("_") && l[0].length() > 1 && l[1].length() > 1) {
                        String tag = l[1].substring(1);
                        boolean protocol = tag.equals("tcp") || tag.equals("udp");
                        return new Service(zone, l[0].substring(1), protocol ? null : tag);
                    }
                    return new Service(zone, l[1], l[0]);
                }
                return new NoSuchName(zone);
            case "node":
                if (kind == 0) {
                    return new NoSuchName(zone);
                }
                return new Node(zone, String.join(".", List.of(l).subList(0, kind)));
            case "addr":
                if (kind != 1) {
                    return new NoSuchName(zone);
                }
                InetAddress ip = fromHex(l[0]);
                return ip == null ? new NoSuchName(zone) : new Addr(zone, ip);
            default:
                return new NoSuchName(zone);
        }
    }

    private static boolean isKind(String label) {
        return label.equals("service") || label.equals("node") || label.equals("addr") || label.equals("query");
    }

    // ---- building names -----------------------------------------------------------------------------------

    /** {@code <node>.node.<dc>.<zone>}, or null when the node name cannot be a DNS name. */
    Name nodeName(String node, Name zone) {
        return relative(node + ".node." + datacenter, zone);
    }

    /** {@code <service>.service.<dc>.<zone>}, or null when the service name cannot be a DNS name. */
    Name serviceName(String service, Name zone) {
        return relative(service + ".service." + datacenter, zone);
    }

    /** {@code <hex-ip>.addr.<dc>.<zone>}. */
    Name addrName(InetAddress ip, Name zone) {
        return relative(toHex(ip) + ".addr." + datacenter, zone);
    }

    /** {@code ns.<zone>}. */
    static Name nsName(Name zone) {
        try {
            return Name.concatenate(Name.fromConstantString("ns"), zone);
        } catch (NameTooLongException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** {@code hostmaster.<zone>}. */
    static Name hostmasterName(Name zone) {
        try {
            return Name.concatenate(Name.fromConstantString("hostmaster"), zone);
        } catch (NameTooLongException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static Name reverseName(InetAddress ip) {
        return ReverseMap.fromAddress(ip);
    }

    private static Name relative(String text, Name zone) {
        if (text.startsWith(".") || text.contains("..")) {
            return null;
        }
        try {
            Name n = Name.fromString(text, zone);
            return n.isAbsolute() ? n : null;
        } catch (TextParseException e) {
            return null;
        }
    }

    /** An absolute name for a host name that is not an IP (a service or node address), or null. */
    static Name hostName(String host) {
        if (host == null || host.isEmpty() || host.startsWith(".") || host.contains("..")) {
            return null;
        }
        try {
            return Name.fromString(host.endsWith(".") ? host : host + ".");
        } catch (TextParseException e) {
            return null;
        }
    }

    static String toHex(InetAddress ip) {
        byte[] b = ip.getAddress();
        StringBuilder s = new StringBuilder(b.length * 2);
        for (byte x : b) {
            s.append(Character.forDigit((x >> 4) & 0xF, 16)).append(Character.forDigit(x & 0xF, 16));
        }
        return s.toString();
    }

    static InetAddress fromHex(String hex) {
        if (hex.length() != 8 && hex.length() != 32) {
            return null;
        }
        byte[] b = new byte[hex.length() / 2];
        for (int i = 0; i < b.length; i++) {
            int hi = Character.digit(hex.charAt(2 * i), 16);
            int lo = Character.digit(hex.charAt(2 * i + 1), 16);
            if (hi < 0 || lo < 0) {
                return null;
            }
            b[i] = (byte) (hi << 4 | lo);
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** The address of a complete reverse name (4 decimal labels, or 32 nibbles), else null. */
    static InetAddress reverseAddress(Name qname) {
        boolean v4 = qname.subdomain(IN_ADDR_ARPA);
        Name zone = v4 ? IN_ADDR_ARPA : IP6_ARPA;
        int n = qname.labels() - zone.labels();
        List<String> labels = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            labels.add(qname.getLabelString(i));
        }
        byte[] b;
        if (v4) {
            if (n != 4) {
                return null;
            }
            b = new byte[4];
            for (int i = 0; i < 4; i++) {
                String s = labels.get(3 - i);
                if (s.isEmpty() || s.length() > 3 || !s.chars().allMatch(Character::isDigit)
                        || (s.length() > 1 && s.charAt(0) == '0')) {
                    return null;
                }
                int v = Integer.parseInt(s);
                if (v > 255) {
                    return null;
                }
                b[i] = (byte) v;
            }
        } else {
            if (n != 32) {
                return null;
            }
            b = new byte[16];
            for (int i = 0; i < 32; i++) {
                String s = labels.get(31 - i);
                int d = s.length() == 1 ? Character.digit(s.charAt(0), 16) : -1;
                if (d < 0) {
                    return null;
                }
                b[i / 2] |= (byte) (i % 2 == 0 ? d << 4 : d);
            }
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
