package org.llmkit.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Server-Sent Events streams: OpenAI chunk shapes, {@code [DONE]} last, text equal to the non-streamed answer. */
class StreamingTest {
    private static LlmServer server;

    @BeforeAll
    static void start() {
        server = TestSupport.server().start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void streamedChatConcatenatesToNonStreamedText() {
        String request = """
                {"model": "tiny-llama3", "max_tokens": 40, "temperature": 0, %s
                 "messages": [{"role": "user", "content": "Tell me a story"}]}""";
        String whole = TestSupport.json(TestSupport.post(server, "/v1/chat/completions", request.formatted("")))
                .get("choices").get(0).get("message").get("content").asText();

        HttpResponse<String> r = TestSupport.post(server, "/v1/chat/completions",
                request.formatted("\"stream\": true,"));

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        List<JsonNode> chunks = TestSupport.sseChunks(r.body());
        assertThat(chunks.get(0).get("choices").get(0).get("delta").get("role").asText()).isEqualTo("assistant");
        StringBuilder text = new StringBuilder();
        for (JsonNode c : chunks) {
            assertThat(c.get("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(c.get("id").asText()).isEqualTo(chunks.get(0).get("id").asText()).startsWith("chatcmpl-");
            text.append(c.get("choices").get(0).get("delta").path("content").asText(""));
        }
        assertThat(text.toString()).isEqualTo(whole);
        JsonNode last = chunks.get(chunks.size() - 1).get("choices").get(0);
        assertThat(last.get("finish_reason").asText()).isEqualTo("length");
        assertThat(chunks.subList(0, chunks.size() - 1))
                .allMatch(c -> c.get("choices").get(0).get("finish_reason").isNull());
    }

    @Test
    void streamedCompletionConcatenatesToNonStreamedTextAndReportsUsage() throws Exception {
        String stop = TestSupport.JSON.writeValueAsString(TestSupport.stopFromMiddleOf("Once upon a time", 25));
        String request = """
                {"model": "tiny-llama3", "prompt": "Once upon a time", "max_tokens": 25, "temperature": 0,
                 "stop": %s %s}""".formatted(stop, "%s");
        JsonNode whole = TestSupport.json(TestSupport.post(server, "/v1/completions", request.formatted("")));

        List<JsonNode> chunks = TestSupport.sseChunks(TestSupport.post(server, "/v1/completions",
                request.formatted(", \"stream\": true, \"stream_options\": {\"include_usage\": true}")).body());

        StringBuilder text = new StringBuilder();
        chunks.stream().filter(c -> c.get("choices").size() > 0)
                .forEach(c -> text.append(c.get("choices").get(0).get("text").asText()));
        assertThat(text.toString()).isEqualTo(whole.get("choices").get(0).get("text").asText());
        JsonNode finish = chunks.get(chunks.size() - 2);
        assertThat(finish.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");
        JsonNode usage = chunks.get(chunks.size() - 1);
        assertThat(usage.get("choices").size()).isZero();
        assertThat(usage.get("usage")).isEqualTo(whole.get("usage"));
    }
}
