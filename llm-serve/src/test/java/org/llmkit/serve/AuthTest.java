package org.llmkit.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** With API keys configured, /v1 and /generate need a valid Bearer key; /health and /metrics stay open. */
class AuthTest {
    private static final String BODY = """
            {"model": "tiny-llama3", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}""";
    private static LlmServer server;

    @BeforeAll
    static void start() {
        server = TestSupport.server().apiKeys("k1", "second-key").start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void missingKeyIs401WithOpenAiError() {
        HttpResponse<String> r = TestSupport.post(server, "/v1/chat/completions", BODY, null);

        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(TestSupport.json(r).get("error").get("code").asText()).isEqualTo("invalid_api_key");
        assertThat(r.headers().firstValue("WWW-Authenticate")).contains("Bearer");
    }

    @Test
    void wrongKeyIs401AndRightKeysAreAccepted() {
        assertThat(TestSupport.post(server, "/v1/chat/completions", BODY, "k2").statusCode()).isEqualTo(401);
        assertThat(TestSupport.post(server, "/v1/chat/completions", BODY, "k1x").statusCode()).isEqualTo(401);
        assertThat(TestSupport.post(server, "/generate", "{\"prompt\": \"hi\", \"max_tokens\": 1}", "nope")
                .statusCode()).isEqualTo(401);

        assertThat(TestSupport.post(server, "/v1/chat/completions", BODY, "k1").statusCode()).isEqualTo(200);
        assertThat(TestSupport.post(server, "/v1/chat/completions", BODY, "second-key").statusCode()).isEqualTo(200);
        assertThat(TestSupport.get(server, "/v1/models", "k1").statusCode()).isEqualTo(200);
        assertThat(TestSupport.get(server, "/v1/models", null).statusCode()).isEqualTo(401);
    }

    @Test
    void healthAndMetricsNeedNoKey() {
        assertThat(TestSupport.get(server, "/health", null).statusCode()).isEqualTo(200);
        assertThat(TestSupport.get(server, "/metrics", null).statusCode()).isEqualTo(200);
    }

    @Test
    void keyComparisonIgnoresBearerCaseAndRejectsOtherSchemes() {
        ApiKeys keys = new ApiKeys(java.util.List.of("k1"));

        assertThat(keys.accepts("bearer k1")).isTrue();
        assertThat(keys.accepts("Basic k1")).isFalse();
        assertThat(keys.accepts("Bearer ")).isFalse();
        assertThat(keys.accepts(null)).isFalse();
        assertThat(new ApiKeys(java.util.List.of()).accepts(null)).isTrue();
    }
}
