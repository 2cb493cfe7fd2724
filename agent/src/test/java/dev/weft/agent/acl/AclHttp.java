package dev.weft.agent.acl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** HTTP calls with an ACL token (X-Consul-Token), and the setup steps the ACL tests share. */
final class AclHttp {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private AclHttp() {
    }

    record Resp(int status, byte[] bytes) {
        String body() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        JsonNode json() {
            try {
                return JSON.readTree(bytes);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body(), e);
            }
        }
    }

    /** {@code token} null: no token; the header can also be given as "Authorization: Bearer x" via {@link #send}. */
    static Resp call(String base, String token, String method, String path, String body) {
        return send(base, token == null ? null : new String[] {"X-Consul-Token", token}, method, path,
                body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    static Resp send(String base, String[] header, String method, String path, byte[] body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (header != null) {
            b.header(header[0], header[1]);
        }
        try {
            HttpResponse<byte[]> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Resp(r.statusCode(), r.body());
        } catch (IOException e) {
            throw new AssertionError(method + " " + path + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static Resp ok(Resp r, String what) {
        if (r.status() != 200) {
            throw new AssertionError(what + ": HTTP " + r.status() + " " + r.body());
        }
        return r;
    }

    /** Creates a policy with the management token; returns its ID. */
    static String policy(String base, String mgmt, String name, String rules) {
        ObjectNode body = JSON.createObjectNode().put("Name", name).put("Rules", rules);
        return ok(call(base, mgmt, "PUT", "/v1/acl/policy", body.toString()), "create policy " + name)
                .json().path("ID").asText();
    }

    /** Creates a token linked to the named policy, with the given secret (null: generated); returns the secret. */
    static String token(String base, String mgmt, String policyName, String secret) {
        ObjectNode body = JSON.createObjectNode().put("Description", "test " + policyName);
        if (secret != null) {
            body.put("SecretID", secret);
        }
        body.putArray("Policies").addObject().put("Name", policyName);
        return ok(call(base, mgmt, "PUT", "/v1/acl/token", body.toString()), "create token " + policyName)
                .json().path("SecretID").asText();
    }
}
