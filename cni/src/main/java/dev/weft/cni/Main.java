package dev.weft.cni;

import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The {@code weft-cni} executable, run by a container runtime as the CNI spec says: the command and the
 * attachment in {@code CNI_COMMAND}, {@code CNI_CONTAINERID}, {@code CNI_NETNS}, {@code CNI_IFNAME},
 * {@code CNI_ARGS}, {@code CNI_PATH}, the network configuration on stdin; the result or error JSON on stdout, exit 0
 * on success and 1 on an error.
 *
 * <p>VERSION is answered here; a missing or unknown {@code CNI_COMMAND} (code 4) and stdin that is not JSON
 * (code 6) are refused here. Every other command is sent to the weft agent as one HTTP POST of a JSON envelope
 * {@code {"command","containerId","netns","ifName","args","path","config"}} over its unix socket (the config's
 * {@code agentSocket}, else {@code WEFT_CNI_SOCKET}, else {@value #DEFAULT_SOCKET}); an agent that cannot be
 * reached is error 11 (try again later), or 50 (not available) for STATUS.
 *
 * <p>JDK only and written for a fast start: few classes, no lambdas, no string-concatenation bootstraps (the
 * module compiles with {@code -XDstringConcat=inline}).
 */
public final class Main {
    static final String DEFAULT_SOCKET = "/run/weft/cni.sock";
    static final String LATEST = "1.1.0";
    static final String SUPPORTED = "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]";
    static final String PATH = "/v1/cni";

    private Main() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 1 && args[0].equals("--training-run")) {
            Training.run();
            return;
        }
        byte[] stdin = readAll(System.in);
        Outcome o = run(System.getenv(), stdin);
        FileOutputStream out = new FileOutputStream(FileDescriptor.out);
        if (o.output.length > 0) {
            out.write(o.output);
            if (o.output[o.output.length - 1] != '\n') {
                out.write('\n');
            }
        }
        out.flush();
        System.exit(o.exitCode);
    }

    /** What to print and the exit code. */
    static final class Outcome {
        final int exitCode;
        final byte[] output;

        Outcome(int exitCode, byte[] output) {
            this.exitCode = exitCode;
            this.output = output;
        }

        String text() {
            return new String(output, StandardCharsets.UTF_8);
        }
    }

    /** One invocation: the environment and stdin → what to print and the exit code. */
    static Outcome run(Map<String, String> env, byte[] stdin) {
        String command = env.get("CNI_COMMAND");
        String text = new String(stdin, StandardCharsets.UTF_8);
        Map<String, String> config = null;
        String configError = null;
        if (!text.isBlank()) {
            try {
                config = Json.topLevelStrings(text);
            } catch (IllegalArgumentException e) {
                configError = e.getMessage();
            }
        }
        String version = config != null && isSupported(config.get("cniVersion")) ? config.get("cniVersion") : LATEST;
        if (command == null || command.isEmpty()) {
            return error(version, 4, "CNI_COMMAND is not set", "");
        }
        if ("VERSION".equals(command)) {
            return new Outcome(0, utf8("{\"cniVersion\":\"" + LATEST + "\",\"supportedVersions\":" + SUPPORTED
                    + "}"));
        }
        if (!("ADD".equals(command) || "DEL".equals(command) || "CHECK".equals(command) || "GC".equals(command)
                || "STATUS".equals(command))) {
            return error(version, 4, "CNI_COMMAND '" + command + "' is not one of ADD, DEL, CHECK, GC, STATUS, VERSION",
                    "");
        }
        if (configError != null) {
            return error(version, 6, "cannot read the network configuration on stdin", configError);
        }
        if (config == null) {
            return error(version, 6, "no network configuration on stdin", "");
        }
        String socket = config.get("agentSocket");
        if (socket == null || socket.isEmpty()) {
            socket = env.get("WEFT_CNI_SOCKET");
        }
        if (socket == null || socket.isEmpty()) {
            socket = DEFAULT_SOCKET;
        }
        StringBuilder e = new StringBuilder(stdin.length + 512);
        e.append("{\"command\":");
        Json.quote(e, command);
        field(e, "containerId", env.get("CNI_CONTAINERID"));
        field(e, "netns", env.get("CNI_NETNS"));
        field(e, "ifName", env.get("CNI_IFNAME"));
        field(e, "args", env.get("CNI_ARGS"));
        field(e, "path", env.get("CNI_PATH"));
        e.append(",\"config\":").append(text.trim()).append('}');
        Reply reply;
        try {
            reply = post(socket, utf8(e.toString()));
        } catch (IOException ex) {
            return error(version, "STATUS".equals(command) ? 50 : 11, "the weft agent is not reachable at " + socket,
                    String.valueOf(ex.getMessage()));
        }
        if (reply.status == 200) {
            return new Outcome(0, reply.body);
        }
        String body = new String(reply.body, StandardCharsets.UTF_8).trim();
        if (body.startsWith("{")) {
            return new Outcome(1, reply.body);
        }
        return error(version, 999, "the weft agent answered HTTP " + reply.status, body);
    }

    private static boolean isSupported(String v) {
        return v != null && SUPPORTED.contains("\"" + v + "\"");
    }

    private static void field(StringBuilder b, String name, String value) {
        b.append(",\"").append(name).append("\":");
        if (value == null) {
            b.append("null");
        } else {
            Json.quote(b, value);
        }
    }

    static Outcome error(String version, int code, String msg, String details) {
        StringBuilder b = new StringBuilder(128);
        b.append("{\"cniVersion\":");
        Json.quote(b, version);
        b.append(",\"code\":").append(code).append(",\"msg\":");
        Json.quote(b, msg);
        if (details != null && !details.isEmpty()) {
            b.append(",\"details\":");
            Json.quote(b, details);
        }
        b.append('}');
        return new Outcome(1, utf8(b.toString()));
    }

    /** An HTTP answer: status and body. */
    static final class Reply {
        final int status;
        final byte[] body;

        Reply(int status, byte[] body) {
            this.status = status;
            this.body = body;
        }
    }

    /** One HTTP/1.1 POST of {@code body} to {@value #PATH} over the unix socket, then the connection is closed. */
    static Reply post(String socket, byte[] body) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            String head = "POST " + PATH + " HTTP/1.1\r\nHost: weft\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
            ByteBuffer out = ByteBuffer.allocate(head.length() + body.length);
            out.put(head.getBytes(StandardCharsets.ISO_8859_1)).put(body).flip();
            while (out.hasRemaining()) {
                ch.write(out);
            }
            ByteArrayOutputStream in = new ByteArrayOutputStream(4096);
            ByteBuffer buf = ByteBuffer.allocate(16384);
            boolean headersSeen = false;
            long need = -1; // the answer's total size, once its headers say it
            while (need < 0 || in.size() < need) {
                buf.clear();
                int n = ch.read(buf);
                if (n < 0) {
                    break;
                }
                in.write(buf.array(), 0, n);
                if (!headersSeen) {
                    byte[] sofar = in.toByteArray();
                    int end = indexOf(sofar, "\r\n\r\n");
                    if (end >= 0) {
                        headersSeen = true;
                        long length = contentLength(new String(sofar, 0, end, StandardCharsets.ISO_8859_1));
                        need = length < 0 ? -1 : end + 4 + length; // without a length: to the end of the stream
                    }
                }
            }
            byte[] all = in.toByteArray();
            int end = indexOf(all, "\r\n\r\n");
            if (end < 0) {
                throw new IOException("the agent closed the connection without an answer");
            }
            String headers = new String(all, 0, end, StandardCharsets.ISO_8859_1);
            int status;
            try {
                status = Integer.parseInt(headers.substring(9, 12));
            } catch (RuntimeException e) {
                throw new IOException("not an HTTP answer: " + headers);
            }
            long length = contentLength(headers);
            int from = end + 4;
            int to = length < 0 ? all.length : (int) Math.min(all.length, from + length);
            byte[] answer = new byte[to - from];
            System.arraycopy(all, from, answer, 0, answer.length);
            return new Reply(status, answer);
        }
    }

    static long contentLength(String headers) {
        // no String.split: a two-character separator compiles a regex, which costs a call milliseconds
        for (int start = 0; start < headers.length(); ) {
            int eol = headers.indexOf("\r\n", start);
            String line = headers.substring(start, eol < 0 ? headers.length() : eol);
            start = eol < 0 ? headers.length() : eol + 2;
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
                return Long.parseLong(line.substring(colon + 1).trim());
            }
        }
        return -1;
    }

    private static int indexOf(byte[] data, String what) {
        outer:
        for (int i = 0; i + what.length() <= data.length; i++) {
            for (int j = 0; j < what.length(); j++) {
                if (data[i + j] != what.charAt(j)) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        return in.readAllBytes();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
