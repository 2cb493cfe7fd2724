package dev.weft.runtime;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChunkedDecoderTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void decodesChunksSplitAtEveryPossibleBoundary() throws IOException {
        String wire = "5\r\nhello\r\n1;name=value\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
        byte[] in = bytes(wire);
        for (int cut1 = 0; cut1 <= in.length; cut1++) {
            for (int cut2 = cut1; cut2 <= in.length; cut2++) {
                ChunkedDecoder d = new ChunkedDecoder();
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                d.feed(in, 0, cut1, out::write);
                d.feed(in, cut1, cut2 - cut1, out::write);
                d.feed(in, cut2, in.length - cut2, out::write);
                assertEquals("hello 0123456789", out.toString(StandardCharsets.ISO_8859_1), "cuts " + cut1 + "," + cut2);
                assertTrue(d.done());
            }
        }
    }

    @Test
    void randomBodiesInRandomPiecesRoundTrip() throws IOException {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            int chunks = random.nextInt(6);
            for (int c = 0; c < chunks; c++) {
                byte[] data = new byte[1 + random.nextInt(3000)];
                random.nextBytes(data);
                body.write(data);
                wire.write(bytes((random.nextBoolean() ? Integer.toHexString(data.length)
                        : Integer.toHexString(data.length).toUpperCase()) + "\r\n"));
                wire.write(data);
                wire.write(bytes("\r\n"));
            }
            wire.write(bytes("0\r\n\r\n"));
            byte[] in = wire.toByteArray();
            ChunkedDecoder d = new ChunkedDecoder();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int i = 0;
            while (i < in.length) {
                int n = Math.min(in.length - i, 1 + random.nextInt(700));
                assertEquals(n, d.feed(in, i, n, out::write));
                i += n;
            }
            assertArrayEquals(body.toByteArray(), out.toByteArray());
            assertTrue(d.done());
        }
    }

    @Test
    void stopsAtTheEndOfTheBody() throws IOException {
        byte[] in = bytes("3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK");
        ChunkedDecoder d = new ChunkedDecoder();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(in.length - "HTTP/1.1 200 OK".length(), d.feed(in, 0, in.length, out::write));
        assertEquals("abc", out.toString(StandardCharsets.ISO_8859_1));
    }

    @Test
    void notDoneUntilTheLastChunk() throws IOException {
        ChunkedDecoder d = new ChunkedDecoder();
        byte[] in = bytes("3\r\nabc\r\n");
        d.feed(in, 0, in.length, (b, off, len) -> { });
        assertFalse(d.done());
    }

    @Test
    void rejectsMalformedFraming() {
        for (String bad : new String[] {"zz\r\n", "\r\n", "3\r\nabcX", "123456789abcdef01\r\n"}) {
            byte[] in = bytes(bad);
            assertThrows(IOException.class, () -> new ChunkedDecoder().feed(in, 0, in.length, (b, off, len) -> { }),
                    bad);
        }
    }
}
