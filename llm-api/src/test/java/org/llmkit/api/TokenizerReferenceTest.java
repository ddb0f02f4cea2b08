package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The fixture tokenizer gives exactly what transformers gives (tokenizer_reference.json). */
class TokenizerReferenceTest {

    private static Tokenizer tokenizer;
    private static JsonNode reference;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = Tokenizer.load(Fixtures.tokenizerFolder());
        reference = Fixtures.tokenizerReference();
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void encodingsWithoutSpecialTokensMatchTransformers() {
        JsonNode encodings = reference.get("encodings");
        assertThat(encodings.size()).isEqualTo(4);
        for (Map.Entry<String, JsonNode> e : encodings.properties()) {
            int[] expected = new int[e.getValue().size()];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = e.getValue().get(i).intValue();
            }
            assertThat(tokenizer.encode(e.getKey())).as("encode(%s)", e.getKey()).containsExactly(expected);
        }
    }

    @Test
    void decodeRoundTripsMatchTransformers() {
        int checked = 0;
        for (Map.Entry<String, JsonNode> e : reference.get("decode_roundtrip").properties()) {
            assertThat(tokenizer.decode(tokenizer.encode(e.getKey())))
                    .as("decode(encode(%s))", e.getKey())
                    .isEqualTo(e.getValue().textValue());
            checked++;
        }
        assertThat(checked).isEqualTo(4);
    }

    @Test
    void renderedChatTemplateMatchesTransformersByteForByte() {
        List<ChatMessage> messages = new ArrayList<>();
        for (JsonNode m : reference.get("chat_messages")) {
            messages.add(ChatMessage.of(m.get("role").textValue(), m.get("content").textValue()));
        }
        String rendered = tokenizer.applyChatTemplate(messages, true);
        assertThat(rendered).isEqualTo(reference.get("chat_rendered").textValue());
    }

    @Test
    void specialTokenIdsResolveThroughTheVocabulary() {
        assertThat(tokenizer.bosTokenId()).hasValue(0);
        assertThat(tokenizer.eosTokenId()).hasValue(4);
        assertThat(tokenizer.padTokenId()).hasValue(5);
        assertThat(tokenizer.specialTokenId("unk_token")).isEmpty();
        assertThat(tokenizer.specialTokens())
                .containsExactly(
                        Map.entry("bos_token", "<|begin_of_text|>"),
                        Map.entry("eos_token", "<|eot_id|>"),
                        Map.entry("pad_token", "<|pad|>"));
    }

    @Test
    void vocabularyMapsIdsAndTokensBothWays() {
        assertThat(tokenizer.vocabSize()).isEqualTo(512);
        assertThat(tokenizer.token(4)).hasValue("<|eot_id|>");
        assertThat(tokenizer.id("<|start_header_id|>")).hasValue(2);
        assertThat(tokenizer.token(512)).isEmpty();
        assertThat(tokenizer.token(-1)).isEmpty();
        assertThat(tokenizer.id("no such token")).isEmpty();
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            String token = tokenizer.token(id).orElseThrow();
            assertThat(tokenizer.id(token)).hasValue(id);
        }
    }

    @Test
    void specialTokensInTextEncodeToTheirIdsAndDecodeUnlessSkipped() {
        int[] ids = tokenizer.encode("<|eot_id|> special in text");
        assertThat(ids[0]).isEqualTo(4);
        assertThat(tokenizer.decode(ids, true)).isEqualTo(" special in text");
        assertThat(tokenizer.decode(ids, false)).isEqualTo("<|eot_id|> special in text");
    }

    @Test
    void encodeChatTokenizesTheRenderedPromptWithoutAddingSpecialTokens() {
        List<ChatMessage> messages = List.of(ChatMessage.system("You are terse."), ChatMessage.user("Hi"));
        int[] ids = tokenizer.encodeChat(messages, true);
        assertThat(ids[0]).isEqualTo(0);
        assertThat(tokenizer.decode(ids)).isEqualTo(tokenizer.applyChatTemplate(messages, true));
    }

    @Test
    void loadingTheTokenizerJsonFileFindsTheFilesBesideIt() throws IOException {
        try (Tokenizer fromFile = Tokenizer.load(Fixtures.tokenizerFolder().resolve("tokenizer.json"))) {
            assertThat(fromFile.source()).isEqualTo(Fixtures.tokenizerFolder().toAbsolutePath().normalize());
            assertThat(fromFile.eosTokenId()).hasValue(4);
            assertThat(fromFile.chatTemplate()).isPresent();
            assertThat(fromFile.encode("Hello world, this is a test."))
                    .containsExactly(tokenizer.encode("Hello world, this is a test."));
        }
    }
}
