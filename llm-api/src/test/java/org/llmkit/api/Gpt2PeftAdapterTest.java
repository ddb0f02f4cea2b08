package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.io.SafeTensorsWriter;
import org.llmkit.api.io.TensorDType;

/**
 * LoRA adapters on GPT-2's checkpoint modules, as PEFT makes them for {@code GPT2LMHeadModel}: {@code c_attn} (q, k
 * and v fused: one {@code lora_A [r, C]}, one {@code lora_B [3C, r]}), {@code attn.c_proj}, {@code mlp.c_fc} and
 * {@code mlp.c_proj}, saved with {@code fan_in_fan_out = true} (their base weights are Conv1D's {@code [in, out]};
 * the adapters keep {@code nn.Linear}'s layout). An adapter written here in PEFT's names must act as the weights
 * {@code W + alpha/r · B A} would, {@code B}'s row blocks going to q, k and v in that order.
 */
class Gpt2PeftAdapterTest {
    private static final int RANK = 4;
    private static final double ALPHA = 8;
    private static final int[] PROMPT = {1, 17, 42, 99, 3, 250, 7, 64};

    @TempDir
    Path tmp;

    @Test
    void peftAdapterOnGpt2ModulesActsAsTheMergedWeights() throws Exception {
        Path adapter = writePeftAdapter(tmp.resolve("adapter"));
        try (LanguageModel withAdapter = LanguageModel.from(Fixtures.model("gpt2")).adapter(adapter).load();
                LanguageModel merged = LanguageModel.load(Fixtures.model("gpt2"))) {
            assertThat(withAdapter.adapter()).hasValueSatisfying(c ->
                    assertThat(c.targetModules()).containsExactly("c_attn", "c_proj", "c_fc"));
            assertThat(withAdapter.block().adapterShapes())
                    .containsEntry("transformer.h.0.attn.c_attn.lora_A.weight", new Shape(RANK, 96))
                    .containsEntry("transformer.h.0.attn.c_attn.lora_B.weight", new Shape(3 * 96, RANK))
                    .containsEntry("transformer.h.2.mlp.c_proj.lora_A.weight", new Shape(RANK, 4 * 96))
                    .hasSize(2 * 4 * 3);
            foldByHand(merged);
            float[][] expected = merged.logits(PROMPT);
            float[][] actual = withAdapter.logits(PROMPT);
            float[][] base;
            try (LanguageModel plain = LanguageModel.load(Fixtures.model("gpt2"))) {
                base = plain.logits(PROMPT);
            }
            for (int t = 0; t < PROMPT.length; t++) {
                assertThat(Fixtures.maxAbsDiff(actual[t], expected[t])).as("position %d", t).isLessThan(1e-4);
                assertThat(Fixtures.maxAbsDiff(actual[t], base[t])).as("the adapter acts").isGreaterThan(1e-2);
            }
            // the composed layers (the training path's) give the same logits as the scripted ones above
            try (LanguageModel composed = LanguageModel.from(Fixtures.model("gpt2")).adapter(adapter)
                    .fusedKernels(false).load()) {
                float[][] c = composed.logits(PROMPT);
                for (int t = 0; t < PROMPT.length; t++) {
                    assertThat(Fixtures.maxAbsDiff(c[t], expected[t])).as("composed, position %d", t).isLessThan(1e-4);
                }
            }
            withAdapter.mergeAdapter();
            assertThat(withAdapter.block().parameters().keySet()).noneMatch(n -> n.contains("lora_"));
            float[][] afterMerge = withAdapter.logits(PROMPT);
            for (int t = 0; t < PROMPT.length; t++) {
                assertThat(Fixtures.maxAbsDiff(afterMerge[t], expected[t])).isLessThan(1e-4);
            }
        }
    }

    @Test
    void savedAdapterKeepsPeftsNamesShapesAndConfigAndLoadsBack() throws Exception {
        Path adapter = writePeftAdapter(tmp.resolve("adapter"));
        Path saved = tmp.resolve("saved");
        float[][] before;
        try (LanguageModel m = LanguageModel.from(Fixtures.model("gpt2")).adapter(adapter).load()) {
            before = m.logits(PROMPT);
            m.saveAdapter(saved);
        }
        JsonNode config = new ObjectMapper().readTree(saved.resolve("adapter_config.json").toFile());
        assertThat(config.get("fan_in_fan_out").asBoolean()).isTrue();
        assertThat(config.get("target_modules").toString()).isEqualTo("[\"c_attn\",\"c_proj\",\"c_fc\"]");
        String header = safetensorsHeader(saved.resolve("adapter_model.safetensors"));
        assertThat(header)
                .contains("\"base_model.model.transformer.h.1.attn.c_attn.lora_B.weight\":{\"dtype\":\"F32\","
                        + "\"shape\":[288,4]")
                .contains("\"base_model.model.transformer.h.1.attn.c_proj.lora_A.weight\"")
                .contains("\"base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight\":{\"dtype\":\"F32\","
                        + "\"shape\":[384,4]")
                .doesNotContain("q_proj");
        try (LanguageModel m = LanguageModel.from(Fixtures.model("gpt2")).adapter(saved).load()) {
            float[][] after = m.logits(PROMPT);
            for (int t = 0; t < PROMPT.length; t++) {
                assertThat(after[t]).containsExactly(before[t]);
            }
        }
    }

    @Test
    void anAdapterOnSomeLayersOnlyRunsOnTheComposedLayersWithTheSameResult() throws Exception {
        try (LanguageModel some = LanguageModel.load(Fixtures.model("gpt2"));
                LanguageModel merged = LanguageModel.load(Fixtures.model("gpt2"))) {
            // PEFT's suffix match: only layer 1's c_attn
            some.block().attachLora(LoraConfig.of(RANK, ALPHA, "h.1.attn.c_attn"));
            assertThat(some.block().adapterShapes()).containsOnlyKeys("transformer.h.1.attn.c_attn.lora_A.weight",
                    "transformer.h.1.attn.c_attn.lora_B.weight");
            some.block().setWeight("transformer.h.1.attn.c_attn.lora_A.weight",
                    some.manager().create(values(RANK * 96, 1), new Shape(RANK, 96)));
            some.block().setWeight("transformer.h.1.attn.c_attn.lora_B.weight",
                    some.manager().create(values(3 * 96 * RANK, 101), new Shape(3 * 96, RANK)));
            NDArray qkv = delta(merged.manager(), 96, 3 * 96, 1, ALPHA / RANK);
            String[] proj = {"q_proj", "k_proj", "v_proj"};
            for (int k = 0; k < 3; k++) {
                fold(merged, "model.layers.1.self_attn." + proj[k], qkv.get(new NDIndex("{}:{}", k * 96, (k + 1) * 96)));
            }
            float[][] expected = merged.logits(PROMPT);
            float[][] actual = some.logits(PROMPT);
            for (int t = 0; t < PROMPT.length; t++) {
                assertThat(Fixtures.maxAbsDiff(actual[t], expected[t])).as("position %d", t).isLessThan(1e-4);
            }
        }
    }

    @Test
    void targetingAFusedModuleAndOneOfItsProjectionsIsRefused() throws Exception {
        try (LanguageModel m = LanguageModel.load(Fixtures.model("gpt2"))) {
            assertThatThrownBy(() -> m.block().attachLora(LoraConfig.of(RANK, ALPHA, "c_attn", "q_proj")))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("model.layers.0.self_attn.q_proj")
                    .hasMessageContaining("transformer.h.0.attn.c_attn");
            assertThatThrownBy(() -> m.block().attachLora(LoraConfig.of(RANK, ALPHA, "c_nothing")))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("c_attn").hasMessageContaining("c_fc").hasMessageContaining("q_proj");
        }
    }

    @Test
    void fanInFanOutIsStillRefusedWhereTheCheckpointHasNoConv1dModules() throws Exception {
        Path adapter = Files.createDirectories(tmp.resolve("llama-adapter"));
        Files.writeString(adapter.resolve("adapter_config.json"), "{\"peft_type\":\"LORA\",\"r\":4,\"lora_alpha\":8,"
                + "\"target_modules\":[\"q_proj\"],\"fan_in_fan_out\":true}");
        assertThatThrownBy(() -> LanguageModel.from(Fixtures.model("llama3")).adapter(adapter).load())
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("fan_in_fan_out");
    }

    // the adapter in PEFT's layout for this 3-layer GPT-2 (C = 96, inner 384), deterministic values
    private static Path writePeftAdapter(Path dir) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\":\"LORA\",\"task_type\":\"CAUSAL_LM\","
                + "\"r\":" + RANK + ",\"lora_alpha\":" + ALPHA + ",\"lora_dropout\":0.0,\"fan_in_fan_out\":true,"
                + "\"bias\":\"none\",\"target_modules\":[\"c_attn\",\"c_proj\",\"c_fc\"]}");
        SafeTensorsWriter w = SafeTensorsWriter.create();
        int c = 96;
        for (int i = 0; i < 3; i++) {
            String h = "base_model.model.transformer.h." + i + ".";
            add(w, h + "attn.c_attn", c, 3 * c, i * 10 + 1);
            add(w, h + "attn.c_proj", c, c, i * 10 + 2);
            add(w, h + "mlp.c_fc", c, 4 * c, i * 10 + 3);
            add(w, h + "mlp.c_proj", 4 * c, c, i * 10 + 4);
        }
        w.writeTo(dir.resolve("adapter_model.safetensors"));
        return dir;
    }

    private static void add(SafeTensorsWriter w, String module, int in, int out, int seed) {
        w.add(module + ".lora_A.weight", TensorDType.F32, new long[] {RANK, in}, bytes(values(RANK * in, seed)));
        w.add(module + ".lora_B.weight", TensorDType.F32, new long[] {out, RANK}, bytes(values(out * RANK, seed + 100)));
    }

    private static float[] values(int n, int seed) {
        float[] v = new float[n];
        for (int k = 0; k < n; k++) {
            v[k] = (float) (0.2 * Math.sin(seed * 7.1 + k * 0.37));
        }
        return v;
    }

    private static ByteBuffer bytes(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.flip();
    }

    // W += alpha/r · B A on the skeleton's weights (nn.Linear layout), from the values the adapter file holds,
    // c_attn's B split into q, k and v row blocks
    private static void foldByHand(LanguageModel model) {
        double scale = ALPHA / RANK;
        int c = 96;
        for (int i = 0; i < 3; i++) {
            String l = "model.layers." + i + ".";
            NDArray qkv = delta(model.manager(), c, 3 * c, i * 10 + 1, scale);
            String[] proj = {"q_proj", "k_proj", "v_proj"};
            for (int k = 0; k < 3; k++) {
                fold(model, l + "self_attn." + proj[k], qkv.get(new NDIndex("{}:{}", k * c, (k + 1) * c)));
            }
            fold(model, l + "self_attn.o_proj", delta(model.manager(), c, c, i * 10 + 2, scale));
            fold(model, l + "mlp.up_proj", delta(model.manager(), c, 4 * c, i * 10 + 3, scale));
            fold(model, l + "mlp.down_proj", delta(model.manager(), 4 * c, c, i * 10 + 4, scale));
        }
    }

    private static NDArray delta(NDManager m, int in, int out, int seed, double scale) {
        NDArray a = m.create(values(RANK * in, seed), new Shape(RANK, in));
        NDArray b = m.create(values(out * RANK, seed + 100), new Shape(out, RANK));
        return b.matMul(a).mul(scale);
    }

    private static void fold(LanguageModel model, String projection, NDArray delta) {
        NDArray w = model.block().parameters().get(projection + ".weight").getArray();
        model.block().setWeight(projection + ".weight", w.add(delta));
    }

    private static String safetensorsHeader(Path file) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        long length = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return new String(bytes, 8, (int) length, java.nio.charset.StandardCharsets.UTF_8);
    }
}
