package org.llmkit.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each bad request gets the right status and an OpenAI-shaped error, and the server keeps serving. */
class BadInputTest {
    private static final String GOOD = """
            {"model": "tiny-llama3", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}""";
    private static LlmServer server;

    @BeforeAll
    static void start() {
        server = TestSupport.server().maxBodyBytes(4096).start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static Stream<Arguments> badRequests() {
        String chat = "/v1/chat/completions";
        return Stream.of(
                Arguments.of("malformed JSON", chat, "{\"model\": \"tiny-llama3\", \"messages\": [", 400, null, null),
                Arguments.of("body not an object", chat, "[1, 2]", 400, null, null),
                Arguments.of("missing messages", chat, "{\"model\": \"tiny-llama3\"}", 400, "messages", null),
                Arguments.of("unknown role", chat, """
                        {"model": "tiny-llama3", "messages": [{"role": "wizard", "content": "hi"}]}""",
                        400, "messages[0].role", null),
                Arguments.of("negative max_tokens", chat, """
                        {"model": "tiny-llama3", "max_tokens": -5, "messages": [{"role": "user", "content": "hi"}]}""",
                        400, "max_tokens", null),
                Arguments.of("temperature above 2", chat, """
                        {"model": "tiny-llama3", "temperature": 2.5, "messages": [{"role": "user", "content": "hi"}]}""",
                        400, "temperature", null),
                Arguments.of("temperature not a number", "/v1/completions", """
                        {"model": "tiny-llama3", "temperature": "hot", "prompt": "hi"}""", 400, "temperature", null),
                Arguments.of("max_tokens past the context", chat, """
                        {"model": "tiny-llama3", "max_tokens": 5000, "messages": [{"role": "user", "content": "hi"}]}""",
                        400, "messages", "context_length_exceeded"),
                Arguments.of("n above 1", "/v1/completions", """
                        {"model": "tiny-llama3", "n": 2, "prompt": "hi"}""", 400, "n", null),
                Arguments.of("five stop sequences", "/v1/completions", """
                        {"model": "tiny-llama3", "stop": ["a", "b", "c", "d", "e"], "prompt": "hi"}""", 400, "stop",
                        null),
                Arguments.of("missing model", chat, """
                        {"messages": [{"role": "user", "content": "hi"}]}""", 400, "model", null),
                Arguments.of("wrong model", chat, """
                        {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}""", 404, "model",
                        "model_not_found"),
                Arguments.of("oversized body", chat, "{\"model\": \"tiny-llama3\", \"messages\": [{\"role\": \"user\","
                        + " \"content\": \"" + "x".repeat(10_000) + "\"}]}", 413, null, "request_too_large"));
    }

    @ParameterizedTest(name = "{0} -> {3}")
    @MethodSource("badRequests")
    void badRequestGetsOpenAiErrorAndServerKeepsServing(String what, String path, String body, int status,
            String param, String code) {
        HttpResponse<String> r = TestSupport.post(server, path, body);

        assertThat(r.statusCode()).as(what).isEqualTo(status);
        JsonNode error = TestSupport.json(r).get("error");
        assertThat(error.get("message").asText()).isNotBlank();
        assertThat(error.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.has("param")).isTrue();
        assertThat(error.has("code")).isTrue();
        if (param != null) {
            assertThat(error.get("param").asText()).isEqualTo(param);
        }
        if (code != null) {
            assertThat(error.get("code").asText()).isEqualTo(code);
        }
        assertThat(TestSupport.post(server, "/v1/chat/completions", GOOD).statusCode()).isEqualTo(200);
    }

    @Test
    void errorsAreCountedInMetrics() {
        TestSupport.post(server, "/v1/chat/completions", "not json");

        String metrics = TestSupport.get(server, "/metrics", null).body();

        assertThat(metrics).contains("llmkit_http_errors_total{status=\"400\",type=\"invalid_request_error\"}");
        assertThat(metrics).contains("llmkit_http_requests_total{endpoint=\"/v1/chat/completions\",status=\"400\"}");
    }
}
