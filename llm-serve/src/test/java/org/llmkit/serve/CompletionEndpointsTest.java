package org.llmkit.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llmkit.api.ChatMessage;
import org.llmkit.api.generate.GenerationResult;

/** Non-streamed answers match the library's own generation, in OpenAI's response schema. */
class CompletionEndpointsTest {
    private static LlmServer server;

    @BeforeAll
    static void start() {
        server = TestSupport.server().maxBatchSize(2).start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void chatCompletionEqualsModelChatWithSameGreedySettings() {
        List<ChatMessage> messages = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hello there"));
        GenerationResult expected = TestSupport.model().chat(messages).maxNewTokens(12).greedy().result();

        HttpResponse<String> r = TestSupport.post(server, "/v1/chat/completions", """
                {"model": "tiny-llama3", "max_tokens": 12, "temperature": 0,
                 "messages": [{"role": "system", "content": "Be brief."},
                              {"role": "user", "content": "Hello there"}]}""");

        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = TestSupport.json(r);
        assertThat(body.get("object").asText()).isEqualTo("chat.completion");
        assertThat(body.get("id").asText()).startsWith("chatcmpl-");
        assertThat(body.get("created").asLong()).isCloseTo(System.currentTimeMillis() / 1000, org.assertj.core.data.Offset.offset(60L));
        assertThat(body.get("model").asText()).isEqualTo("tiny-llama3");
        JsonNode choice = body.get("choices").get(0);
        assertThat(choice.get("index").asInt()).isZero();
        assertThat(choice.get("message").get("role").asText()).isEqualTo("assistant");
        assertThat(choice.get("message").get("content").asText()).isEqualTo(expected.text());
        assertThat(choice.get("finish_reason").asText()).isEqualTo("length");
        JsonNode usage = body.get("usage");
        assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(expected.promptTokens().length);
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(12);
        assertThat(usage.get("total_tokens").asInt()).isEqualTo(expected.promptTokens().length + 12);
    }

    @Test
    void promptTokensCountTheRenderedChatTemplate() {
        List<ChatMessage> messages = List.of(ChatMessage.user("Count me"));
        int[] ids = TestSupport.model().tokenizer().encode(
                TestSupport.model().tokenizer().applyChatTemplate(messages, true), false);

        JsonNode body = TestSupport.json(TestSupport.post(server, "/v1/chat/completions", """
                {"model": "tiny-llama3", "max_completion_tokens": 3,
                 "messages": [{"role": "user", "content": [{"type": "text", "text": "Count me"}]}]}"""));

        assertThat(body.get("usage").get("prompt_tokens").asInt()).isEqualTo(ids.length);
        assertThat(body.get("usage").get("completion_tokens").asInt()).isEqualTo(3);
    }

    @Test
    void textCompletionEqualsModelGenerate() {
        String expected = TestSupport.model().generate("Once upon a time").maxNewTokens(10).greedy().text();

        JsonNode body = TestSupport.json(TestSupport.post(server, "/v1/completions", """
                {"model": "tiny-llama3", "prompt": "Once upon a time", "max_tokens": 10, "temperature": 0}"""));

        assertThat(body.get("object").asText()).isEqualTo("text_completion");
        assertThat(body.get("id").asText()).startsWith("cmpl-");
        assertThat(body.get("choices").get(0).get("text").asText()).isEqualTo(expected);
        assertThat(body.get("usage").get("prompt_tokens").asInt())
                .isEqualTo(TestSupport.model().tokenizer().encode("Once upon a time", true).length);
    }

    @Test
    void stopSequenceEndsTheTextWithFinishReasonStop() throws Exception {
        String stop = TestSupport.stopFromMiddleOf("Once upon a time", 30);
        GenerationResult expected = TestSupport.model().generate("Once upon a time").maxNewTokens(30).greedy()
                .stop(stop).result();
        assertThat(expected.finishReason()).isEqualTo(org.llmkit.api.generate.FinishReason.STOP);

        JsonNode body = TestSupport.json(TestSupport.post(server, "/v1/completions", """
                {"model": "tiny-llama3", "prompt": "Once upon a time", "max_tokens": 30, "temperature": 0,
                 "stop": [%s, "never-seen"]}""".formatted(TestSupport.JSON.writeValueAsString(stop))));

        JsonNode choice = body.get("choices").get(0);
        assertThat(choice.get("text").asText()).isEqualTo(expected.text()).doesNotContain(stop);
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(body.get("usage").get("completion_tokens").asInt()).isEqualTo(expected.newTokens().length);
    }

    @Test
    void seededSamplingIsReproducibleAndMatchesTheModel() {
        String expected = TestSupport.model().generate("The").maxNewTokens(8).temperature(0.9).topP(0.95).seed(42)
                .text();
        String request = """
                {"model": "tiny-llama3", "prompt": "The", "max_tokens": 8, "temperature": 0.9, "top_p": 0.95,
                 "seed": 42}""";

        String first = TestSupport.json(TestSupport.post(server, "/v1/completions", request))
                .get("choices").get(0).get("text").asText();
        String second = TestSupport.json(TestSupport.post(server, "/v1/completions", request))
                .get("choices").get(0).get("text").asText();

        assertThat(first).isEqualTo(expected).isEqualTo(second);
    }

    @Test
    void generateEndpointAnswersWithResponseField() {
        String expected = TestSupport.model().generate("Hello").maxNewTokens(5).greedy().text();

        JsonNode body = TestSupport.json(TestSupport.post(server, "/generate", """
                {"prompt": "Hello", "max_tokens": 5, "temperature": 0}"""));

        assertThat(body.get("response").asText()).isEqualTo(expected);
    }

    @Test
    void modelsListsTheServedModel() {
        JsonNode body = TestSupport.json(TestSupport.get(server, "/v1/models", null));

        assertThat(body.get("object").asText()).isEqualTo("list");
        assertThat(body.get("data").get(0).get("id").asText()).isEqualTo("tiny-llama3");
        assertThat(body.get("data").get(0).get("object").asText()).isEqualTo("model");
    }

    @Test
    void healthIsOk() {
        HttpResponse<String> r = TestSupport.get(server, "/health", null);

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(TestSupport.json(r).get("status").asText()).isEqualTo("ok");
    }
}
