package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Missing files, missing or broken templates and malformed configs fail loudly and name the file. */
class TokenizerErrorsTest {

    private static final List<ChatMessage> HELLO = List.of(ChatMessage.user("hello"));

    @TempDir Path temp;

    /** A folder with the fixture's tokenizer.json only. */
    private Path bareFolder() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("bare"));
        Files.copy(Fixtures.tokenizerFolder().resolve("tokenizer.json"), folder.resolve("tokenizer.json"));
        return folder;
    }

    @Test
    void missingFolderGivesIOExceptionNamingThePath() {
        Path missing = temp.resolve("does-not-exist");
        assertThatThrownBy(() -> Tokenizer.load(missing))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(missing.toString());
    }

    @Test
    void folderWithoutTokenizerJsonGivesIOExceptionNamingTheFile() throws IOException {
        Path empty = Files.createDirectories(temp.resolve("empty"));
        assertThatThrownBy(() -> Tokenizer.load(empty))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(empty.resolve("tokenizer.json").toString());
    }

    @Test
    void malformedTokenizerJsonGivesIOExceptionNamingTheFile() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("broken"));
        Files.writeString(folder.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\"");
        assertThatThrownBy(() -> Tokenizer.load(folder))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(folder.resolve("tokenizer.json").toString());
    }

    @Test
    void folderWithoutChatTemplateFailsInApplyChatTemplateNamingTheFolder() throws IOException {
        Path folder = bareFolder();
        try (Tokenizer tokenizer = Tokenizer.load(folder)) {
            assertThat(tokenizer.chatTemplate()).isEmpty();
            assertThat(tokenizer.bosTokenId()).isEmpty();
            assertThat(tokenizer.encode("Hello world, this is a test.")).hasSize(16);
            assertThatThrownBy(() -> tokenizer.applyChatTemplate(HELLO, true))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(folder.toAbsolutePath().toString())
                    .hasMessageContaining("chat_template.jinja");
        }
    }

    @Test
    void raiseExceptionInTemplateSurfacesTheTemplatesMessage() throws IOException {
        Path folder = bareFolder();
        Files.writeString(
                folder.resolve("chat_template.jinja"),
                "{% for m in messages %}{% if m['role'] != 'user' %}"
                        + "{{ raise_exception('Only user roles are supported, got ' + m['role']) }}"
                        + "{% endif %}{{ m['content'] }}{% endfor %}");
        try (Tokenizer tokenizer = Tokenizer.load(folder)) {
            assertThat(tokenizer.applyChatTemplate(HELLO, false)).isEqualTo("hello");
            assertThatThrownBy(() -> tokenizer.applyChatTemplate(List.of(ChatMessage.assistant("x")), false))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("Only user roles are supported, got assistant")
                    .hasMessageContaining(folder.resolve("chat_template.jinja").toString());
        }
    }

    @Test
    void templateSyntaxErrorFailsWithTheTemplateFileNamedInsteadOfEmptyOutput() throws IOException {
        Path folder = bareFolder();
        Files.writeString(folder.resolve("chat_template.jinja"), "{% for m in messages %}{{ m['content'] }}");
        try (Tokenizer tokenizer = Tokenizer.load(folder)) {
            assertThatThrownBy(() -> tokenizer.applyChatTemplate(HELLO, false))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(folder.resolve("chat_template.jinja").toString())
                    .hasMessageContaining("endfor");
        }
    }

    @Test
    void unknownFunctionInTemplateFailsWithTheTemplateNamed() throws IOException {
        Path folder = bareFolder();
        Files.writeString(folder.resolve("chat_template.jinja"), "{{ no_such_helper(messages) }}");
        try (Tokenizer tokenizer = Tokenizer.load(folder)) {
            assertThatThrownBy(() -> tokenizer.applyChatTemplate(HELLO, false))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("chat_template.jinja")
                    .hasMessageContaining("no_such_helper");
        }
    }

    @Test
    void configTemplateListUsesTheOneNamedDefault() throws IOException {
        Path folder = bareFolder();
        Files.writeString(
                folder.resolve("tokenizer_config.json"),
                "{\"bos_token\": {\"content\": \"<|begin_of_text|>\", \"lstrip\": false},"
                        + " \"eos_token\": \"<|eot_id|>\","
                        + " \"chat_template\": [{\"name\": \"tool_use\", \"template\": \"TOOLS\"},"
                        + " {\"name\": \"default\", \"template\": \"{{ bos_token }}{{ messages[0].content }}\\n\"}]}");
        try (Tokenizer tokenizer = Tokenizer.load(folder)) {
            assertThat(tokenizer.bosTokenId()).hasValue(0);
            assertThat(tokenizer.chatTemplate()).hasValue("{{ bos_token }}{{ messages[0].content }}\n");
            assertThat(tokenizer.chatTemplate("tool_use")).hasValue("TOOLS");
            assertThat(tokenizer.applyChatTemplate(HELLO, false)).isEqualTo("<|begin_of_text|>hello");
            assertThat(tokenizer.applyChatTemplate("tool_use", HELLO, false, java.util.Map.of())).isEqualTo("TOOLS");
            assertThatThrownBy(() -> tokenizer.applyChatTemplate("rag", HELLO, false, java.util.Map.of()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("rag")
                    .hasMessageContaining("tool_use");
        }
    }

    @Test
    void configTemplateStringIsUsedWhenThereIsNoJinjaFile() throws IOException {
        Path folder = bareFolder();
        Files.writeString(
                folder.resolve("tokenizer_config.json"),
                "{\"eos_token\": \"<|eot_id|>\", \"chat_template\": \"{{ messages | length }}{{ eos_token }}\"}");
        try (Tokenizer tokenizer = Tokenizer.load(folder)) {
            assertThat(tokenizer.applyChatTemplate(HELLO, false)).isEqualTo("1<|eot_id|>");
        }
    }

    @Test
    void specialTokensMapIsTheFallbackForTokenizerConfig() throws IOException {
        Path folder = bareFolder();
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|end_of_text|>\"}");
        Files.writeString(
                folder.resolve("special_tokens_map.json"),
                "{\"eos_token\": \"<|eot_id|>\", \"pad_token\": {\"content\": \"<|pad|>\"}}");
        try (Tokenizer tokenizer = Tokenizer.load(folder)) {
            assertThat(tokenizer.eosTokenId()).hasValue(1);
            assertThat(tokenizer.padTokenId()).hasValue(5);
        }
    }

    @Test
    void malformedSpecialTokenNamesFileAndField() throws IOException {
        Path folder = bareFolder();
        Files.writeString(folder.resolve("tokenizer_config.json"), "{\"eos_token\": 42}");
        assertThatThrownBy(() -> Tokenizer.load(folder))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(folder.resolve("tokenizer_config.json").toString())
                .hasMessageContaining("eos_token");
    }

    @Test
    void chatMessageRejectsNullsAndBlankRoles() {
        assertThatThrownBy(() -> ChatMessage.of(" ", "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ChatMessage.of(null, "x")).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> ChatMessage.user(null)).isInstanceOf(NullPointerException.class);
        assertThat(ChatMessage.system("s")).isEqualTo(new ChatMessage("system", "s"));
        assertThat(ChatMessage.assistant("").content()).isEmpty();
    }

    @Test
    void utf8TemplateFileIsReadAsUtf8() throws IOException {
        Path folder = bareFolder();
        Files.writeString(folder.resolve("chat_template.jinja"), "→{{ messages[0].content }}←", StandardCharsets.UTF_8);
        try (Tokenizer tokenizer = Tokenizer.load(folder)) {
            assertThat(tokenizer.applyChatTemplate(List.of(ChatMessage.user("日本")), false)).isEqualTo("→日本←");
        }
    }
}
