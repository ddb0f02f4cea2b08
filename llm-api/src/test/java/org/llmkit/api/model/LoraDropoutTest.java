package org.llmkit.api.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.llmkit.api.Fixtures;
import org.llmkit.api.LanguageModel;

/** LoRA dropout drops only in training forwards, from seeded masks, and only on the LoRA branch. */
class LoraDropoutTest {
    private static final int[][] BATCH = {
        {1, 17, 42, 99, 3, 250, 7, 64, 12, 5, 300, 8},
        {9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 11, 12},
    };
    private static LanguageModel model;

    @BeforeAll
    static void load() throws Exception {
        model = LanguageModel.from(Fixtures.hfTiny().resolve("llama3"))
                .adapter(Fixtures.hfTiny().resolve("llama3_lora")).load();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static double loss(ForwardOptions options) {
        try (NDManager m = model.manager().newSubManager()) {
            return Losses.causalLm(m, model.block(), BATCH, options).getFloat();
        }
    }

    // the same forward with autograd recording, as a training step runs it
    private static double trainingLoss(ForwardOptions options) {
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            return loss(options);
        }
    }

    @Test
    void zeroDropoutEqualsThePlainForwardBitForBit() {
        double plain = trainingLoss(ForwardOptions.DEFAULT);
        assertThat(trainingLoss(ForwardOptions.DEFAULT.withLoraDropout(0, 5))).isEqualTo(plain);
        try (NoGradient off = NoGradient.scope()) {
            assertThat(plain).isEqualTo(loss(ForwardOptions.DEFAULT));
        }
    }

    @Test
    void trainingForwardDropsFromSeededMasksWhileEvaluationNeverDrops() {
        ForwardOptions half = ForwardOptions.DEFAULT.withLoraDropout(0.5, 7);
        double evaluation;
        try (NoGradient off = NoGradient.scope()) {
            evaluation = loss(ForwardOptions.DEFAULT);
            assertThat(loss(half)).as("no gradient recording: no dropout").isEqualTo(evaluation);
            assertThat(loss(half)).isEqualTo(evaluation);
        }
        double training = trainingLoss(half);
        assertThat(training).as("training loss with dropout").isNotEqualTo(evaluation);
        assertThat(trainingLoss(half)).as("same seed, same masks").isEqualTo(training);
        assertThat(trainingLoss(half.withLoraDropout(0.5, 8))).as("another seed").isNotEqualTo(training);
        System.out.printf("LoRA dropout 0.5: training loss %.6f, evaluation loss %.6f%n", training, evaluation);
    }

    @Test
    void dropoutTouchesOnlyTheLoraBranch() throws Exception {
        // without an adapter there is no branch to drop: the loss equals the plain one even at p = 0.9
        try (LanguageModel base = LanguageModel.load(Fixtures.hfTiny().resolve("llama3"))) {
            ToDoubleFunction<ForwardOptions> lossOfBase = o -> {
                try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector();
                        NDManager m = base.manager().newSubManager()) {
                    return Losses.causalLm(m, base.block(), BATCH, o).getFloat();
                }
            };
            assertThat(lossOfBase.applyAsDouble(ForwardOptions.DEFAULT.withLoraDropout(0.9, 1)))
                    .isEqualTo(lossOfBase.applyAsDouble(ForwardOptions.DEFAULT));
        }
    }
}
