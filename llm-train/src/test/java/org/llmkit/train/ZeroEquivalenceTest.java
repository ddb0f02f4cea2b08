package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.TokenDataset;

/**
 * Every memory strategy trains the same model: ZeRO stages 0-3 over 1, 2 and 4 logical CPU ranks, with and
 * without optimizer offload and activation checkpointing, follow the single-device loss trajectory over 10
 * steps of the same global batch (FP32, AdamW with weight decay, clipping and a linear schedule).
 */
class ZeroEquivalenceTest {
    private static final TokenDataset DATA = Corpus.sequences(40, 12, 9);
    private static List<Double> reference;
    private static float[] referenceWeights;

    private static FineTuner configured(LanguageModel m) {
        // batch 5 does not divide over 2 or 4 ranks: slices of unequal size are weighted by their tokens
        return FineTuner.of(m).learningRate(3e-3).weightDecay(0.01).gradientClipping(0.5).batchSize(5)
                .gradientAccumulation(2).maxSteps(10).shuffle(true).seed(3);
    }

    @BeforeAll
    static void singleDevice() throws Exception {
        try (LanguageModel m = Corpus.tinyModel(11)) {
            reference = configured(m).train(DATA).losses();
            referenceWeights = m.block().parameters().get("model.layers.1.mlp.down_proj.weight").getArray()
                    .toFloatArray();
        }
    }

    @Test
    void evaluationsDuringAShardedRunSeeTheTrainedWeights() throws Exception {
        TokenDataset validation = Corpus.sequences(6, 12, 77);
        List<Evaluation> expected;
        try (LanguageModel m = Corpus.tinyModel(11)) {
            expected = configured(m).evaluateEvery(4, validation).train(DATA).evaluations();
        }
        try (LanguageModel m = Corpus.tinyModel(11)) {
            List<Evaluation> sharded = configured(m).devices(2).zeroStage(3).offloadOptimizer()
                    .evaluateEvery(4, validation).train(DATA).evaluations();
            assertThat(sharded).extracting(Evaluation::step).containsExactly(0L, 4L, 8L, 10L);
            for (int i = 0; i < sharded.size(); i++) {
                assertThat(sharded.get(i).loss()).as("evaluation after step %d", sharded.get(i).step())
                        .isCloseTo(expected.get(i).loss(), org.assertj.core.api.Assertions.within(1e-5 * expected.get(i).loss()));
            }
            assertThat(sharded.get(3).loss()).isLessThan(sharded.get(0).loss());
        }
    }

    static Stream<Arguments> strategies() {
        List<Arguments> all = new ArrayList<>();
        for (int stage = 0; stage <= 3; stage++) {
            for (int ranks : new int[] {1, 2, 4}) {
                for (boolean offload : new boolean[] {false, true}) {
                    for (boolean checkpointing : new boolean[] {false, true}) {
                        all.add(Arguments.of(stage, ranks, offload, checkpointing));
                    }
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "stage {0}, {1} rank(s), offload {2}, checkpointing {3}")
    @MethodSource("strategies")
    void lossTrajectoryMatchesSingleDeviceTraining(int stage, int ranks, boolean offload, boolean checkpointing)
            throws Exception {
        try (LanguageModel m = Corpus.tinyModel(11)) {
            FineTuner t = configured(m).devices(ranks).zeroStage(stage);
            if (offload) {
                t = t.offloadOptimizer();
            }
            if (checkpointing) {
                t = t.activationCheckpointing();
            }
            List<Double> losses = t.train(DATA).losses();
            assertThat(losses).hasSize(10);
            for (int i = 0; i < losses.size(); i++) {
                double expected = reference.get(i);
                assertThat(Math.abs(losses.get(i) - expected) / Math.abs(expected)).as("step %d: %s vs %s", i + 1,
                        losses.get(i), expected).isLessThanOrEqualTo(1e-5);
            }
            // the trained weights came home to the caller's model
            float[] w = m.block().parameters().get("model.layers.1.mlp.down_proj.weight").getArray().toFloatArray();
            for (int i = 0; i < w.length; i++) {
                assertThat((double) w[i]).isCloseTo(referenceWeights[i],
                        org.assertj.core.api.Assertions.within(1e-5 + 1e-4 * Math.abs(referenceWeights[i])));
            }
        }
    }
}
