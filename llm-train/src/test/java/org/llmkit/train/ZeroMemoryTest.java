package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.ModelConfig;
import org.llmkit.data.TokenDataset;

/**
 * Memory really drops: the bytes each rank holds (counted from the arrays it owns) match {@link MemoryEstimate}
 * per stage, and activation checkpointing lowers the peak activation bytes of a 12-layer model.
 */
class ZeroMemoryTest {
    private static final TokenDataset DATA = Corpus.sequences(8, 12, 4);

    @ParameterizedTest(name = "stage {0}, {1} ranks, {2}, offload {3}")
    @CsvSource({
        "0, 2, FP32, false", "1, 2, FP32, false", "2, 2, FP32, false", "3, 2, FP32, false",
        "0, 4, FP32, false", "1, 4, FP32, false", "2, 4, FP32, false", "3, 4, FP32, false",
        "1, 4, FP32, true", "2, 4, FP32, true", "3, 4, FP32, true",
        "0, 4, FP16, false", "1, 4, FP16, false", "2, 4, FP16, false", "3, 4, FP16, false", "2, 4, FP16, true"})
    void eachRankHoldsWhatTheEstimateSays(int stage, int ranks, String precision, boolean offload) throws Exception {
        try (LanguageModel m = Corpus.tinyModel(2)) {
            FineTuner t = FineTuner.of(m).devices(ranks).zeroStage(stage).batchSize(4).maxSteps(1);
            MemoryEstimate e = MemoryEstimate.of(m.config()).zeroStage(stage).devices(ranks);
            if (precision.equals("FP16")) {
                t = t.fp16();
                e = e.fp16();
            }
            if (offload) {
                t = t.offloadOptimizer();
                e = e.offloadOptimizer();
            }
            MemoryEstimate.Result expected = e.estimate();
            try (ShardedTrainer trainer = ShardedTrainer.prepare(m, t.options(), null)) {
                trainer.step(List.<int[][]>of(new int[][] {DATA.get(0), DATA.get(1), DATA.get(2), DATA.get(3)}), 1e-3, 1);
                for (Rank r : trainer.ranks()) {
                    String what = "rank " + r.index() + " ";
                    assertThat(r.parameterBytes()).as(what + "parameters")
                            .isCloseTo(expected.parameterBytesPerDevice(), org.assertj.core.data.Percentage.withPercentage(5));
                    assertThat(r.gradientBytes()).as(what + "gradients")
                            .isCloseTo(expected.gradientBytesPerDevice(), org.assertj.core.data.Percentage.withPercentage(5));
                    if (offload) {
                        assertThat(r.optimizerBytes()).as(what + "optimizer state on the device").isZero();
                        assertThat(r.hostBytes() * ranks).as(what + "optimizer state in host memory")
                                .isCloseTo(expected.hostBytes(), org.assertj.core.data.Percentage.withPercentage(5));
                    } else {
                        assertThat(r.optimizerBytes()).as(what + "optimizer state")
                                .isCloseTo(expected.optimizerBytesPerDevice(), org.assertj.core.data.Percentage.withPercentage(5));
                    }
                }
                Rank first = trainer.ranks().get(0);
                System.out.printf("stage %d, %d ranks, %s, offload %s: rank 0 holds params %d, grads %d, optimizer %d"
                        + " (+%d host) bytes; estimate %d, %d, %d (+%d host over all ranks)%n", stage, ranks, precision,
                        offload, first.parameterBytes(), first.gradientBytes(), first.optimizerBytes(), first.hostBytes(),
                        expected.parameterBytesPerDevice(), expected.gradientBytesPerDevice(),
                        expected.optimizerBytesPerDevice(), expected.hostBytes());
            }
        }
    }

    @Test
    void offloadedParametersLeaveNoWeightsOnTheDevice() throws Exception {
        try (LanguageModel m = Corpus.tinyModel(2)) {
            FineTuner t = FineTuner.of(m).devices(2).zeroStage(3).offloadParameters().offloadOptimizer().batchSize(4);
            MemoryEstimate.Result expected = MemoryEstimate.of(m.config()).zeroStage(3).devices(2).offloadParameters()
                    .offloadOptimizer().estimate();
            try (ShardedTrainer trainer = ShardedTrainer.prepare(m, t.options(), null)) {
                trainer.step(List.<int[][]>of(new int[][] {DATA.get(0), DATA.get(1)}), 1e-3, 1);
                long host = 0;
                for (Rank r : trainer.ranks()) {
                    assertThat(r.parameterBytes()).isZero();
                    assertThat(r.optimizerBytes()).isZero();
                    host += r.hostBytes() + r.hostParameterBytes();
                }
                assertThat(expected.parameterBytesPerDevice()).isZero();
                assertThat(host).isCloseTo(expected.hostBytes(), org.assertj.core.data.Percentage.withPercentage(5));
            }
        }
    }

    @Test
    void activationCheckpointingLowersPeakActivationMemoryOfATwelveLayerModel() throws Exception {
        ModelConfig c = ModelConfig.builder("llama").vocabSize(Corpus.VOCAB).hiddenSize(64).intermediateSize(176)
                .numLayers(12).numHeads(4).numKvHeads(2).maxPositionEmbeddings(128).build();
        TokenDataset data = Corpus.sequences(4, 96, 8);
        int[][] batch = {data.get(0), data.get(1), data.get(2), data.get(3)};
        long stored;
        long recomputed;
        double storedLoss;
        double recomputedLoss;
        try (LanguageModel m = LanguageModel.create(c, 5)) {
            ActivationMeter meter = new ActivationMeter();
            try (ShardedTrainer t = ShardedTrainer.prepare(m, FineTuner.of(m).options(), meter)) {
                storedLoss = t.step(List.<int[][]>of(batch), 1e-3, 1).loss();
            }
            stored = meter.peakBytes();
        }
        try (LanguageModel m = LanguageModel.create(c, 5)) {
            ActivationMeter meter = new ActivationMeter();
            try (ShardedTrainer t = ShardedTrainer.prepare(m, FineTuner.of(m).activationCheckpointing().options(),
                    meter)) {
                recomputedLoss = t.step(List.<int[][]>of(batch), 1e-3, 1).loss();
            }
            recomputed = meter.peakBytes();
        }
        MemoryEstimate e = MemoryEstimate.of(c).microBatch(4, 96);
        System.out.printf("12 layers, 4 x 96 tokens: peak activation bytes %,d stored vs %,d checkpointed (%.0f%%);"
                + " estimate %,d vs %,d%n", stored, recomputed, 100.0 * recomputed / stored,
                e.estimate().activationBytesPerDevice(), e.activationCheckpointing().estimate().activationBytesPerDevice());
        assertThat(recomputedLoss).isCloseTo(storedLoss, org.assertj.core.api.Assertions.within(1e-5 * storedLoss));
        assertThat(recomputed).isLessThan(stored / 3);
    }
}
