package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json is read in both layouts found in the wild, with HF's defaults, and validated with numbers. */
class ModelConfigTest {
    @TempDir
    Path tmp;

    private Path write(String json) throws Exception {
        Path p = tmp.resolve("config-" + System.nanoTime() + ".json");
        Files.writeString(p, json);
        return p;
    }

    @Test
    void transformersV5AndV4RopeLayoutsGiveTheSameConfig() throws Exception {
        ModelConfig v5 = ModelConfig.load(Fixtures.model("llama3").resolve("config.json"));
        String v4 = Files.readString(Fixtures.model("llama3").resolve("config.json"))
                .replaceAll("(?s)\"rope_parameters\": \\{.*?\\},", "\"rope_theta\": 500000.0, \"rope_scaling\": {\"rope_type\":"
                        + " \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0,"
                        + " \"original_max_position_embeddings\": 64},");
        assertThat(ModelConfig.load(write(v4))).isEqualTo(v5);
        assertThat(v5.ropeScaling()).isEqualTo(RopeScaling.llama3(8, 1, 4, 64));
        assertThat(v5.ropeTheta()).isEqualTo(500000.0);
        assertThat(v5.numKvHeads()).isEqualTo(2);
    }

    @Test
    void llama31EightBConfigIsReadWithEosListAndOldScalingKeyName() throws Exception {
        ModelConfig c = ModelConfig.load(write("""
                {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 128000,
                 "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu", "hidden_size": 4096,
                 "intermediate_size": 14336, "max_position_embeddings": 131072, "model_type": "llama",
                 "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
                 "rms_norm_eps": 1e-05, "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0,
                 "high_freq_factor": 4.0, "original_max_position_embeddings": 8192, "type": "llama3"},
                 "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "vocab_size": 128256}
                """));
        assertThat(c.eosTokenIds()).containsExactly(128001, 128008, 128009);
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.ropeScaling().type()).isEqualTo("llama3");
        assertThat(c.parameterCount()).isEqualTo(8_030_261_248L);   // Llama 3.1 8B
    }

    @Test
    void mistralWithoutWindowAndQwen2WithTiedEmbeddingsUseTheirDefaults() throws Exception {
        ModelConfig mistral = ModelConfig.load(write("""
                {"model_type": "mistral", "vocab_size": 32768, "hidden_size": 4096, "intermediate_size": 14336,
                 "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
                 "sliding_window": null, "rope_theta": 1000000.0, "max_position_embeddings": 32768}
                """));
        assertThat(mistral.slidingWindow()).isZero();
        assertThat(mistral.slidingLayers()).containsOnly(false);
        ModelConfig qwen = ModelConfig.load(Fixtures.model("qwen2").resolve("config.json"));
        assertThat(qwen.qkvBias()).isTrue();
        assertThat(qwen.outputBias()).isFalse();
        assertThat(qwen.tieWordEmbeddings()).isTrue();
        assertThat(qwen.eosTokenIds()).isEmpty();
    }

    @Test
    void gpt2ConfigMapsItsOwnNames() throws Exception {
        ModelConfig c = ModelConfig.load(Fixtures.model("gpt2").resolve("config.json"));
        assertThat(c.hiddenSize()).isEqualTo(96);
        assertThat(c.intermediateSize()).isEqualTo(4 * 96);
        assertThat(c.maxPositionEmbeddings()).isEqualTo(128);
        assertThat(c.hiddenAct()).isEqualTo("gelu_new");
        assertThat(c.qkvBias() && c.outputBias() && c.mlpBias() && c.tieWordEmbeddings()).isTrue();
    }

    @Test
    void inconsistentSizesAreRejectedWithTheNumbers() {
        assertThatThrownBy(() -> ModelConfig.builder("llama").hiddenSize(100).numHeads(3).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("hidden_size (100)").hasMessageContaining("num_attention_heads (3)");
        assertThatThrownBy(() -> ModelConfig.builder("llama").vocabSize(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vocab_size");
        assertThatThrownBy(() -> ModelConfig.builder("llama").eosTokenIds(List.of(9999)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("eos_token_id (9999)");
        assertThatThrownBy(() -> ModelConfig.builder("falcon"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("falcon").hasMessageContaining("llama");
    }

    @Test
    void unsupportedRopeTypesSaySo() throws Exception {
        Path p = write("""
                {"model_type": "llama", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 64,
                 "num_hidden_layers": 1, "num_attention_heads": 2, "rope_scaling": {"type": "yarn", "factor": 4.0}}
                """);
        assertThatThrownBy(() -> ModelConfig.load(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("yarn").hasMessageContaining("llama3");
    }

    @Test
    void savedConfigRoundTripsForEveryArchitecture() throws Exception {
        for (String name : List.of("llama3", "llama2", "mistral", "qwen2", "gpt2")) {
            ModelConfig c = ModelConfig.load(Fixtures.model(name).resolve("config.json"));
            String json = org.llmkit.api.model.Architectures.of(c.modelType()).writeConfig(c).toString();
            assertThat(ModelConfig.load(write(json))).as(name).isEqualTo(c);
        }
    }
}
