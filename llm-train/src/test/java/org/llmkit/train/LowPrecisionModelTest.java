package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.nn.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Precision;
import org.llmkit.data.TokenDataset;

/**
 * Models loaded in FP16 or BF16 train with fp16()/bf16(): they compute in their own type while the trainer
 * keeps FP32 master weights and optimizer state, cast back into the model after every step.
 */
class LowPrecisionModelTest {
    private static final TokenDataset DATA = Corpus.sequences(32, 16, 5);
    @TempDir
    static Path dir;
    private static Path base;
    private static List<Double> fp32;

    @BeforeAll
    static void saveBaseAndTrainTheFp32Reference() throws Exception {
        base = dir.resolve("base");
        try (LanguageModel m = Corpus.tinyModel(9)) {
            m.save(base);
        }
        try (LanguageModel m = LanguageModel.load(base)) {
            fp32 = settings(FineTuner.of(m)).train(DATA).losses();
        }
    }

    private static FineTuner settings(FineTuner t) {
        return t.learningRate(1e-2).warmupSteps(5).batchSize(8).maxSteps(40).weightDecay(0.01).seed(1);
    }

    private static LanguageModel load(Precision p) throws Exception {
        return LanguageModel.from(base).precision(p).load();
    }

    @Test
    void bf16ModelTrainsWithBf16AndTracksFp32() throws Exception {
        try (LanguageModel m = load(Precision.BF16)) {
            float[] before = weights(m).get("model.layers.0.mlp.down_proj.weight");
            TrainingResult r = settings(FineTuner.of(m)).bf16().train(DATA);
            assertThat(m.precision()).isEqualTo(Precision.BF16);
            assertThat(weights(m).get("model.layers.0.mlp.down_proj.weight")).isNotEqualTo(before);
            double gap = maxRelativeGap(r.losses());
            System.out.printf("BF16-loaded model, bf16(): max relative loss gap to FP32 %.2e%n", gap);
            assertThat(r.skippedSteps()).isEmpty();
            assertThat(r.finalLoss()).isLessThan(r.losses().get(0) / 2);
            assertThat(gap).isLessThan(2e-2);
        }
    }

    @Test
    void fp16ModelTrainsWithFp16AndTracksFp32() throws Exception {
        try (LanguageModel m = load(Precision.FP16)) {
            TrainingResult r = settings(FineTuner.of(m)).fp16().train(DATA);
            assertThat(m.precision()).isEqualTo(Precision.FP16);
            double gap = maxRelativeGap(r.losses());
            System.out.printf("FP16-loaded model, fp16(): max relative loss gap to FP32 %.2e%n", gap);
            assertThat(r.skippedSteps()).isEmpty();
            assertThat(gap).isLessThan(5e-3);
        }
    }

    @Test
    void loraOnABf16ModelTrainsTheAdapterAndLeavesTheBaseBitIdentical() throws Exception {
        try (LanguageModel m = load(Precision.BF16)) {
            Map<String, float[]> before = weights(m);
            TrainingResult r = FineTuner.of(m).bf16().lora(8, 16, "q_proj", "v_proj").learningRate(3e-2).batchSize(8)
                    .maxSteps(20).train(DATA);
            assertThat(r.finalLoss()).isLessThan(r.losses().get(0) - 0.1);
            Map<String, float[]> after = weights(m);
            before.forEach((k, v) -> assertThat(after.get(k)).as(k).isEqualTo(v));
            Path adapter = dir.resolve("bf16-adapter");
            m.saveAdapter(adapter);
            assertThat(Files.size(adapter.resolve("adapter_model.safetensors"))).isPositive();
        }
    }

    @Test
    void bf16ModelResumesExactlyFromItsFp32Masters(@TempDir Path checkpoints) throws Exception {
        List<Double> straight;
        try (LanguageModel m = load(Precision.BF16)) {
            straight = settings(FineTuner.of(m)).bf16().maxSteps(12).train(DATA).losses();
        }
        try (LanguageModel m = load(Precision.BF16)) {
            FineTuner killedAtSix = settings(FineTuner.of(m)).bf16().maxSteps(12).checkpointEvery(6, checkpoints)
                    .listener(new TrainingListener() {
                        @Override
                        public void onStep(StepMetrics s) {
                            if (s.step() == 6) {
                                throw new IllegalStateException("simulated kill");
                            }
                        }
                    });
            assertThatThrownBy(() -> killedAtSix.train(DATA)).hasMessage("simulated kill");
        }
        Path cp = checkpoints.resolve("checkpoint-00000006");
        assertThat(cp.resolve(MasterFile.NAME)).isRegularFile();
        FineTuner resumed = FineTuner.resume(cp);
        try (LanguageModel m = resumed.model()) {
            assertThat(m.precision()).isEqualTo(Precision.BF16);
            List<Double> continued = resumed.train(DATA).losses();
            for (int i = 0; i < 12; i++) {
                assertThat(continued.get(i)).as("step %d", i + 1).isCloseTo(straight.get(i), within(1e-6));
            }
        }
    }

    @Test
    void aLowPrecisionModelNeedsTheMatchingMixedPrecisionOption() throws Exception {
        try (LanguageModel m = load(Precision.BF16)) {
            assertThatThrownBy(() -> FineTuner.of(m).maxSteps(1).train(DATA))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("BF16")
                    .hasMessageContaining("bf16()");
            assertThatThrownBy(() -> FineTuner.of(m).fp16().maxSteps(1).train(DATA))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bf16()");
        }
    }

    private static double maxRelativeGap(List<Double> losses) {
        double gap = 0;
        for (int i = 0; i < fp32.size(); i++) {
            gap = Math.max(gap, Math.abs(losses.get(i) - fp32.get(i)) / fp32.get(i));
        }
        return gap;
    }

    // every base weight, widened to float32
    private static Map<String, float[]> weights(LanguageModel m) {
        Map<String, float[]> out = new HashMap<>();
        for (Map.Entry<String, Parameter> e : m.block().parameters().entrySet()) {
            if (!e.getKey().contains(".lora_")) {
                out.put(e.getKey(), m.block().tensorType().float32(e.getValue().getArray()).toFloatArray());
            }
        }
        return out;
    }
}
