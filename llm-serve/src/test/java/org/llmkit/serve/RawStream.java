package org.llmkit.serve;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A streaming request over a plain socket, so that a test can read part of a stream and then hang up. */
final class RawStream implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;

    RawStream(LlmServer server, String path, String body) throws IOException {
        socket = new Socket("127.0.0.1", server.port());
        socket.setSoTimeout(30_000);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + bytes.length + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    }

    /** @return the status line */
    String statusLine() throws IOException {
        return in.readLine();
    }

    /** @return the next line that starts with {@code data: }, or null at the end of the stream */
    String nextData() throws IOException {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.startsWith("data: ")) {
                return line;
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
