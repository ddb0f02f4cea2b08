package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad folders and bad arguments give clear errors naming the file or option, never a JVM abort or bare NPE. */
class BadInputTest {
    @TempDir
    Path tmp;

    private Path copyOf(String fixture) throws IOException {
        Path dir = tmp.resolve(fixture);
        Files.createDirectories(dir);
        try (var files = Files.list(Fixtures.model(fixture))) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return dir;
    }

    @Test
    void missingFolderIsNamed() {
        assertThatThrownBy(() -> LanguageModel.load(tmp.resolve("nope")))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining("nope");
    }

    @Test
    void missingConfigJsonIsNamed() throws Exception {
        Path dir = copyOf("llama3");
        Files.delete(dir.resolve("config.json"));
        assertThatThrownBy(() -> LanguageModel.load(dir))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining("config.json");
    }

    @Test
    void unknownModelTypeListsTheSupportedOnes() throws Exception {
        Path dir = copyOf("llama3");
        rewriteConfig(dir, "\"model_type\": \"llama\"", "\"model_type\": \"falcon\"");
        assertThatThrownBy(() -> LanguageModel.load(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("config.json").hasMessageContaining("falcon").hasMessageContaining("llama, mistral");
    }

    @Test
    void malformedConfigFieldIsNamed() throws Exception {
        Path dir = copyOf("llama3");
        rewriteConfig(dir, "\"hidden_size\": 96", "\"hidden_size\": \"wide\"");
        assertThatThrownBy(() -> LanguageModel.load(dir))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("hidden_size");
    }

    @Test
    void inconsistentHeadsAreExplainedWithNumbers() throws Exception {
        Path dir = copyOf("llama3");
        rewriteConfig(dir, "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 4");
        assertThatThrownBy(() -> LanguageModel.load(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("num_attention_heads (6)").hasMessageContaining("num_key_value_heads (4)");
    }

    @Test
    void truncatedSafetensorsIsReportedAsTruncated() throws Exception {
        Path dir = copyOf("llama3");
        Path weights = dir.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(all, all.length / 2));
        assertThatThrownBy(() -> LanguageModel.load(dir))
                .isInstanceOf(IOException.class).hasMessageContaining("model.safetensors").hasMessageContaining("truncated");
    }

    @Test
    void corruptSafetensorsHeaderIsReported() throws Exception {
        Path dir = copyOf("llama3");
        Path weights = dir.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(weights);
        byte[] junk = "{{{{not json".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(junk, 0, all, 8, junk.length);
        Files.write(weights, all);
        assertThatThrownBy(() -> LanguageModel.load(dir))
                .isInstanceOf(IOException.class).hasMessageContaining("model.safetensors");
    }

    @Test
    void tensorWithTheWrongShapeForTheConfigIsNamed() throws Exception {
        Path dir = copyOf("llama3");
        rewriteConfig(dir, "\"intermediate_size\": 256", "\"intermediate_size\": 128");
        assertThatThrownBy(() -> LanguageModel.load(dir))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("model.layers.0.mlp.gate_proj.weight")
                .hasMessageContaining("(256, 96)").hasMessageContaining("(128, 96)");
    }

    @Test
    void missingTensorIsNamed() throws Exception {
        Path dir = copyOf("llama3");
        rewriteConfig(dir, "\"num_hidden_layers\": 3", "\"num_hidden_layers\": 4");
        assertThatThrownBy(() -> LanguageModel.load(dir))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("model.layers.3.");
    }

    @Test
    void tokenIdsOutsideTheVocabularyAreRejectedWithTheirPosition() throws Exception {
        try (LanguageModel m = LanguageModel.load(Fixtures.model("llama3"))) {
            assertThatThrownBy(() -> m.logits(new int[] {1, 2, 512}))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("512").hasMessageContaining("position 2").hasMessageContaining("[0, 512)");
            assertThatThrownBy(() -> m.generate(new int[] {-1}).maxNewTokens(2).tokens())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
            assertThatThrownBy(() -> m.loss(new int[][] {{1, 2}, {3, 9999}}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sequence 1");
        }
    }

    @Test
    void emptyPromptsAreRejected() throws Exception {
        try (LanguageModel m = LanguageModel.load(Fixtures.model("llama3"))) {
            assertThatThrownBy(() -> m.generate(new int[0]).maxNewTokens(2).tokens())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
            assertThatThrownBy(() -> m.generate("")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("empty");
            assertThatThrownBy(() -> m.logits(new int[0])).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> m.loss(new int[][] {{5}})).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("at least 2");
        }
    }

    @Test
    void nonPositiveMaxNewTokensAndBadSamplingValuesNameTheOption() throws Exception {
        try (LanguageModel m = LanguageModel.load(Fixtures.model("llama3"))) {
            assertThatThrownBy(() -> m.generate(new int[] {1}).maxNewTokens(0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxNewTokens");
            assertThatThrownBy(() -> m.generate(new int[] {1}).maxNewTokens(-3))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxNewTokens");
            assertThatThrownBy(() -> m.generate(new int[] {1}).temperature(0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("temperature");
            assertThatThrownBy(() -> m.generate(new int[] {1}).topP(1.5))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("topP");
            assertThatThrownBy(() -> m.generate(new int[] {1}).topK(-1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("topK");
            assertThatThrownBy(() -> m.generate(new int[] {1}).maxNewTokens(5000).tokens())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max_position_embeddings");
        }
    }

    @Test
    void modelWithoutTokenizerSaysSoForTextCalls() {
        ModelConfig c = ModelConfig.builder("llama").vocabSize(64).hiddenSize(32).intermediateSize(64)
                .numLayers(1).numHeads(2).build();
        try (LanguageModel m = LanguageModel.create(c, 1)) {
            assertThatThrownBy(m::tokenizer).isInstanceOf(IllegalStateException.class).hasMessageContaining("tokenizer");
            assertThatThrownBy(() -> m.generate(new int[] {1}).maxNewTokens(2).text())
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("tokenizer");
        }
    }

    private static void rewriteConfig(Path dir, String from, String to) throws IOException {
        Path config = dir.resolve("config.json");
        String text = Files.readString(config);
        if (!text.contains(from)) {
            throw new AssertionError("fixture config has no " + from);
        }
        Files.writeString(config, text.replace(from, to));
    }
}
