package dev.weft.kvstore.state;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Snapshot format of the whole state: magic, version, last applied index, tables, CRC32 of everything before
 * it. {@link #read} verifies the checksum and throws {@link IOException} on corruption.
 */
public final class StateCodec {
    private StateCodec() {
    }

    public static void write(KvState state, OutputStream out) throws IOException {
        throw new IOException("pending");
    }

    public static KvState read(InputStream in) throws IOException {
        throw new IOException("pending");
    }
}
