package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.TokenDataset;

/** Gradient accumulation and gradient clearing: 2 micro-batches of 1 equal one batch of 2. */
class AccumulationTest {

    @Test
    void twoMicroBatchesOfOneGiveTheGradientOfOneBatchOfTwoAndStepsDoNotLeakGradients() throws Exception {
        JsonNode ref = Fixtures.reference("llama3");
        int[][] batch = Fixtures.inputIds(ref);
        try (LanguageModel m = LanguageModel.load(Fixtures.hfTiny().resolve("llama3"))) {
            // lr so small that the weights barely move: every step should see the same gradient
            TrainingResult r = FineTuner.of(m).learningRate(1e-12).gradientClipping(0).batchSize(1)
                    .gradientAccumulation(2).maxSteps(2).shuffle(false).schedule(Schedule.CONSTANT)
                    .train(TokenDataset.of(batch));
            double norm = ref.get("grad_norm_step0").asDouble();
            assertThat(r.gradientNorms().get(0)).isCloseTo(norm, within(1e-4 * norm));
            assertThat(r.gradientNorms().get(1)).isCloseTo(norm, within(1e-4 * norm));
            assertThat(r.losses().get(0)).isCloseTo(ref.get("loss_step0").asDouble(), within(1e-5));
        }
    }

    @Test
    void clippingScalesTheUpdateButReportsTheNormBeforeClipping() throws Exception {
        JsonNode ref = Fixtures.reference("llama3");
        try (LanguageModel m = LanguageModel.load(Fixtures.hfTiny().resolve("llama3"))) {
            TrainingResult r = FineTuner.of(m).gradientClipping(1.0).batchSize(2).maxSteps(1).shuffle(false)
                    .train(TokenDataset.of(Fixtures.inputIds(ref)));
            assertThat(r.gradientNorms().get(0)).isCloseTo(ref.get("grad_norm_step0").asDouble(), within(1e-3));
        }
    }
}
