package dev.weft.agent.cli;

import picocli.CommandLine.Option;

/** The {@code -http-addr} option of every client command. */
public final class HttpAddressOption {
    @Option(names = {"-http-addr", "--http-addr"}, paramLabel = "ADDR",
            description = "Agent HTTP address (default: $WEFT_HTTP_ADDR, $CONSUL_HTTP_ADDR, 127.0.0.1:8500)")
    String httpAddr;

    ApiClient client(CliIo io) {
        return new ApiClient(ApiClient.resolveAddress(httpAddr, io.env()));
    }
}
