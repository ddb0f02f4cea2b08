package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEFT LoRA adapters load onto a base model, merge, and save back in PEFT's format. */
class LoraAdapterTest {
    @TempDir
    Path tmp;

    private static LanguageModel withAdapter() throws Exception {
        return LanguageModel.from(Fixtures.model("llama3")).adapter(Fixtures.model("llama3_lora")).load();
    }

    private static void assertMatchesReference(LanguageModel m) {
        JsonNode ref = Fixtures.reference("llama3_lora");
        for (int s = 0; s < 2; s++) {
            float[][] logits = m.logits(Fixtures.ints(ref.get("input_ids").get(s)));
            for (int t = 0; t < logits.length; t++) {
                assertThat(Fixtures.maxAbsDiff(logits[t], Fixtures.floats(ref.get("logits").get(s).get(t))))
                        .as("sequence %d position %d", s, t).isLessThanOrEqualTo(1e-4);
            }
        }
    }

    @Test
    void adapterOnBaseMatchesPeftLogitsGreedyAndLoss() throws Exception {
        JsonNode ref = Fixtures.reference("llama3_lora");
        try (LanguageModel m = withAdapter()) {
            assertThat(m.adapter()).hasValueSatisfying(c -> {
                assertThat(c.rank()).isEqualTo(4);
                assertThat(c.alpha()).isEqualTo(8.0);
                assertThat(c.targetModules()).containsExactly("q_proj", "v_proj");
            });
            assertMatchesReference(m);
            int[] prompt = Fixtures.ints(ref.get("input_ids").get(0));
            assertThat(m.generate(prompt).maxNewTokens(16).greedy().ignoreEos().tokens())
                    .containsExactly(Fixtures.ints(ref.get("greedy_prompt0_16")));
            int[][] batch = {prompt, Fixtures.ints(ref.get("input_ids").get(1))};
            assertThat(m.loss(batch)).isCloseTo(ref.get("loss_step0").asDouble(), org.assertj.core.data.Percentage.withPercentage(1e-3));
        }
    }

    @Test
    void mergedAdapterGivesTheSameLogitsWithoutTheAdapter() throws Exception {
        try (LanguageModel m = withAdapter()) {
            m.mergeAdapter();
            assertThat(m.adapter()).isEmpty();
            assertThat(m.block().parameters().keySet()).noneMatch(n -> n.contains("lora_"));
            assertMatchesReference(m);
        }
    }

    @Test
    void savedAdapterIsPeftFormatAndReloadsToTheSameLogits() throws Exception {
        Path out = tmp.resolve("adapter");
        try (LanguageModel m = withAdapter()) {
            m.saveAdapter(out);
        }
        JsonNode config = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
        assertThat(config.get("peft_type").asText()).isEqualTo("LORA");
        assertThat(config.get("r").asInt()).isEqualTo(4);
        assertThat(config.get("lora_alpha").asDouble()).isEqualTo(8.0);
        try (var files = org.llmkit.api.io.SafeTensorsFile.open(out.resolve("adapter_model.safetensors"));
                var original = org.llmkit.api.io.SafeTensorsFile.open(
                        Fixtures.model("llama3_lora").resolve("adapter_model.safetensors"))) {
            assertThat(files.names()).containsExactlyInAnyOrderElementsOf(original.names());
        }
        try (LanguageModel reloaded = LanguageModel.from(Fixtures.model("llama3")).adapter(out).load()) {
            assertMatchesReference(reloaded);
        }
    }

    @Test
    void savingAModelWithAnAdapterFoldsItIntoTheWeights() throws Exception {
        Path out = tmp.resolve("merged");
        try (LanguageModel m = withAdapter()) {
            m.save(out);
        }
        try (LanguageModel reloaded = LanguageModel.load(out)) {
            assertThat(reloaded.adapter()).isEmpty();
            assertMatchesReference(reloaded);
        }
    }

    @Test
    void anAdapterOnOneLayerOnlyActsInInferenceAsItsMergedWeights() throws Exception {
        // one script serves every layer, so such an adapter runs on the composed layers: before, the scripted layers
        // read targets at layer 0 and silently ran without a layer-1-only adapter
        int[] prompt = {1, 5, 9, 33, 2, 17};
        for (String target : new String[] {"layers.1.self_attn.q_proj", "layers.0.mlp.down_proj"}) {
            try (LanguageModel adapted = LanguageModel.load(Fixtures.model("llama3"));
                    LanguageModel merged = LanguageModel.load(Fixtures.model("llama3"))) {
                adapted.block().attachLora(LoraConfig.of(4, 8, target));
                java.util.SplittableRandom random = new java.util.SplittableRandom(7);
                adapted.block().adapterShapes().forEach((n, shape) -> {
                    float[] v = new float[Math.toIntExact(shape.size())];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) (random.nextGaussian() * 0.2);
                    }
                    adapted.block().setWeight(n, adapted.manager().create(v, shape));
                });
                assertThat(adapted.block().adapterShapes()).hasSize(2);
                adapted.block().effectiveWeights().forEach((n, w) -> merged.block().setWeight(n, w.duplicate()));
                float[][] expected = merged.logits(prompt);
                float[][] actual = adapted.logits(prompt);
                try (LanguageModel base = LanguageModel.load(Fixtures.model("llama3"))) {
                    assertThat(Fixtures.maxAbsDiff(base.logits(prompt)[prompt.length - 1], expected[prompt.length - 1]))
                            .as("the adapter acts").isGreaterThan(1e-3);
                }
                for (int t = 0; t < prompt.length; t++) {
                    assertThat(Fixtures.maxAbsDiff(actual[t], expected[t])).as("%s, position %d", target, t)
                            .isLessThan(1e-4);
                }
            }
        }
    }

    @Test
    void adapterTargetingUnknownModulesIsRejectedWithTheAvailableNames() throws Exception {
        Path bad = tmp.resolve("bad");
        Files.createDirectories(bad);
        Files.copy(Fixtures.model("llama3_lora").resolve("adapter_model.safetensors"), bad.resolve("adapter_model.safetensors"));
        Files.writeString(bad.resolve("adapter_config.json"),
                "{\"peft_type\":\"LORA\",\"r\":4,\"lora_alpha\":8,\"target_modules\":[\"c_attn\"]}");
        assertThatThrownBy(() -> LanguageModel.from(Fixtures.model("llama3")).adapter(bad).load())
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("adapter_config.json")
                .hasMessageContaining("c_attn")
                .hasMessageContaining("q_proj");
    }

    @Test
    void doraAdaptersAreRefusedByName() throws Exception {
        Path bad = tmp.resolve("dora");
        Files.createDirectories(bad);
        Files.writeString(bad.resolve("adapter_config.json"),
                "{\"peft_type\":\"LORA\",\"r\":4,\"lora_alpha\":8,\"use_dora\":true,\"target_modules\":[\"q_proj\"]}");
        assertThatThrownBy(() -> LanguageModel.from(Fixtures.model("llama3")).adapter(bad).load())
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("use_dora");
    }
}
