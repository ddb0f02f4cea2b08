package org.llmkit.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** close() lets in-flight streams finish within the grace, and ends the rest cleanly with a final chunk. */
class ShutdownTest {
    private static final String STREAM = """
            {"model": "tiny-llama3", "max_tokens": %d, "temperature": 0, "stream": true,
             "messages": [{"role": "user", "content": "go"}]}""";

    @Test
    void closeWithinGraceLetsTheStreamFinish() throws Exception {
        LlmServer server = TestSupport.server().shutdownGrace(Duration.ofSeconds(30)).start();
        try (RawStream stream = new RawStream(server, "/v1/chat/completions", STREAM.formatted(60))) {
            assertThat(stream.statusLine()).contains("200");
            assertThat(stream.nextData()).contains("assistant");
            Thread closer = new Thread(server::close);
            closer.start();

            List<String> rest = readAll(stream);
            closer.join(30_000);

            assertThat(rest.get(rest.size() - 1)).isEqualTo("data: [DONE]");
            assertThat(rest.get(rest.size() - 2)).contains("\"finish_reason\":\"length\"");
            assertThat(rest.size()).isGreaterThan(10);
        }
    }

    @Test
    void closeAfterGraceEndsTheStreamWithAFinalChunkAndDone() throws Exception {
        LlmServer server = TestSupport.server().shutdownGrace(Duration.ofMillis(200)).start();
        try (RawStream stream = new RawStream(server, "/v1/chat/completions", STREAM.formatted(3900))) {
            assertThat(stream.statusLine()).contains("200");
            assertThat(stream.nextData()).contains("assistant");
            long start = System.nanoTime();
            Thread closer = new Thread(server::close);
            closer.start();

            List<String> rest = readAll(stream);
            closer.join(30_000);

            assertThat(rest.get(rest.size() - 1)).isEqualTo("data: [DONE]");
            assertThat(rest.get(rest.size() - 2)).contains("\"finish_reason\":\"length\"");
            assertThat(rest.size()).as("cut short, far below 3900 tokens").isLessThan(3000);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }
    }

    private static List<String> readAll(RawStream stream) throws java.io.IOException {
        List<String> lines = new ArrayList<>();
        for (String line = stream.nextData(); line != null; line = stream.nextData()) {
            lines.add(line);
        }
        return lines;
    }
}
