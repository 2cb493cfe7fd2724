package dev.weft.cni;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A stand-in agent for benchmarks and manual runs (bench/cni.sh): a {@link CniLab} with one simulated host and its
 * CNI server. Prints {@code ready <socket> <host namespace> <prefix>} on stdout, serves until stdin closes (or
 * SIGTERM), then removes everything it made. Root only.
 *
 * <pre>java -cp cni/target/test-classes:CLASSPATH dev.weft.cni.CniTestAgent WORK_DIR</pre>
 */
public final class CniTestAgent {
    private CniTestAgent() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: CniTestAgent WORK_DIR");
            System.exit(2);
        }
        CniLab lab = CniLab.start(Path.of(args[0]));
        Runtime.getRuntime().addShutdownHook(new Thread(lab::close, "cni-test-agent-cleanup"));
        CniLab.Host h = lab.host(1);
        System.out.println("ready " + h.socket() + " " + h.ns() + " " + lab.prefix);
        System.out.flush();
        while (System.in.read() >= 0) {
            // serve until stdin closes
        }
        lab.close();
        System.exit(0);
    }
}
