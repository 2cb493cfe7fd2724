package dev.weft.dns;

import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** dnsjava's real resolver pointed at a test server, and record formatting for assertions. */
final class Queries {
    private Queries() {
    }

    /** Options of one query; the default is plain UDP without EDNS, truncated answers kept as they are. */
    record Options(boolean tcp, int ednsPayload, boolean followTruncation, boolean recursionDesired, int dclass) {
        static Options udp() {
            return new Options(false, -1, false, true, DClass.IN);
        }

        static Options tcpQuery() {
            return new Options(true, -1, false, true, DClass.IN);
        }

        Options edns(int payload) {
            return new Options(tcp, payload, followTruncation, recursionDesired, dclass);
        }

        Options retryOverTcp() {
            return new Options(tcp, ednsPayload, true, recursionDesired, dclass);
        }

        Options noRecursion() {
            return new Options(tcp, ednsPayload, followTruncation, false, dclass);
        }

        Options inClass(int c) {
            return new Options(tcp, ednsPayload, followTruncation, recursionDesired, c);
        }
    }

    static Message query(InetSocketAddress server, String name, int type) {
        return query(server, name, type, Options.udp());
    }

    static Message query(InetSocketAddress server, String name, int type, Options o) {
        try {
            SimpleResolver r = new SimpleResolver(server);
            r.setTimeout(Duration.ofSeconds(5));
            r.setTCP(o.tcp());
            r.setIgnoreTruncation(!o.followTruncation());
            if (o.ednsPayload() < 0) {
                r.setEDNS(-1, 0, 0, List.of());
            } else {
                r.setEDNS(0, o.ednsPayload(), 0, List.of());
            }
            Message q = Message.newQuery(Record.newRecord(Name.fromString(name, Name.root), type, o.dclass()));
            if (!o.recursionDesired()) {
                q.getHeader().unsetFlag(Flags.RD);
            }
            return r.send(q);
        } catch (IOException e) {
            throw new UncheckedIOException("query " + name + " " + Type.string(type) + " to " + server, e);
        }
    }

    /** One query over a plain blocking TCP socket (no dnsjava client state shared between queries). */
    static Message rawTcpQuery(InetSocketAddress server, String name, int type, Duration timeout) {
        try (java.net.Socket sock = new java.net.Socket(server.getAddress(), server.getPort())) {
            sock.setSoTimeout((int) timeout.toMillis());
            byte[] wire = Message.newQuery(Record.newRecord(Name.fromString(name, Name.root), type, DClass.IN))
                    .toWire();
            java.io.DataOutputStream out = new java.io.DataOutputStream(sock.getOutputStream());
            out.writeShort(wire.length);
            out.write(wire);
            out.flush();
            java.io.DataInputStream in = new java.io.DataInputStream(sock.getInputStream());
            byte[] answer = new byte[in.readUnsignedShort()];
            in.readFully(answer);
            return new Message(answer);
        } catch (IOException e) {
            throw new UncheckedIOException("TCP query " + name + " " + Type.string(type) + " to " + server, e);
        }
    }

    /** Records of a section (without OPT) as sorted lower-case "name ttl TYPE rdata" lines. */
    static List<String> section(Message m, int section) {
        List<String> out = new ArrayList<>();
        for (Record r : m.getSection(section)) {
            if (r.getType() != Type.OPT) {
                out.add(format(r));
            }
        }
        out.sort(null);
        return out;
    }

    static List<String> answers(Message m) {
        return section(m, Section.ANSWER);
    }

    static List<String> additional(Message m) {
        return section(m, Section.ADDITIONAL);
    }

    static String format(Record r) {
        return (r.getName() + " " + r.getTTL() + " " + Type.string(r.getType()) + " " + r.rdataToString())
                .toLowerCase(Locale.ROOT);
    }
}
