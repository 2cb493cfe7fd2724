package dev.weft.dns;

import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.CatalogView;
import dev.weft.kvstore.state.HealthStatus;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Record synthesis: turns one question into an {@link Answer} from the catalog view, following Consul's DNS
 * conventions. Pure and synchronous; called under the catalog's read lock, once per cache miss.
 */
final class CatalogZone {
    static final long SOA_REFRESH = 3600;
    static final long SOA_RETRY = 600;
    static final long SOA_EXPIRE = 86400;

    private final DnsConfig config;
    private final DnsNames names;
    private final long soaMin;
    private final long nodeTtl;

    CatalogZone(DnsConfig config) {
        this.config = config;
        this.names = new DnsNames(config.domain(), config.altDomain(), config.datacenter());
        this.soaMin = seconds(config.soaMinTtl());
        this.nodeTtl = seconds(config.nodeTtl());
    }

    DnsNames names() {
        return names;
    }

    /**
     * @param qname  the question name (any case)
     * @param serial the SOA serial to use (the catalog index)
     */
    Answer answer(Name qname, int qtype, int qclass, CatalogView view, long serial) {
        if (qclass != DClass.IN && qclass != DClass.ANY) {
            return Answer.REFUSED;
        }
        if (qtype == Type.AXFR || qtype == Type.IXFR) {
            return Answer.REFUSED;
        }
        DnsNames.Parsed p = names.parse(qname);
        if (p instanceof DnsNames.Service s) {
            return service(qname, s, qtype, view, serial);
        }
        if (p instanceof DnsNames.Node n) {
            return node(qname, n, qtype, view, serial);
        }
        if (p instanceof DnsNames.Addr a) {
            List<Answer.Item> items = new ArrayList<>();
            Record r = addressRecord(qname, a.address(), qtype, nodeTtl);
            if (r != null) {
                items.add(new Answer.Item(r));
            }
            return items.isEmpty() ? nodata(a.zone(), serial) : Answer.positive(items, false, List.of());
        }
        if (p instanceof DnsNames.Apex a) {
            return apex(a.zone(), qtype, serial);
        }
        if (p instanceof DnsNames.NsHost h) {
            Record r = addressRecord(qname, config.advertiseAddress(), qtype, nodeTtl);
            return r == null ? nodata(h.zone(), serial) : Answer.positive(List.of(new Answer.Item(r)), false, List.of());
        }
        if (p instanceof DnsNames.NoSuchName x) {
            return nxdomain(x.zone(), serial);
        }
        if (p instanceof DnsNames.Reverse r) {
            return reverse(qname, r.address(), qtype, view, serial);
        }
        return Answer.OUTSIDE;
    }

    // ---- services -----------------------------------------------------------------------------------------

    private Answer service(Name qname, DnsNames.Service s, int qtype, CatalogView view, long serial) {
        List<CatalogService> healthy = new ArrayList<>();
        List<HealthStatus> statuses = new ArrayList<>();
        for (CatalogService inst : view.serviceInstances(s.service())) {
            if (s.tag() != null && !inst.hasTag(s.tag())) {
                continue;
            }
            HealthStatus h = view.health(inst);
            if (h == HealthStatus.CRITICAL || (h == HealthStatus.WARNING && config.onlyPassing())) {
                continue;
            }
            healthy.add(inst);
            statuses.add(h);
        }
        if (healthy.isEmpty()) {
            return nxdomain(s.zone(), serial);
        }
        long ttl = seconds(config.serviceTtl(s.service()));
        List<Answer.Item> items = new ArrayList<>();
        if (qtype == Type.SRV) {
            for (int i = 0; i < healthy.size(); i++) {
                Answer.Item item = srv(qname, s.zone(), healthy.get(i), statuses.get(i), view, ttl);
                if (item != null) {
                    items.add(item);
                }
            }
        } else if (qtype == Type.A || qtype == Type.AAAA || qtype == Type.ANY) {
            Set<Record> seen = new HashSet<>();
            for (CatalogService inst : healthy) {
                CatalogNode node = view.node(inst.node());
                String address = inst.address().isEmpty() && node != null ? node.address() : inst.address();
                Record r = hostRecord(qname, address, qtype, ttl);
                if (r != null && seen.add(r)) {
                    items.add(new Answer.Item(r));
                }
            }
        }
        if (items.isEmpty()) {
            return nodata(s.zone(), serial);
        }
        return Answer.positive(items, true, List.of());
    }

    private Answer.Item srv(Name qname, Name zone, CatalogService inst, HealthStatus health, CatalogView view,
                            long ttl) {
        CatalogNode node = view.node(inst.node());
        if (node == null) {
            return null;
        }
        int weight = health == HealthStatus.WARNING ? inst.weightWarning() : inst.weightPassing();
        weight = Math.max(0, Math.min(65535, weight));
        String address = inst.address();
        Name target;
        List<Record> extras = new ArrayList<>(1);
        if (address.isEmpty() || address.equals(node.address())) {
            target = names.nodeName(node.node(), zone);
            if (target == null) {
                return null;
            }
            InetAddress ip = DnsConfig.parseIp(node.address());
            if (ip != null) {
                extras.add(addressRecord(target, ip, Type.ANY, ttl));
            }
        } else {
            InetAddress ip = DnsConfig.parseIp(address);
            if (ip != null) {
                target = names.addrName(ip, zone);
                extras.add(addressRecord(target, ip, Type.ANY, ttl));
            } else {
                target = DnsNames.hostName(address);
                if (target == null) {
                    return null;
                }
            }
        }
        return new Answer.Item(new SRVRecord(qname, DClass.IN, ttl, 1, weight, inst.port(), target), extras);
    }

    // ---- nodes --------------------------------------------------------------------------------------------

    private Answer node(Name qname, DnsNames.Node n, int qtype, CatalogView view, long serial) {
        CatalogNode node = findNode(view, n.node());
        if (node == null) {
            return nxdomain(n.zone(), serial);
        }
        List<Answer.Item> items = new ArrayList<>();
        if (qtype == Type.A || qtype == Type.AAAA || qtype == Type.ANY) {
            Record r = hostRecord(qname, node.address(), qtype, nodeTtl);
            if (r != null) {
                items.add(new Answer.Item(r));
            }
        }
        if (qtype == Type.TXT || qtype == Type.ANY) {
            for (Map.Entry<String, String> e : node.meta().entrySet()) {
                String text = e.getKey().startsWith("rfc1035-") ? e.getValue() : e.getKey() + "=" + e.getValue();
                items.add(new Answer.Item(new TXTRecord(qname, DClass.IN, nodeTtl, text)));
            }
        }
        return items.isEmpty() ? nodata(n.zone(), serial) : Answer.positive(items, false, List.of());
    }

    private static CatalogNode findNode(CatalogView view, String lowerName) {
        return view.nodeIgnoringCase(lowerName);
    }

    // ---- reverse ------------------------------------------------------------------------------------------

    private Answer reverse(Name qname, InetAddress ip, int qtype, CatalogView view, long serial) {
        Name zone = names.domain();
        List<Answer.Item> items = new ArrayList<>();
        Set<Name> targets = new HashSet<>();
        for (CatalogNode node : view.nodes()) {
            if (ip.equals(DnsConfig.parseIp(node.address()))) {
                Name target = names.nodeName(node.node(), zone);
                if (target != null && targets.add(target)) {
                    items.add(new Answer.Item(new PTRRecord(qname, DClass.IN, nodeTtl, target)));
                }
            }
        }
        if (items.isEmpty()) {
            for (CatalogService s : view.allServices()) {
                if (!s.address().isEmpty() && ip.equals(DnsConfig.parseIp(s.address()))) {
                    Name target = names.serviceName(s.service().toLowerCase(Locale.ROOT), zone);
                    if (target != null && targets.add(target)) {
                        long ttl = seconds(config.serviceTtl(s.service()));
                        items.add(new Answer.Item(new PTRRecord(qname, DClass.IN, ttl, target)));
                    }
                }
            }
        }
        if (items.isEmpty()) {
            return config.recursors().isEmpty() ? nxdomain(zone, serial) : Answer.OUTSIDE;
        }
        if (qtype != Type.PTR && qtype != Type.ANY) {
            return nodata(zone, serial);
        }
        return Answer.positive(items, false, List.of());
    }

    // ---- apex ---------------------------------------------------------------------------------------------

    private Answer apex(Name zone, int qtype, long serial) {
        List<Answer.Item> items = new ArrayList<>();
        List<Record> additional = new ArrayList<>();
        if (qtype == Type.SOA || qtype == Type.ANY) {
            items.add(new Answer.Item(soa(zone, serial)));
        }
        if (qtype == Type.NS || qtype == Type.ANY) {
            Name ns = DnsNames.nsName(zone);
            items.add(new Answer.Item(new NSRecord(zone, DClass.IN, nodeTtl, ns)));
            additional.add(addressRecord(ns, config.advertiseAddress(), Type.ANY, nodeTtl));
        }
        return items.isEmpty() ? nodata(zone, serial) : Answer.positive(items, false, additional);
    }

    // ---- records ------------------------------------------------------------------------------------------

    Record soa(Name zone, long serial) {
        return new SOARecord(zone, DClass.IN, soaMin, DnsNames.nsName(zone), DnsNames.hostmasterName(zone),
                serial & 0xFFFFFFFFL, SOA_REFRESH, SOA_RETRY, SOA_EXPIRE, soaMin);
    }

    private Answer nxdomain(Name zone, long serial) {
        return Answer.negative(Rcode.NXDOMAIN, soa(zone, serial));
    }

    private Answer nodata(Name zone, long serial) {
        return Answer.negative(Rcode.NOERROR, soa(zone, serial));
    }

    /** A, AAAA or (for a host name) CNAME for {@code address}, when the query type wants it; else null. */
    private static Record hostRecord(Name owner, String address, int qtype, long ttl) {
        InetAddress ip = DnsConfig.parseIp(address);
        if (ip != null) {
            return addressRecord(owner, ip, qtype, ttl);
        }
        Name host = DnsNames.hostName(address);
        return host == null ? null : new CNAMERecord(owner, DClass.IN, ttl, host);
    }

    /** A or AAAA for {@code ip} when {@code qtype} asks for that family (or ANY); else null. */
    private static Record addressRecord(Name owner, InetAddress ip, int qtype, long ttl) {
        if (ip instanceof Inet4Address && (qtype == Type.A || qtype == Type.ANY)) {
            return new ARecord(owner, DClass.IN, ttl, ip);
        }
        if (ip instanceof Inet6Address && (qtype == Type.AAAA || qtype == Type.ANY)) {
            return new AAAARecord(owner, DClass.IN, ttl, ip);
        }
        return null;
    }

    static long seconds(Duration d) {
        return Math.min(d.getSeconds(), 0x7FFFFFFFL);
    }
}
