package dev.weft.agent.cli;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code weft kv get|put|delete|export|import|watch}: the KV store through the HTTP API. */
@Command(name = "kv", description = "Read and write the key/value store",
        subcommands = {KvCommand.Get.class, KvCommand.Put.class, KvCommand.Delete.class, KvCommand.Export.class,
                KvCommand.Import.class, KvCommand.Watch.class})
public final class KvCommand implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    @Command(name = "get", description = "Print the value of a key, or the keys/values under a prefix",
            mixinStandardHelpOptions = true)
    public static final class Get implements Callable<Integer> {
        private final CliIo io;
        @Spec
        CommandSpec spec;
        @Mixin
        HttpAddressOption addr;
        @Parameters(index = "0", arity = "0..1", paramLabel = "KEY", description = "Key or prefix")
        String key;
        @Option(names = {"-recurse", "--recurse"}, description = "Print every key and value under the prefix")
        boolean recurse;
        @Option(names = {"-keys", "--keys"}, description = "List keys under the prefix, folded at the separator")
        boolean keys;
        @Option(names = {"-separator", "--separator"}, defaultValue = "/", description = "Separator for -keys")
        String separator;
        @Option(names = {"-detailed", "--detailed"}, description = "Print all fields of each entry")
        boolean detailed;
        @Option(names = {"-base64", "--base64"}, description = "Print values base64-encoded")
        boolean base64;

        public Get(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            String k = key == null ? "" : key;
            if (k.isEmpty() && !recurse && !keys) {
                throw new ParameterException(spec.commandLine(), "Missing KEY argument");
            }
            ApiClient api = addr.client(io);
            PrintWriter out = io.out();
            if (keys) {
                ApiClient.Response r = api.get("/v1/kv/" + ApiClient.encodePath(k) + "?keys&separator="
                        + ApiClient.encodeQuery(separator));
                if (r.status() == 404) {
                    return 0;
                }
                ApiClient.check(r, "Failed to list keys");
                for (JsonNode n : parse(r.body())) {
                    out.println(n.asText());
                }
                out.flush();
                return 0;
            }
            ApiClient.Response r = api.get("/v1/kv/" + ApiClient.encodePath(k) + (recurse ? "?recurse" : ""));
            if (r.status() == 404) {
                if (recurse) {
                    return 0;
                }
                io.err().println("Error! No key exists at: " + k);
                io.err().flush();
                return 1;
            }
            ApiClient.check(r, "Failed to get " + k);
            JsonNode entries = parse(r.body());
            boolean first = true;
            for (JsonNode e : entries) {
                if (detailed) {
                    if (!first) {
                        out.println();
                    }
                    printDetailed(out, e);
                } else if (recurse) {
                    out.println(e.path("Key").asText() + ":" + value(e));
                } else {
                    out.println(value(e));
                }
                first = false;
            }
            out.flush();
            return 0;
        }

        private String value(JsonNode e) {
            byte[] v = decode(e);
            return base64 ? Base64.getEncoder().encodeToString(v) : new String(v, StandardCharsets.UTF_8);
        }

        private void printDetailed(PrintWriter out, JsonNode e) {
            TextTable t = new TextTable("CreateIndex", e.path("CreateIndex").asText());
            t.row("Flags", e.path("Flags").asText());
            t.row("Key", e.path("Key").asText());
            t.row("LockIndex", e.path("LockIndex").asText());
            t.row("ModifyIndex", e.path("ModifyIndex").asText());
            t.row("Session", e.hasNonNull("Session") ? e.get("Session").asText() : "-");
            t.row("Value", value(e));
            t.print(out);
        }
    }

    @Command(name = "put", description = "Write a value (DATA, '-' for stdin or @FILE)", mixinStandardHelpOptions = true)
    public static final class Put implements Callable<Integer> {
        private final CliIo io;
        @Spec
        CommandSpec spec;
        @Mixin
        HttpAddressOption addr;
        @Parameters(index = "0", paramLabel = "KEY")
        String key;
        @Parameters(index = "1", arity = "0..1", paramLabel = "DATA", description = "Value, '-' for stdin, @FILE")
        String data;
        @Option(names = {"-flags", "--flags"}, paramLabel = "N", description = "Unsigned 64-bit flags")
        String flags;
        @Option(names = {"-cas", "--cas"}, description = "Check-and-set against -modify-index")
        boolean cas;
        @Option(names = {"-modify-index", "--modify-index"}, paramLabel = "N", description = "Index for -cas")
        Long modifyIndex;
        @Option(names = {"-acquire", "--acquire"}, description = "Acquire the lock with -session")
        boolean acquire;
        @Option(names = {"-release", "--release"}, description = "Release the lock held by -session")
        boolean release;
        @Option(names = {"-session", "--session"}, paramLabel = "ID", description = "Session for -acquire/-release")
        String session;
        @Option(names = {"-base64", "--base64"}, description = "DATA is base64-encoded")
        boolean base64;

        public Put(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            int modes = (cas ? 1 : 0) + (acquire ? 1 : 0) + (release ? 1 : 0);
            if (modes > 1) {
                throw new ParameterException(spec.commandLine(), "Only one of -cas, -acquire, -release may be given");
            }
            if (cas && modifyIndex == null) {
                throw new ParameterException(spec.commandLine(), "Must specify -modify-index with -cas");
            }
            if ((acquire || release) && (session == null || session.isEmpty())) {
                throw new ParameterException(spec.commandLine(), "Must specify -session with -acquire or -release");
            }
            StringBuilder q = new StringBuilder();
            if (flags != null) {
                try {
                    Long.parseUnsignedLong(flags);
                } catch (NumberFormatException e) {
                    throw new ParameterException(spec.commandLine(), "Invalid -flags: " + flags);
                }
                q.append("&flags=").append(flags);
            }
            if (cas) {
                q.append("&cas=").append(modifyIndex);
            } else if (acquire) {
                q.append("&acquire=").append(ApiClient.encodeQuery(session));
            } else if (release) {
                q.append("&release=").append(ApiClient.encodeQuery(session));
            }
            byte[] value = readData(io, data, spec);
            if (base64) {
                try {
                    value = Base64.getDecoder().decode(new String(value, StandardCharsets.UTF_8).strip());
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), "DATA is not valid base64");
                }
            }
            String query = q.length() == 0 ? "" : "?" + q.substring(1);
            ApiClient.Response r = addr.client(io).put("/v1/kv/" + ApiClient.encodePath(key) + query, value);
            ApiClient.check(r, "Failed writing data");
            boolean ok = r.text().equals("true");
            PrintWriter out = io.out();
            if (!ok) {
                String why = cas ? "Did not write to " + key + ": CAS failed"
                        : acquire ? "Did not acquire lock on " + key
                        : release ? "Did not release lock on " + key
                        : "Did not write to " + key;
                io.err().println("Error! " + why);
                io.err().flush();
                return 1;
            }
            out.println(acquire ? "Success! Lock acquired on: " + key
                    : release ? "Success! Lock released on: " + key
                    : "Success! Data written to: " + key);
            out.flush();
            return 0;
        }
    }

    @Command(name = "delete", description = "Delete a key, or every key under a prefix", mixinStandardHelpOptions = true)
    public static final class Delete implements Callable<Integer> {
        private final CliIo io;
        @Spec
        CommandSpec spec;
        @Mixin
        HttpAddressOption addr;
        @Parameters(index = "0", arity = "0..1", paramLabel = "KEY")
        String key;
        @Option(names = {"-recurse", "--recurse"}, description = "Delete every key under the prefix")
        boolean recurse;
        @Option(names = {"-cas", "--cas"}, description = "Check-and-set against -modify-index")
        boolean cas;
        @Option(names = {"-modify-index", "--modify-index"}, paramLabel = "N", description = "Index for -cas")
        Long modifyIndex;

        public Delete(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            String k = key == null ? "" : key;
            if (k.isEmpty() && !recurse) {
                throw new ParameterException(spec.commandLine(), "Missing KEY argument");
            }
            if (cas && recurse) {
                throw new ParameterException(spec.commandLine(), "Cannot specify both -cas and -recurse");
            }
            if (cas && modifyIndex == null) {
                throw new ParameterException(spec.commandLine(), "Must specify -modify-index with -cas");
            }
            String query = recurse ? "?recurse" : cas ? "?cas=" + modifyIndex : "";
            ApiClient.Response r = addr.client(io).delete("/v1/kv/" + ApiClient.encodePath(k) + query);
            ApiClient.check(r, "Failed deleting " + k);
            if (!r.text().equals("true")) {
                io.err().println("Error! Did not delete key " + k + ": CAS failed");
                io.err().flush();
                return 1;
            }
            io.out().println(recurse ? "Success! Deleted keys with prefix: " + k : "Success! Deleted key: " + k);
            io.out().flush();
            return 0;
        }
    }

    @Command(name = "export", description = "Print the keys under a prefix as JSON (key, flags, base64 value)",
            mixinStandardHelpOptions = true)
    public static final class Export implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;
        @Parameters(index = "0", arity = "0..1", paramLabel = "PREFIX")
        String prefix;

        public Export(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException, IOException {
            String p = prefix == null ? "" : prefix;
            ApiClient.Response r = addr.client(io).get("/v1/kv/" + ApiClient.encodePath(p) + "?recurse");
            ArrayNode out = JSON.createArrayNode();
            if (r.status() != 404) {
                ApiClient.check(r, "Failed exporting " + p);
                for (JsonNode e : parse(r.body())) {
                    ObjectNode o = out.addObject();
                    o.put("key", e.path("Key").asText());
                    o.set("flags", e.path("Flags"));
                    o.put("value", e.hasNonNull("Value") ? e.get("Value").asText() : "");
                }
            }
            DefaultIndenter tab = new DefaultIndenter("\t", "\n");
            DefaultPrettyPrinter pp = new DefaultPrettyPrinter()
                    .withSeparators(Separators.createDefaultInstance()
                            .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
                    .withObjectIndenter(tab);
            pp.indentArraysWith(tab);
            io.out().println(JSON.writer(pp).writeValueAsString(out));
            io.out().flush();
            return 0;
        }
    }

    @Command(name = "import", description = "Write the entries of an export (FILE, @FILE, '-' for stdin, or JSON)",
            mixinStandardHelpOptions = true)
    public static final class Import implements Callable<Integer> {
        /** Transactions are kept well under the agent's 4 MiB body limit. */
        static final int MAX_CHUNK_BYTES = 1024 * 1024;
        static final int MAX_CHUNK_OPS = 128;

        private final CliIo io;
        @Spec
        CommandSpec spec;
        @Mixin
        HttpAddressOption addr;
        @Parameters(index = "0", arity = "0..1", paramLabel = "DATA", defaultValue = "-")
        String data;
        @Option(names = {"-prefix", "--prefix"}, description = "Key prefix to prepend to every imported key")
        String prefix = "";

        public Import(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            byte[] raw = data.startsWith("[") ? data.getBytes(StandardCharsets.UTF_8) : readData(io,
                    data.equals("-") || data.startsWith("@") ? data : "@" + data, spec);
            JsonNode entries;
            try {
                entries = JSON.readTree(raw);
            } catch (IOException e) {
                throw new CliFailure("Error! Cannot parse import data: " + firstLine(e.getMessage()));
            }
            if (entries == null || !entries.isArray()) {
                throw new CliFailure("Error! Import data must be a JSON array of {key, flags, value}");
            }
            ApiClient api = addr.client(io);
            List<ObjectNode> chunk = new ArrayList<>();
            List<String> chunkKeys = new ArrayList<>();
            int bytes = 2;
            for (JsonNode e : entries) {
                String key = prefix + e.path("key").asText();
                ObjectNode op = JSON.createObjectNode();
                ObjectNode kv = op.putObject("KV");
                kv.put("Verb", "set");
                kv.put("Key", key);
                kv.set("Flags", e.has("flags") ? e.get("flags") : JSON.getNodeFactory().numberNode(0));
                kv.put("Value", e.path("value").asText(""));
                int size = key.length() + e.path("value").asText("").length() + 64;
                if (!chunk.isEmpty() && (chunk.size() >= MAX_CHUNK_OPS || bytes + size > MAX_CHUNK_BYTES)) {
                    send(api, chunk, chunkKeys);
                    bytes = 2;
                }
                chunk.add(op);
                chunkKeys.add(key);
                bytes += size;
            }
            if (!chunk.isEmpty()) {
                send(api, chunk, chunkKeys);
            }
            return 0;
        }

        private void send(ApiClient api, List<ObjectNode> chunk, List<String> keys) throws InterruptedException {
            ArrayNode body = JSON.createArrayNode();
            chunk.forEach(body::add);
            byte[] bytes;
            try {
                bytes = JSON.writeValueAsBytes(body);
            } catch (IOException e) {
                throw new CliFailure("Error! " + e.getMessage());
            }
            ApiClient.Response r = api.put("/v1/txn", bytes);
            if (r.status() == 409) {
                StringBuilder sb = new StringBuilder("Error! Import transaction rolled back:");
                for (JsonNode err : parse(r.body()).path("Errors")) {
                    int i = err.path("OpIndex").asInt();
                    sb.append("\n  ").append(i < keys.size() ? keys.get(i) : "op " + i).append(": ")
                            .append(err.path("What").asText());
                }
                throw new CliFailure(sb.toString());
            }
            ApiClient.check(r, "Failed importing");
            for (String k : keys) {
                io.out().println("Imported: " + k);
            }
            io.out().flush();
            chunk.clear();
            keys.clear();
        }
    }

    @Command(name = "watch", description = "Print each change under a prefix as it happens (until interrupted)",
            mixinStandardHelpOptions = true)
    public static final class Watch implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;
        @Parameters(index = "0", arity = "0..1", paramLabel = "PREFIX")
        String prefix;
        @Option(names = {"-wait", "--wait"}, defaultValue = "5m", description = "Blocking query wait (default 5m)")
        String wait;

        public Watch(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() {
            String p = prefix == null ? "" : prefix;
            ApiClient api = addr.client(io);
            Map<String, Long> seen = new LinkedHashMap<>();
            long index = 0;
            long backoffMillis = 0;
            PrintWriter out = io.out();
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    ApiClient.Response r;
                    try {
                        String path = "/v1/kv/" + ApiClient.encodePath(p) + "?recurse&wait="
                                + ApiClient.encodeQuery(wait) + (index > 0 ? "&index=" + index : "");
                        r = api.get(path);
                        if (r.status() != 404) {
                            ApiClient.check(r, "Watch failed");
                        }
                        backoffMillis = 0;
                    } catch (CliFailure e) {
                        io.err().println(e.getMessage());
                        io.err().flush();
                        backoffMillis = Math.min(10_000, Math.max(500, backoffMillis * 2));
                        Thread.sleep(backoffMillis);
                        continue;
                    }
                    long newIndex = r.index();
                    Map<String, JsonNode> now = new LinkedHashMap<>();
                    if (r.status() != 404) {
                        for (JsonNode e : parse(r.body())) {
                            now.put(e.path("Key").asText(), e);
                        }
                    }
                    for (Map.Entry<String, JsonNode> e : now.entrySet()) {
                        long modify = e.getValue().path("ModifyIndex").asLong();
                        Long before = seen.get(e.getKey());
                        if (before == null || before != modify) {
                            out.println("set " + e.getKey() + " "
                                    + new String(decode(e.getValue()), StandardCharsets.UTF_8));
                            seen.put(e.getKey(), modify);
                        }
                    }
                    for (String gone : new ArrayList<>(seen.keySet())) {
                        if (!now.containsKey(gone)) {
                            out.println("delete " + gone);
                            seen.remove(gone);
                        }
                    }
                    out.flush();
                    // Consul's rule: an index that goes backwards (restore, new cluster) resets to 0.
                    index = newIndex < index ? 0 : newIndex;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }
    }

    static JsonNode parse(byte[] body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new CliFailure("Error! Unexpected answer from the agent: " + firstLine(e.getMessage()));
        }
    }

    static String firstLine(String s) {
        if (s == null) {
            return "invalid JSON";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    static byte[] decode(JsonNode entry) {
        JsonNode v = entry.get("Value");
        return v == null || v.isNull() ? new byte[0] : Base64.getDecoder().decode(v.asText());
    }

    /** DATA as Consul's CLI reads it: '-' is stdin, '@path' a file, anything else the literal text. */
    static byte[] readData(CliIo io, String data, CommandSpec spec) {
        if (data == null) {
            return new byte[0];
        }
        try {
            if (data.equals("-")) {
                return io.in().readAllBytes();
            }
            if (data.startsWith("@")) {
                return Files.readAllBytes(Path.of(data.substring(1)));
            }
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "Cannot read " + data + ": " + e.getMessage());
        }
        return data.getBytes(StandardCharsets.UTF_8);
    }
}
