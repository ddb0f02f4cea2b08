package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.TokenDataset;

/**
 * One step of our AdamW on the fixture batch equals one {@code torch.optim.AdamW} step in transformers:
 * same gradient norm before the step and same loss after it, within 1e-4 relative.
 */
class TorchAdamWParityTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "qwen2", "gpt2", "llama3_lora"})
    void oneStepMatchesTorchAdamW(String name) throws Exception {
        JsonNode ref = Fixtures.reference(name);
        int[][] batch = Fixtures.inputIds(ref);
        LanguageModel.Loader loader = name.endsWith("_lora")
                ? LanguageModel.from(Fixtures.hfTiny().resolve("llama3")).adapter(Fixtures.hfTiny().resolve(name))
                : LanguageModel.from(Fixtures.hfTiny().resolve(name));
        try (LanguageModel m = loader.load()) {
            TrainingResult r = FineTuner.of(m).learningRate(1e-3).adamBetas(0.9, 0.999).adamEpsilon(1e-8)
                    .weightDecay(0.01).decayBiasAndNorm(true).schedule(Schedule.CONSTANT).warmupSteps(0)
                    .gradientClipping(0).batchSize(2).maxSteps(1).shuffle(false)
                    .train(TokenDataset.of(batch));
            double norm = ref.get("grad_norm_step0").asDouble();
            double lossBefore = ref.get("loss_step0").asDouble();
            double lossAfter = ref.get("loss_after_one_adamw_step").asDouble();
            assertThat(r.losses().get(0)).isCloseTo(lossBefore, within(1e-5 * lossBefore));
            assertThat(r.gradientNorms().get(0)).isCloseTo(norm, within(1e-4 * norm));
            assertThat(m.loss(batch)).isCloseTo(lossAfter, within(1e-4 * lossAfter));
        }
    }
}
