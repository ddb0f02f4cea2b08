package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Precision;
import org.llmkit.data.TokenDataset;

/** FP16 with dynamic loss scaling and BF16: FP32 master weights, skipped overflow steps, losses near FP32's. */
class MixedPrecisionTest {
    private static final TokenDataset DATA = Corpus.sequences(32, 16, 5);

    @Test
    void fp16OverflowSkipsTheStepHalvesTheScaleAndLeavesWeightsUnchanged() throws Exception {
        try (LanguageModel m = Corpus.tinyModel(3)) {
            Map<String, float[]> before = Corpus.baseWeights(m);
            List<StepMetrics> steps = new ArrayList<>();
            List<Map<String, float[]>> afterStep = new ArrayList<>();
            // 2^40 times the loss overflows FP16's range (65504) in the backward pass
            TrainingResult r = FineTuner.of(m).fp16().lossScaling(Math.pow(2, 40), 2000).learningRate(1e-2)
                    .batchSize(8).maxSteps(30).listener(new TrainingListener() {
                        @Override
                        public void onStep(StepMetrics s) {
                            steps.add(s);
                            afterStep.add(Corpus.baseWeights(m));
                        }
                    }).train(DATA);
            assertThat(steps.get(0).skipped()).isTrue();
            assertThat(steps.get(0).lossScale()).isEqualTo(Math.pow(2, 40));
            assertThat(Double.isFinite(steps.get(0).gradientNorm())).as("inf or NaN norm").isFalse();
            assertThat(steps.get(1).lossScale()).isEqualTo(Math.pow(2, 39));
            afterStep.get(0).forEach((k, v) -> assertThat(v).as(k).isEqualTo(before.get(k)));
            for (int i = 1; i < steps.size(); i++) {
                double expected = steps.get(i - 1).lossScale() * (steps.get(i - 1).skipped() ? 0.5 : 1);
                assertThat(steps.get(i).lossScale()).as("scale of step %d", i + 1).isEqualTo(expected);
            }
            int firstGood = 0;
            while (firstGood < steps.size() && steps.get(firstGood).skipped()) {
                firstGood++;
            }
            // measured: steps 1-21 overflow, step 22 (scale 2^19) is the first finite one
            assertThat(firstGood).as("a finite step once the scale has backed off").isBetween(1, 25);
            assertThat(r.skippedSteps()).containsExactlyElementsOf(
                    steps.stream().filter(StepMetrics::skipped).map(StepMetrics::step).toList());
            assertThat(afterStep.get(firstGood).get("model.norm.weight"))
                    .isNotEqualTo(afterStep.get(firstGood - 1).get("model.norm.weight"));
            System.out.printf("fp16 overflow: steps 1-%d skipped, first finite scale %.0f%n", firstGood,
                    steps.get(firstGood).lossScale());
        }
    }

    @Test
    void fp16LossScaleDoublesAfterEachGrowthIntervalOfGoodSteps() throws Exception {
        try (LanguageModel m = Corpus.tinyModel(3)) {
            List<Double> scales = new ArrayList<>();
            TrainingResult r = FineTuner.of(m).fp16().lossScaling(1024, 3).learningRate(1e-3).batchSize(8).maxSteps(7)
                    .listener(new TrainingListener() {
                        @Override
                        public void onStep(StepMetrics s) {
                            scales.add(s.lossScale());
                        }
                    }).train(DATA);
            assertThat(r.skippedSteps()).isEmpty();
            assertThat(scales).containsExactly(1024.0, 1024.0, 1024.0, 2048.0, 2048.0, 2048.0, 4096.0);
        }
    }

    @Test
    void fp16LossesTrackFp32WithinPointTwoPercent() throws Exception {
        double gap = maxRelativeGap(FineTuner::fp16);
        System.out.printf("fp16 vs fp32: max relative loss gap %.2e%n", gap);
        assertThat(gap).isLessThan(2e-3);   // measured 4.7e-4
    }

    @Test
    void bf16LossesTrackFp32WithinTwoPercentWithoutAbortingTheJvm() throws Exception {
        double gap = maxRelativeGap(FineTuner::bf16);
        System.out.printf("bf16 vs fp32: max relative loss gap %.2e%n", gap);
        assertThat(gap).isLessThan(2e-2);   // measured 5.9e-3
    }

    @Test
    void bf16LoraTrainsTheAdapterAndLeavesTheFp32BaseBitIdentical() throws Exception {
        try (LanguageModel m = Corpus.tinyModel(11)) {
            Map<String, float[]> base = Corpus.baseWeights(m);
            TrainingResult r = FineTuner.of(m).bf16().lora(8, 16, "q_proj", "v_proj").learningRate(3e-2).batchSize(8)
                    .maxSteps(20).train(DATA);
            assertThat(m.precision()).isEqualTo(Precision.FP32);
            assertThat(r.finalLoss()).isLessThan(r.losses().get(0) - 0.1);
            Map<String, float[]> now = Corpus.baseWeights(m);
            base.forEach((k, v) -> assertThat(now.get(k)).as(k).isEqualTo(v));
        }
    }

    // trains two copies of one tiny model for 40 steps, FP32 and mixed, and compares their losses step by step
    private static double maxRelativeGap(UnaryOperator<FineTuner> precision) throws Exception {
        List<Double> fp32;
        List<Double> mixed;
        try (LanguageModel m = Corpus.tinyModel(9)) {
            fp32 = settings(FineTuner.of(m)).train(DATA).losses();
        }
        try (LanguageModel m = Corpus.tinyModel(9)) {
            TrainingResult r = precision.apply(settings(FineTuner.of(m))).train(DATA);
            assertThat(r.skippedSteps()).isEmpty();
            mixed = r.losses();
        }
        assertThat(fp32.get(fp32.size() - 1)).isLessThan(fp32.get(0) / 2);   // the run learns something
        double gap = 0;
        for (int i = 0; i < fp32.size(); i++) {
            gap = Math.max(gap, Math.abs(mixed.get(i) - fp32.get(i)) / fp32.get(i));
        }
        return gap;
    }

    private static FineTuner settings(FineTuner t) {
        return t.learningRate(1e-2).warmupSteps(5).batchSize(8).maxSteps(40).weightDecay(0.01).seed(1);
    }
}
