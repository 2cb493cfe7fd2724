package dev.weft.agent.cli;

import picocli.CommandLine.Option;

/** The {@code -http-addr} and {@code -token} options of every client command. */
public final class HttpAddressOption {
    @Option(names = {"-http-addr", "--http-addr"}, paramLabel = "ADDR",
            description = "Agent HTTP address (default: $WEFT_HTTP_ADDR, $CONSUL_HTTP_ADDR, 127.0.0.1:8500)")
    String httpAddr;
    @Option(names = {"-token", "--token"}, paramLabel = "SECRET",
            description = "ACL token (default: $WEFT_HTTP_TOKEN, $CONSUL_HTTP_TOKEN)")
    String token;

    ApiClient client(CliIo io) {
        return new ApiClient(ApiClient.resolveAddress(httpAddr, io.env()), ApiClient.resolveToken(token, io.env()));
    }
}
