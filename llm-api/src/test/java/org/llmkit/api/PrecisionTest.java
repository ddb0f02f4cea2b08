package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llmkit.api.io.SafeTensorsFile;
import org.llmkit.api.io.TensorDType;

/**
 * The fused kernels agree with their composed twin, and FP16/BF16 weights compute the reference function
 * within their format's precision, without ever taking DJL's JVM-aborting bfloat16 paths.
 */
class PrecisionTest {
    @TempDir
    Path tmp;

    private static double maxDiffToReference(LanguageModel m, String name) {
        JsonNode ref = Fixtures.reference(name);
        double max = 0;
        for (int s = 0; s < 2; s++) {
            float[][] logits = m.logits(Fixtures.ints(ref.get("input_ids").get(s)));
            for (int t = 0; t < logits.length; t++) {
                max = Math.max(max, Fixtures.maxAbsDiff(logits[t], Fixtures.floats(ref.get("logits").get(s).get(t))));
            }
        }
        return max;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "mistral", "qwen2", "gpt2"})
    void fusedKernelsAgreeWithComposedOps(String name) throws Exception {
        int[] ids = Fixtures.ints(Fixtures.reference(name).get("input_ids").get(0));
        try (LanguageModel fused = LanguageModel.load(Fixtures.model(name));
                LanguageModel composed = LanguageModel.from(Fixtures.model(name)).fusedKernels(false).load()) {
            assertThat(fused.block().fused()).isTrue();
            assertThat(composed.block().fused()).isFalse();
            float[][] a = fused.logits(ids);
            float[][] b = composed.logits(ids);
            for (int t = 0; t < ids.length; t++) {
                assertThat(Fixtures.maxAbsDiff(a[t], b[t])).isLessThanOrEqualTo(1e-5);
            }
            assertThat(maxDiffToReference(composed, name)).isLessThanOrEqualTo(1e-4);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen2", "gpt2"})
    void fp16WeightsStayCloseToTheFloat32Reference(String name) throws Exception {
        try (LanguageModel m = LanguageModel.from(Fixtures.model(name)).precision(Precision.FP16).load()) {
            assertThat(m.precision()).isEqualTo(Precision.FP16);
            assertThat(maxDiffToReference(m, name)).isLessThanOrEqualTo(1e-2);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen2", "gpt2"})
    void bf16WeightsStayCloseToTheFloat32Reference(String name) throws Exception {
        try (LanguageModel m = LanguageModel.from(Fixtures.model(name)).precision(Precision.BF16).load()) {
            assertThat(m.precision()).isEqualTo(Precision.BF16);
            double diff = maxDiffToReference(m, name);
            assertThat(diff).isLessThanOrEqualTo(5e-2).isGreaterThan(0);   // really computed in bf16, not f32
            int[] prompt = Fixtures.ints(Fixtures.reference(name).get("input_ids").get(0));
            assertThat(m.generate(prompt).maxNewTokens(4).greedy().ignoreEos().tokens()).hasSize(prompt.length + 4);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void halfPrecisionLossBackpropagatesToTheWeightsThroughEveryCast(boolean fused) throws Exception {
        // DJL's toType records no autograd history; every cast in the forward must go through torch's own
        try (LanguageModel m = LanguageModel.from(Fixtures.model("qwen2")).precision(Precision.FP16)
                .fusedKernels(fused).load()) {
            ai.djl.ndarray.NDArray weight = m.block().parameters().get("model.layers.0.mlp.down_proj.weight").getArray();
            weight.setRequiresGradient(true);
            int[][] batch = {Fixtures.ints(Fixtures.reference("qwen2").get("input_ids").get(0))};
            try (ai.djl.ndarray.NDManager step = m.manager().newSubManager();
                    ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getEngine("PyTorch").newGradientCollector()) {
                ai.djl.ndarray.NDArray loss = org.llmkit.api.model.Losses.causalLm(step, m.block(), batch);
                gc.backward(loss);
                float norm = m.block().tensorType().float32(weight.getGradient()).abs().sum().getFloat();
                assertThat(norm).isGreaterThan(0f).isFinite();
            }
        }
    }

    @Test
    void bf16ModelSavesBf16TensorsThatReloadExactly() throws Exception {
        Path out = tmp.resolve("bf16");
        int[] ids = Fixtures.ints(Fixtures.reference("llama3").get("input_ids").get(1));
        float[][] before;
        try (LanguageModel m = LanguageModel.from(Fixtures.model("llama3")).precision(Precision.BF16).load()) {
            before = m.logits(ids);
            m.save(out);
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(out.resolve("model.safetensors"))) {
            assertThat(f.info("model.layers.0.self_attn.q_proj.weight").dtype()).isEqualTo(TensorDType.BF16);
        }
        try (LanguageModel bf16 = LanguageModel.from(out).precision(Precision.BF16).load();
                LanguageModel widened = LanguageModel.load(out);
                LanguageModel composedBf16 = LanguageModel.from(out).precision(Precision.BF16).fusedKernels(false).load()) {
            assertThat(composedBf16.block().fused()).as("bf16 always fuses").isTrue();
            float[][] again = bf16.logits(ids);
            for (int t = 0; t < ids.length; t++) {
                assertThat(again[t]).containsExactly(before[t]);
            }
            // the same bf16 weights widened to float32 compute the bf16 model's function more precisely
            float[][] f32 = widened.logits(ids);
            for (int t = 0; t < ids.length; t++) {
                assertThat(Fixtures.maxAbsDiff(f32[t], before[t])).isLessThanOrEqualTo(5e-2);
            }
        }
    }
}
