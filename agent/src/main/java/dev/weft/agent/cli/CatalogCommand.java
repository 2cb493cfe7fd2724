package dev.weft.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/** {@code weft catalog services|nodes|service NAME}: the service catalog through the HTTP API. */
@Command(name = "catalog", description = "Read the service catalog",
        subcommands = {CatalogCommand.Services.class, CatalogCommand.Nodes.class, CatalogCommand.Service.class})
public final class CatalogCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    /** Like Consul's {@code catalog services}: names, one a line; {@code -tags} adds their tags. */
    @Command(name = "services", description = "List the services in the catalog", mixinStandardHelpOptions = true)
    public static final class Services implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;
        @Option(names = {"-tags", "--tags"}, description = "Show the tags of each service")
        boolean tags;
        @Option(names = {"-node", "--node"}, paramLabel = "NAME", description = "Only the services of this node")
        String node;

        public Services(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            ApiClient api = addr.client(io);
            Map<String, TreeSet<String>> services = new TreeMap<>();
            if (node != null) {
                ApiClient.Response r = ApiClient.check(api.get("/v1/catalog/node/" + segment(node)),
                        "Failed to list services of node " + node);
                JsonNode n = KvCommand.parse(r.body());
                if (n.isNull()) {
                    throw new CliFailure("Error! No node named " + node + " in the catalog");
                }
                for (JsonNode s : n.path("Services")) {
                    TreeSet<String> t = services.computeIfAbsent(s.path("Service").asText(), k -> new TreeSet<>());
                    s.path("Tags").forEach(tag -> t.add(tag.asText()));
                }
            } else {
                ApiClient.Response r = ApiClient.check(api.get("/v1/catalog/services"), "Failed to list services");
                JsonNode all = KvCommand.parse(r.body());
                for (Iterator<Map.Entry<String, JsonNode>> it = all.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    TreeSet<String> t = services.computeIfAbsent(e.getKey(), k -> new TreeSet<>());
                    e.getValue().forEach(tag -> t.add(tag.asText()));
                }
            }
            if (services.isEmpty()) {
                io.err().println("No services match the given query - try expanding your search.");
                io.err().flush();
                return 0;
            }
            PrintWriter out = io.out();
            if (tags) {
                int width = services.keySet().stream().mapToInt(String::length).max().orElse(0) + 2;
                services.forEach((name, tagSet) -> out.println(
                        (name + " ".repeat(width - name.length()) + String.join(",", tagSet)).stripTrailing()));
                out.flush();
            } else {
                services.keySet().forEach(out::println);
                out.flush();
            }
            return 0;
        }
    }

    /** Like Consul's {@code catalog nodes}: Node, ID (first 8 characters), Address, DC. */
    @Command(name = "nodes", description = "List the nodes in the catalog", mixinStandardHelpOptions = true)
    public static final class Nodes implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;
        @Option(names = {"-service", "--service"}, paramLabel = "NAME", description = "Only nodes providing this service")
        String service;
        @Option(names = {"-detailed", "--detailed"}, description = "Full IDs, tagged addresses and metadata")
        boolean detailed;

        public Nodes(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            ApiClient api = addr.client(io);
            List<String[]> rows = new ArrayList<>();
            if (service != null) {
                ApiClient.Response r = ApiClient.check(api.get("/v1/catalog/service/" + segment(service)),
                        "Failed to list nodes of service " + service);
                TreeSet<String> seen = new TreeSet<>();
                for (JsonNode n : KvCommand.parse(r.body())) {
                    if (seen.add(n.path("Node").asText())) {
                        rows.add(row(n, n.path("NodeMeta")));
                    }
                }
            } else {
                ApiClient.Response r = ApiClient.check(api.get("/v1/catalog/nodes"), "Failed to list nodes");
                for (JsonNode n : KvCommand.parse(r.body())) {
                    rows.add(row(n, n.path("Meta")));
                }
            }
            if (rows.isEmpty()) {
                io.err().println("No nodes match the given query - try expanding your search.");
                io.err().flush();
                return 0;
            }
            TextTable t = detailed ? new TextTable("Node", "ID", "Address", "DC", "TaggedAddresses", "Meta")
                    : new TextTable("Node", "ID", "Address", "DC");
            rows.forEach(t::row);
            t.print(io.out());
            return 0;
        }

        private String[] row(JsonNode n, JsonNode meta) {
            String id = n.path("ID").asText();
            if (!detailed) {
                return new String[] {n.path("Node").asText(), id.length() > 8 ? id.substring(0, 8) : id,
                        n.path("Address").asText(), n.path("Datacenter").asText()};
            }
            return new String[] {n.path("Node").asText(), id, n.path("Address").asText(),
                    n.path("Datacenter").asText(), pairs(n.path("TaggedAddresses")), pairs(meta)};
        }
    }

    /** The instances of one service with their health (from {@code /v1/health/service/NAME}). */
    @Command(name = "service", description = "List the instances of a service and their health",
            mixinStandardHelpOptions = true)
    public static final class Service implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;
        @Parameters(index = "0", paramLabel = "NAME", description = "Service name")
        String name;
        @Option(names = {"-tag", "--tag"}, paramLabel = "TAG", description = "Only instances with this tag (repeatable)")
        List<String> tags = new ArrayList<>();
        @Option(names = {"-passing", "--passing"}, description = "Only instances whose checks all pass")
        boolean passing;

        public Service(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            StringBuilder q = new StringBuilder();
            for (String t : tags) {
                q.append(q.length() == 0 ? '?' : '&').append("tag=").append(ApiClient.encodeQuery(t));
            }
            if (passing) {
                q.append(q.length() == 0 ? '?' : '&').append("passing");
            }
            ApiClient.Response r = ApiClient.check(addr.client(io).get("/v1/health/service/" + segment(name) + q),
                    "Failed to list instances of " + name);
            JsonNode entries = KvCommand.parse(r.body());
            if (entries.isEmpty()) {
                io.err().println("Error! No instances of service " + name + " match the given query");
                io.err().flush();
                return 1;
            }
            TextTable t = new TextTable("Node", "ServiceID", "Address", "Port", "Tags", "Status");
            for (JsonNode e : entries) {
                JsonNode s = e.path("Service");
                String address = s.path("Address").asText();
                if (address.isEmpty()) {
                    address = e.path("Node").path("Address").asText();
                }
                List<String> tagList = new ArrayList<>();
                s.path("Tags").forEach(tag -> tagList.add(tag.asText()));
                t.row(e.path("Node").path("Node").asText(), s.path("ID").asText(), address,
                        Integer.toString(s.path("Port").asInt()), String.join(",", tagList), status(e.path("Checks")));
            }
            t.print(io.out());
            return 0;
        }

        /** The worst status of the checks deciding the instance; passing when there are none. */
        private static String status(JsonNode checks) {
            String worst = "passing";
            for (JsonNode c : checks) {
                String s = c.path("Status").asText();
                if (s.equals("critical") || (s.equals("warning") && worst.equals("passing"))) {
                    worst = s;
                }
            }
            return worst;
        }
    }

    /** Percent-encodes one path segment ('/' included). */
    static String segment(String s) {
        return ApiClient.encodePath(s).replace("/", "%2F");
    }

    private static String pairs(JsonNode map) {
        List<String> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.add(e.getKey() + "=" + e.getValue().asText());
        }
        return String.join(",", out);
    }
}
