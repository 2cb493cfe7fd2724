package dev.weft.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code weft acl bootstrap}, {@code weft acl policy create|list|delete}, {@code weft acl token
 * create|list|read|delete}: Consul's commands and output layout.
 */
@Command(name = "acl", description = "Manage ACL tokens and policies",
        subcommands = {AclCommand.Bootstrap.class, AclCommand.Policy.class, AclCommand.Token.class})
public final class AclCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    @Command(name = "bootstrap", description = "Create the first management token (once)",
            mixinStandardHelpOptions = true)
    public static final class Bootstrap implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;

        public Bootstrap(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            ApiClient.Response r = ApiClient.check(addr.client(io).put("/v1/acl/bootstrap", new byte[0]),
                    "Failed ACL bootstrapping");
            printToken(io.out(), KvCommand.parse(r.body()));
            return 0;
        }
    }

    @Command(name = "policy", description = "Create and list ACL policies",
            subcommands = {PolicyCreate.class, PolicyList.class, PolicyDelete.class})
    public static final class Policy implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            throw new ParameterException(spec.commandLine(), "Missing required subcommand");
        }
    }

    @Command(name = "create", description = "Create a policy", mixinStandardHelpOptions = true)
    public static final class PolicyCreate implements Callable<Integer> {
        private final CliIo io;
        @Spec
        CommandSpec spec;
        @Mixin
        HttpAddressOption addr;
        @Option(names = {"-name", "--name"}, paramLabel = "NAME", description = "Policy name", required = true)
        String name;
        @Option(names = {"-description", "--description"}, paramLabel = "TEXT")
        String description;
        @Option(names = {"-rules", "--rules"}, paramLabel = "RULES|@FILE", description = "Rules (HCL or JSON)")
        String rules;

        public PolicyCreate(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            String text = rules == null ? "" : rules;
            if (text.startsWith("@")) {
                try {
                    text = Files.readString(Path.of(text.substring(1)), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new ParameterException(spec.commandLine(), "Cannot read rules file: " + e.getMessage());
                }
            }
            ObjectNode body = KvCommand.JSON.createObjectNode();
            body.put("Name", name);
            body.put("Description", description == null ? "" : description);
            body.put("Rules", text);
            ApiClient.Response r = ApiClient.check(addr.client(io).put("/v1/acl/policy", json(body)),
                    "Failed to create new policy");
            printPolicy(io.out(), KvCommand.parse(r.body()));
            return 0;
        }
    }

    @Command(name = "list", description = "List policies", mixinStandardHelpOptions = true)
    public static final class PolicyList implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;

        public PolicyList(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            ApiClient.Response r = ApiClient.check(addr.client(io).get("/v1/acl/policies"),
                    "Failed to retrieve the policy list");
            for (JsonNode p : KvCommand.parse(r.body())) {
                io.out().println(p.path("Name").asText() + ":");
                io.out().println("   ID:           " + p.path("ID").asText());
                io.out().println("   Description:  " + p.path("Description").asText());
            }
            return 0;
        }
    }

    @Command(name = "token", description = "Create and list ACL tokens",
            subcommands = {TokenCreate.class, TokenList.class, TokenRead.class, TokenDelete.class})
    public static final class Token implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            throw new ParameterException(spec.commandLine(), "Missing required subcommand");
        }
    }

    @Command(name = "create", description = "Create a token", mixinStandardHelpOptions = true)
    public static final class TokenCreate implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;
        @Option(names = {"-description", "--description"}, paramLabel = "TEXT")
        String description;
        @Option(names = {"-policy-name", "--policy-name"}, paramLabel = "NAME", description = "Repeatable")
        List<String> policyNames = new ArrayList<>();
        @Option(names = {"-policy-id", "--policy-id"}, paramLabel = "ID", description = "Repeatable")
        List<String> policyIds = new ArrayList<>();

        public TokenCreate(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            ObjectNode body = KvCommand.JSON.createObjectNode();
            body.put("Description", description == null ? "" : description);
            ArrayNode links = body.putArray("Policies");
            policyNames.forEach(n -> links.addObject().put("Name", n));
            policyIds.forEach(id -> links.addObject().put("ID", id));
            ApiClient.Response r = ApiClient.check(addr.client(io).put("/v1/acl/token", json(body)),
                    "Failed to create new token");
            printToken(io.out(), KvCommand.parse(r.body()));
            return 0;
        }
    }

    @Command(name = "list", description = "List tokens (secrets are not shown: only their hash is stored)",
            mixinStandardHelpOptions = true)
    public static final class TokenList implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;

        public TokenList(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            ApiClient.Response r = ApiClient.check(addr.client(io).get("/v1/acl/tokens"),
                    "Failed to retrieve the token list");
            boolean first = true;
            for (JsonNode t : KvCommand.parse(r.body())) {
                if (!first) {
                    io.out().println();
                }
                first = false;
                printToken(io.out(), t);
            }
            return 0;
        }
    }

    @Command(name = "delete", description = "Delete a policy", mixinStandardHelpOptions = true)
    public static final class PolicyDelete implements Callable<Integer> {
        private final CliIo io;
        @Spec
        CommandSpec spec;
        @Mixin
        HttpAddressOption addr;
        @Option(names = {"-id", "--id"}, paramLabel = "ID")
        String id;
        @Option(names = {"-name", "--name"}, paramLabel = "NAME")
        String name;

        public PolicyDelete(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            if ((id == null) == (name == null)) {
                throw new ParameterException(spec.commandLine(), "Exactly one of -id or -name is required");
            }
            ApiClient client = addr.client(io);
            String policyId = id;
            if (policyId == null) {
                ApiClient.Response r = ApiClient.check(client.get("/v1/acl/policy/name/" + ApiClient.encodeQuery(name)),
                        "Failed to read policy " + name);
                policyId = KvCommand.parse(r.body()).path("ID").asText();
            }
            ApiClient.check(client.delete("/v1/acl/policy/" + ApiClient.encodeQuery(policyId)),
                    "Failed to delete policy " + policyId);
            io.out().println("Policy \"" + policyId + "\" deleted successfully");
            return 0;
        }
    }

    @Command(name = "read", description = "Show a token (its secret only with -self)", mixinStandardHelpOptions = true)
    public static final class TokenRead implements Callable<Integer> {
        private final CliIo io;
        @Spec
        CommandSpec spec;
        @Mixin
        HttpAddressOption addr;
        @Option(names = {"-id", "--id"}, paramLabel = "ACCESSOR_ID")
        String id;
        @Option(names = {"-self", "--self"}, description = "The token this command runs with")
        boolean self;

        public TokenRead(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            if ((id == null) == !self) {
                throw new ParameterException(spec.commandLine(), "Exactly one of -id or -self is required");
            }
            String path = self ? "/v1/acl/token/self" : "/v1/acl/token/" + ApiClient.encodeQuery(id);
            ApiClient.Response r = ApiClient.check(addr.client(io).get(path), "Failed to read token");
            printToken(io.out(), KvCommand.parse(r.body()));
            return 0;
        }
    }

    @Command(name = "delete", description = "Delete a token", mixinStandardHelpOptions = true)
    public static final class TokenDelete implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;
        @Option(names = {"-id", "--id"}, paramLabel = "ACCESSOR_ID", required = true)
        String id;

        public TokenDelete(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            ApiClient.check(addr.client(io).delete("/v1/acl/token/" + ApiClient.encodeQuery(id)),
                    "Failed to delete token " + id);
            io.out().println("Token \"" + id + "\" deleted successfully");
            return 0;
        }
    }

    private static byte[] json(JsonNode n) {
        try {
            return KvCommand.JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new CliFailure("Error! " + e.getMessage());
        }
    }

    static void printToken(PrintWriter out, JsonNode t) {
        out.println("AccessorID:       " + t.path("AccessorID").asText());
        out.println("SecretID:         " + t.path("SecretID").asText());
        out.println("Description:      " + t.path("Description").asText());
        out.println("Local:            " + t.path("Local").asBoolean());
        out.println("Create Time:      " + t.path("CreateTime").asText());
        out.println("Policies:");
        for (JsonNode p : t.path("Policies")) {
            out.println("   " + p.path("ID").asText() + " - " + p.path("Name").asText());
        }
    }

    static void printPolicy(PrintWriter out, JsonNode p) {
        out.println("ID:           " + p.path("ID").asText());
        out.println("Name:         " + p.path("Name").asText());
        out.println("Description:  " + p.path("Description").asText());
        out.println("Rules:");
        out.println(p.path("Rules").asText());
    }
}
