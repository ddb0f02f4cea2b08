package org.llmkit.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.llmkit.api.ChatMessage;

/** The official openai-java client (Maven Central) talks to the server unchanged. */
class OpenAiClientTest {

    @Test
    void openAiJavaClientGetsTheModelsChatAnswerPlainAndStreamed() {
        String expected = TestSupport.model().chat(List.of(ChatMessage.user("Hello from Java")))
                .maxNewTokens(10).greedy().text();
        try (LlmServer server = TestSupport.server().apiKeys("k1").start()) {
            OpenAIClient client = OpenAIOkHttpClient.builder()
                    .baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("k1").maxRetries(0).build();
            ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("tiny-llama3")
                    .addUserMessage("Hello from Java").maxTokens(10).temperature(0.0).build();

            ChatCompletion completion = client.chat().completions().create(params);

            assertThat(completion.choices().get(0).message().content()).contains(expected);
            assertThat(completion.choices().get(0).finishReason().asString()).isEqualTo("length");
            assertThat(completion.usage().orElseThrow().completionTokens()).isEqualTo(10);

            StringBuilder streamed = new StringBuilder();
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
                stream.stream().forEach(chunk -> chunk.choices().forEach(
                        c -> c.delta().content().ifPresent(streamed::append)));
            }
            assertThat(streamed.toString()).isEqualTo(expected);
            assertThat(client.models().list().data().get(0).id()).isEqualTo("tiny-llama3");
        }
    }
}
