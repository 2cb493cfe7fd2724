package dev.weft.agent.cli;

import dev.weft.agent.tls.CertificateIssuer;
import dev.weft.kvstore.tls.TlsException;
import dev.weft.kvstore.tls.TlsMaterial;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code weft tls ca create} and {@code weft tls cert create -server|-client}, like {@code consul tls}: files in
 * the current directory (or {@code -dir}), never overwritten. Usage errors exit 2, other failures 1.
 */
@Command(name = "tls", description = "Create a CA and agent certificates for TLS between agents",
        subcommands = {TlsCommand.Ca.class, TlsCommand.Cert.class})
public final class TlsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    /** The file names of the CA of {@code domain}: {@code <domain>-agent-ca.pem} and its key. */
    static String caFile(String domain) {
        return domainLabel(domain) + "-agent-ca.pem";
    }

    static String caKeyFile(String domain) {
        return domainLabel(domain) + "-agent-ca-key.pem";
    }

    private static String domainLabel(String domain) {
        return domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
    }

    @Command(name = "ca", description = "Certificate authority", subcommands = CaCreate.class)
    public static final class Ca implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            throw new ParameterException(spec.commandLine(), "Missing required subcommand");
        }
    }

    @Command(name = "cert", description = "Agent certificates", subcommands = CertCreate.class)
    public static final class Cert implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            throw new ParameterException(spec.commandLine(), "Missing required subcommand");
        }
    }

    @Command(name = "create", description = "Create a new CA: <domain>-agent-ca.pem and <domain>-agent-ca-key.pem",
            mixinStandardHelpOptions = true)
    public static final class CaCreate implements Callable<Integer> {
        private final CliIo io;
        @Spec
        CommandSpec spec;
        @Option(names = {"-days", "--days"}, paramLabel = "N", description = "Days the CA is valid (1825)")
        int days = 1825;
        @Option(names = {"-domain", "--domain"}, paramLabel = "DOMAIN", description = "Domain (weft)")
        String domain = "weft";
        @Option(names = {"-dir", "--dir"}, paramLabel = "DIR", description = "Where to write (current directory)")
        Path dir = Path.of("");

        public CaCreate(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() {
            checkDays(spec, days);
            checkDomain(spec, domain);
            Path cert = dir.resolve(caFile(domain));
            Path key = dir.resolve(caKeyFile(domain));
            refuseExisting(cert, key);
            CertificateIssuer.Issued ca;
            try {
                ca = CertificateIssuer.createCa(days, Instant.now());
                write(cert, CertificateIssuer.pem(ca.certificate()), false);
                write(key, CertificateIssuer.pem(ca.key()), true);
            } catch (GeneralSecurityException e) {
                throw new CliFailure("Error creating the CA: " + e.getMessage());
            }
            io.out().println("==> Saved " + cert);
            io.out().println("==> Saved " + key);
            io.out().flush();
            return 0;
        }
    }

    @Command(name = "create", description = "Create a server or client certificate signed by the CA: "
            + "<dc>-server-<domain>-N.pem / <dc>-client-<domain>-N.pem and -key.pem (N: the next free number)",
            mixinStandardHelpOptions = true)
    public static final class CertCreate implements Callable<Integer> {
        private final CliIo io;
        @Spec
        CommandSpec spec;
        @Option(names = {"-server", "--server"}, description = "A server certificate")
        boolean server;
        @Option(names = {"-client", "--client"}, description = "A client agent certificate")
        boolean client;
        @Option(names = {"-dc", "--dc"}, paramLabel = "DC", description = "Datacenter (dc1)")
        String dc = "dc1";
        @Option(names = {"-domain", "--domain"}, paramLabel = "DOMAIN", description = "Domain (weft)")
        String domain = "weft";
        @Option(names = {"-ca", "--ca"}, paramLabel = "FILE", description = "CA certificate (<domain>-agent-ca.pem)")
        Path caPath;
        @Option(names = {"-key", "--key"}, paramLabel = "FILE",
                description = "CA private key (<domain>-agent-ca-key.pem)")
        Path caKeyPath;
        @Option(names = {"-days", "--days"}, paramLabel = "N", description = "Days the certificate is valid (365)")
        int days = 365;
        @Option(names = {"-additional-dnsname", "--additional-dnsname"}, paramLabel = "NAME",
                description = "Another DNS name (repeatable)")
        List<String> dnsNames = new ArrayList<>();
        @Option(names = {"-additional-ipaddress", "--additional-ipaddress"}, paramLabel = "IP",
                description = "Another IP address (repeatable)")
        List<String> ipAddresses = new ArrayList<>();
        @Option(names = {"-dir", "--dir"}, paramLabel = "DIR",
                description = "Where to write, and where the CA is by default (current directory)")
        Path dir = Path.of("");

        public CertCreate(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() {
            if (server == client) {
                throw new ParameterException(spec.commandLine(), "Exactly one of -server or -client is required");
            }
            checkDays(spec, days);
            checkDomain(spec, domain);
            if (dc.isBlank() || !dc.matches("[A-Za-z0-9-]+")) {
                throw new ParameterException(spec.commandLine(), "-dc must be letters, digits and '-', got '" + dc
                        + "'");
            }
            for (String n : dnsNames) {
                if (!n.matches("[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?")) {
                    throw new ParameterException(spec.commandLine(), "-additional-dnsname: not a DNS name: '" + n
                            + "'");
                }
            }
            List<InetAddress> ips = new ArrayList<>();
            for (String ip : ipAddresses) {
                ips.add(ipLiteral(spec, ip));
            }
            Path ca = caPath != null ? caPath : dir.resolve(caFile(domain));
            Path caKey = caKeyPath != null ? caKeyPath : dir.resolve(caKeyFile(domain));
            CertificateIssuer.Issued authority;
            try {
                X509Certificate caCert = TlsMaterial.readCertificates(ca).get(0);
                PrivateKey key = TlsMaterial.readPrivateKey(caKey);
                authority = new CertificateIssuer.Issued(caCert, key);
            } catch (TlsException e) {
                throw new CliFailure("Error reading the CA: " + e.getMessage()
                        + " (create one with: weft tls ca create)");
            }
            CertificateIssuer.Role role = server ? CertificateIssuer.Role.SERVER : CertificateIssuer.Role.CLIENT;
            String prefix = dc + "-" + role.name().toLowerCase(java.util.Locale.ROOT) + "-" + domainLabel(domain);
            try {
                CertificateIssuer.Issued issued = CertificateIssuer.createAgentCert(authority, role, dc, domain, days,
                        dnsNames, ips, Instant.now());
                String certPem = CertificateIssuer.pem(issued.certificate());
                String keyPem = CertificateIssuer.pem(issued.key());
                for (int n = 0; ; n++) {
                    Path cert = dir.resolve(prefix + "-" + n + ".pem");
                    Path key = dir.resolve(prefix + "-" + n + "-key.pem");
                    if (Files.exists(cert) || Files.exists(key)) {
                        continue;
                    }
                    try {
                        write(cert, certPem, false);
                    } catch (CliFailure raced) {
                        continue;
                    }
                    write(key, keyPem, true);
                    io.out().println("==> Using " + ca + " and " + caKey);
                    io.out().println("==> Saved " + cert);
                    io.out().println("==> Saved " + key);
                    io.out().flush();
                    return 0;
                }
            } catch (GeneralSecurityException e) {
                throw new CliFailure("Error creating the certificate: " + e.getMessage());
            }
        }
    }

    private static void checkDays(CommandSpec spec, int days) {
        if (days < 1 || days > 36500) {
            throw new ParameterException(spec.commandLine(), "-days must be between 1 and 36500, got " + days);
        }
    }

    private static void checkDomain(CommandSpec spec, String domain) {
        if (!domainLabel(domain).matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")) {
            throw new ParameterException(spec.commandLine(), "-domain: not a DNS domain: '" + domain + "'");
        }
    }

    private static InetAddress ipLiteral(CommandSpec spec, String text) {
        String t = text.strip();
        boolean literal = t.matches("[0-9.]+") || t.contains(":");
        try {
            if (literal) {
                return InetAddress.getByName(t); // a literal: no name lookup
            }
        } catch (UnknownHostException e) {
            // fall through
        }
        throw new ParameterException(spec.commandLine(), "-additional-ipaddress: not an IP address: '" + text + "'");
    }

    private static void refuseExisting(Path... files) {
        for (Path f : files) {
            if (Files.exists(f)) {
                throw new CliFailure("Error: " + f + " already exists; not overwriting it");
            }
        }
    }

    /** Writes a new file (never replacing one); keys are readable by their owner only. */
    private static void write(Path file, String text, boolean secret) {
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            if (secret) {
                try {
                    Files.createFile(file, PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rw-------")));
                } catch (UnsupportedOperationException e) {
                    Files.createFile(file);
                }
                Files.writeString(file, text, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
            } else {
                Files.writeString(file, text, StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE);
            }
        } catch (FileAlreadyExistsException e) {
            throw new CliFailure("Error: " + file + " already exists; not overwriting it");
        } catch (IOException e) {
            throw new CliFailure("Error writing " + file + ": " + e);
        }
    }
}
