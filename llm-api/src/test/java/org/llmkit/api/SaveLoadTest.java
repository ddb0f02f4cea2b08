package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Saving writes a HuggingFace folder that loads back to the same function. */
class SaveLoadTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama2", "mistral", "qwen2", "gpt2"})
    void saveThenLoadGivesIdenticalLogits(String name) throws Exception {
        int[] ids = Fixtures.ints(Fixtures.reference(name).get("input_ids").get(1));
        Path out = tmp.resolve(name);
        float[][] before;
        try (LanguageModel m = LanguageModel.load(Fixtures.model(name))) {
            before = m.logits(ids);
            m.save(out);
        }
        assertThat(out.resolve("config.json")).exists();
        assertThat(out.resolve("model.safetensors")).exists();
        assertThat(out.resolve("generation_config.json")).exists();
        try (LanguageModel m = LanguageModel.load(out)) {
            assertThat(m.config()).isEqualTo(ModelConfig.load(Fixtures.model(name).resolve("config.json")));
            float[][] after = m.logits(ids);
            for (int t = 0; t < ids.length; t++) {
                assertThat(after[t]).containsExactly(before[t]);
            }
        }
        try (var stream = Files.list(out)) {
            assertThat(stream.map(p -> p.getFileName().toString())).noneMatch(f -> f.contains("tmp"));
        }
    }

    @Test
    void shardedCheckpointWithIndexLoadsLikeTheSingleFile() throws Exception {
        Path dir = tmp.resolve("sharded");
        Files.createDirectories(dir);
        Files.copy(Fixtures.model("llama3").resolve("config.json"), dir.resolve("config.json"));
        java.util.Map<String, String> weightMap = new java.util.LinkedHashMap<>();
        long total = 0;
        try (var single = org.llmkit.api.io.SafeTensorsFile.open(Fixtures.model("llama3").resolve("model.safetensors"))) {
            List<String> names = List.copyOf(single.names());
            var first = org.llmkit.api.io.SafeTensorsWriter.create();
            var second = org.llmkit.api.io.SafeTensorsWriter.create();
            for (int i = 0; i < names.size(); i++) {
                var info = single.info(names.get(i));
                boolean early = i < names.size() / 2;
                (early ? first : second).add(names.get(i), info.dtype(), info.shape(), single.map(names.get(i)));
                weightMap.put(names.get(i), early ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
                total += info.byteLength();
            }
            first.writeTo(dir.resolve("model-00001-of-00002.safetensors"));
            second.writeTo(dir.resolve("model-00002-of-00002.safetensors"));
        }
        org.llmkit.api.io.SafeTensorsWriter.writeIndex(dir, weightMap, total);
        int[] ids = Fixtures.ints(Fixtures.reference("llama3").get("input_ids").get(0));
        try (LanguageModel sharded = LanguageModel.load(dir); LanguageModel single = LanguageModel.load(Fixtures.model("llama3"))) {
            float[][] a = sharded.logits(ids);
            float[][] b = single.logits(ids);
            for (int t = 0; t < ids.length; t++) {
                assertThat(a[t]).containsExactly(b[t]);
            }
        }
    }

    @Test
    void fp16CheckpointLoadsAtFloat32() throws Exception {
        Path out = tmp.resolve("fp16");
        int[] ids = Fixtures.ints(Fixtures.reference("qwen2").get("input_ids").get(0));
        float[][] half;
        try (LanguageModel m = LanguageModel.from(Fixtures.model("qwen2")).precision(Precision.FP16).load()) {
            half = m.logits(ids);
            m.save(out);
        }
        try (var f = org.llmkit.api.io.SafeTensorsFile.open(out.resolve("model.safetensors"))) {
            assertThat(f.info("model.embed_tokens.weight").dtype()).isEqualTo(org.llmkit.api.io.TensorDType.F16);
        }
        try (LanguageModel widened = LanguageModel.load(out)) {
            assertThat(widened.precision()).isEqualTo(Precision.FP32);
            float[][] full = widened.logits(ids);
            for (int t = 0; t < ids.length; t++) {
                assertThat(Fixtures.maxAbsDiff(full[t], half[t])).isLessThanOrEqualTo(1e-2);
            }
        }
    }

    @Test
    void gpt2IsSavedWithItsOwnNamesAndConv1dLayout() throws Exception {
        Path out = tmp.resolve("gpt2");
        try (LanguageModel m = LanguageModel.load(Fixtures.model("gpt2"))) {
            m.save(out);
        }
        try (var saved = org.llmkit.api.io.SafeTensorsFile.open(out.resolve("model.safetensors"));
                var original = org.llmkit.api.io.SafeTensorsFile.open(Fixtures.model("gpt2").resolve("model.safetensors"))) {
            for (String n : List.of("transformer.h.0.attn.c_attn.weight", "transformer.h.2.mlp.c_fc.weight")) {
                assertThat(saved.info(n).shape()).containsExactly(original.info(n).shape());
                assertThat(saved.map(n)).isEqualTo(original.map(n));
            }
        }
    }

    @Test
    void createdModelIsReproducibleFromItsSeedAndSavable() throws Exception {
        ModelConfig config = ModelConfig.builder("llama").vocabSize(300).hiddenSize(64).intermediateSize(128)
                .numLayers(2).numHeads(4).numKvHeads(2).build();
        int[] ids = {1, 2, 3, 4, 5};
        try (LanguageModel a = LanguageModel.create(config, 42); LanguageModel b = LanguageModel.create(config, 42);
                LanguageModel c = LanguageModel.create(config, 43)) {
            assertThat(a.logits(ids)[4]).containsExactly(b.logits(ids)[4]);
            assertThat(a.logits(ids)[4]).isNotEqualTo(c.logits(ids)[4]);
            assertThat(a.loss(new int[][] {ids})).isCloseTo(Math.log(300), org.assertj.core.data.Offset.offset(0.1));
            a.save(tmp.resolve("created"));
            try (LanguageModel reloaded = LanguageModel.load(tmp.resolve("created"))) {
                assertThat(reloaded.logits(ids)[4]).containsExactly(a.logits(ids)[4]);
            }
        }
    }
}
