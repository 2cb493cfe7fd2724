package dev.weft.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code weft services register FILE|deregister ID}: services of the local agent, through
 * {@code PUT /v1/agent/service/register} and {@code PUT /v1/agent/service/deregister/<id>}. FILE holds a Consul
 * service definition in JSON, bare ({@code {"Name":"web",...}}) or wrapped as Consul's CLI accepts it
 * ({@code {"service": {...}}} or {@code {"services": [{...}, ...]}}).
 */
@Command(name = "services", description = "Register and deregister services with the agent",
        subcommands = {ServicesCommand.Register.class, ServicesCommand.Deregister.class})
public final class ServicesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    @Command(name = "register", description = "Register the service(s) defined in FILE ('-' for stdin)",
            mixinStandardHelpOptions = true)
    public static final class Register implements Callable<Integer> {
        private final CliIo io;
        @Spec
        CommandSpec spec;
        @Mixin
        HttpAddressOption addr;
        @Parameters(index = "0", paramLabel = "FILE", description = "JSON service definition, '-' for stdin")
        String file;

        public Register(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            byte[] raw;
            try {
                raw = file.equals("-") ? io.in().readAllBytes() : Files.readAllBytes(Path.of(file));
            } catch (IOException e) {
                throw new ParameterException(spec.commandLine(), "Cannot read " + file + ": " + e.getMessage());
            }
            List<JsonNode> definitions = definitions(raw, file);
            ApiClient api = addr.client(io);
            for (JsonNode def : definitions) {
                String name = text(def, "Name");
                if (name == null || name.isEmpty()) {
                    name = text(def, "ID");
                }
                byte[] body;
                try {
                    body = KvCommand.JSON.writeValueAsBytes(def);
                } catch (IOException e) {
                    throw new CliFailure("Error! " + e.getMessage());
                }
                ApiClient.check(api.put("/v1/agent/service/register", body), "Failed to register service "
                        + (name == null ? "" : name));
                io.out().println("Registered service: " + name);
            }
            io.out().flush();
            return 0;
        }
    }

    @Command(name = "deregister", description = "Deregister a service of the agent by its ID",
            mixinStandardHelpOptions = true)
    public static final class Deregister implements Callable<Integer> {
        private final CliIo io;
        @Spec
        CommandSpec spec;
        @Mixin
        HttpAddressOption addr;
        @Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "Service ID")
        String id;
        @Option(names = {"-id", "--id"}, paramLabel = "ID", description = "Service ID (same as the argument)")
        String idOption;

        public Deregister(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            if (id != null && idOption != null && !id.equals(idOption)) {
                throw new ParameterException(spec.commandLine(), "Give the service ID once (argument or -id)");
            }
            String sid = id != null ? id : idOption;
            if (sid == null || sid.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "Missing service ID");
            }
            ApiClient.check(addr.client(io).put("/v1/agent/service/deregister/" + CatalogCommand.segment(sid),
                    new byte[0]), "Failed to deregister service " + sid);
            io.out().println("Deregistered service: " + sid);
            io.out().flush();
            return 0;
        }
    }

    /**
     * The service definitions in a file: {@code {"service": {...}}}, {@code {"services": [...]}} (keys
     * case-insensitive, as Consul's config decoder), or a bare definition.
     */
    static List<JsonNode> definitions(byte[] raw, String source) {
        JsonNode root;
        try {
            root = KvCommand.JSON.readTree(raw);
        } catch (IOException e) {
            throw new CliFailure("Error! " + source + " is not valid JSON: " + KvCommand.firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new CliFailure("Error! " + source + " must hold a JSON object (a service definition)");
        }
        List<JsonNode> out = new ArrayList<>();
        if (root.size() == 1) {
            Map.Entry<String, JsonNode> only = root.fields().next();
            if (only.getKey().equalsIgnoreCase("service")) {
                out.add(requireObject(only.getValue(), source));
                return out;
            }
            if (only.getKey().equalsIgnoreCase("services")) {
                if (!only.getValue().isArray() || only.getValue().isEmpty()) {
                    throw new CliFailure("Error! \"services\" in " + source + " must be a non-empty array");
                }
                for (JsonNode s : only.getValue()) {
                    out.add(requireObject(s, source));
                }
                return out;
            }
        }
        out.add(root);
        return out;
    }

    private static JsonNode requireObject(JsonNode n, String source) {
        if (!n.isObject()) {
            throw new CliFailure("Error! The service definition in " + source + " must be a JSON object");
        }
        return n;
    }

    /** A field, matched case-insensitively (Consul accepts "Name" and "name"); null when absent. */
    private static String text(JsonNode object, String name) {
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equalsIgnoreCase(name) && e.getValue().isTextual()) {
                return e.getValue().asText();
            }
        }
        return null;
    }
}
