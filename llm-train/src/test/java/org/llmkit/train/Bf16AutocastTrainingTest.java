package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Precision;
import org.llmkit.api.model.TrainingGemm;
import org.llmkit.data.TokenDataset;

/**
 * {@link FineTuner#bf16()} on an FP32 model whose training GEMMs run on OpenBLAS: the model trains itself under BF16
 * autocast (bf16 products, float32 elsewhere, no low-precision twin), its losses track FP32's, LoRA leaves the base
 * bit-identical, and a killed run resumes exactly.
 */
class Bf16AutocastTrainingTest {
    private static final TokenDataset DATA = Corpus.sequences(32, 16, 5);

    @Test
    void bf16LossesTrackFp32WithinTwoPercentUnderAutocastOnTheModelItself() throws Exception {
        List<Double> fp32;
        try (LanguageModel m = onOpenBlas(Corpus.tinyModel(9))) {
            fp32 = settings(FineTuner.of(m)).train(DATA).losses();
        }
        List<Boolean> autocasting = new ArrayList<>();
        List<Double> bf16;
        try (LanguageModel m = onOpenBlas(Corpus.tinyModel(9))) {
            TrainingResult r = settings(FineTuner.of(m)).bf16().listener(new TrainingListener() {
                @Override
                public void onStep(StepMetrics s) {
                    autocasting.add(m.block().autocastOpen());
                }
            }).train(DATA);
            assertThat(r.skippedSteps()).isEmpty();
            bf16 = r.losses();
            assertThat(m.block().autocastOpen()).as("closed after the run").isFalse();
            assertThat(m.precision()).isEqualTo(Precision.FP32);
        }
        assertThat(autocasting).hasSize(40).containsOnly(true);
        assertThat(fp32.get(fp32.size() - 1)).isLessThan(fp32.get(0) / 2);
        double gap = 0;
        for (int i = 0; i < fp32.size(); i++) {
            gap = Math.max(gap, Math.abs(bf16.get(i) - fp32.get(i)) / fp32.get(i));
        }
        System.out.printf("bf16 autocast vs fp32: max relative loss gap %.2e%n", gap);
        assertThat(gap).isLessThan(2e-2).isGreaterThan(0);
    }

    @Test
    void bf16LoraUnderAutocastTrainsTheAdapterAndLeavesTheBaseBitIdentical() throws Exception {
        try (LanguageModel m = onOpenBlas(Corpus.tinyModel(11))) {
            Map<String, float[]> base = Corpus.baseWeights(m);
            List<Boolean> autocasting = new ArrayList<>();
            TrainingResult r = FineTuner.of(m).bf16().lora(8, 16, "q_proj", "v_proj").learningRate(3e-2)
                    .batchSize(8).maxSteps(20).listener(new TrainingListener() {
                        @Override
                        public void onStep(StepMetrics s) {
                            autocasting.add(m.block().autocastOpen());
                        }
                    }).train(DATA);
            assertThat(autocasting).containsOnly(true);
            assertThat(r.finalLoss()).isLessThan(r.losses().get(0) - 0.1);
            Map<String, float[]> now = Corpus.baseWeights(m);
            base.forEach((k, v) -> assertThat(now.get(k)).as(k).isEqualTo(v));
        }
    }

    @Test
    void aKilledBf16RunUnderAutocastResumesExactly(@TempDir Path checkpoints) throws Exception {
        String old = System.getProperty(TrainingGemm.PROPERTY);
        // the resumed model is loaded from the checkpoint: it takes its kernel from the property
        System.setProperty(TrainingGemm.PROPERTY, "openblas");
        try {
            List<Double> straight;
            try (LanguageModel m = Corpus.tinyModel(9)) {
                straight = settings(FineTuner.of(m)).bf16().maxSteps(12).train(DATA).losses();
            }
            try (LanguageModel m = Corpus.tinyModel(9)) {
                FineTuner killedAtSix = settings(FineTuner.of(m)).bf16().maxSteps(12)
                        .checkpointEvery(6, checkpoints).listener(new TrainingListener() {
                            @Override
                            public void onStep(StepMetrics s) {
                                if (s.step() == 6) {
                                    throw new IllegalStateException("simulated kill");
                                }
                            }
                        });
                assertThatThrownBy(() -> killedAtSix.train(DATA)).hasMessage("simulated kill");
                assertThat(m.block().autocastOpen()).as("closed by the failed run").isFalse();
            }
            FineTuner resumed = FineTuner.resume(checkpoints.resolve("checkpoint-00000006"));
            try (LanguageModel m = resumed.model()) {
                List<Double> continued = resumed.train(DATA).losses();
                for (int i = 0; i < 12; i++) {
                    assertThat(continued.get(i)).as("step %d", i + 1).isCloseTo(straight.get(i), within(1e-6));
                }
            }
        } finally {
            if (old == null) {
                System.clearProperty(TrainingGemm.PROPERTY);
            } else {
                System.setProperty(TrainingGemm.PROPERTY, old);
            }
        }
    }

    private static LanguageModel onOpenBlas(LanguageModel m) {
        m.block().trainingGemm(TrainingGemm.OPENBLAS);
        return m;
    }

    private static FineTuner settings(FineTuner t) {
        return t.learningRate(1e-2).warmupSteps(5).batchSize(8).maxSteps(40).weightDecay(0.01).seed(1);
    }
}
