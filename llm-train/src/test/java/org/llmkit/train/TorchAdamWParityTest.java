package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.llmkit.api.model.TrainingGemm;
import org.llmkit.api.LanguageModel;
import org.llmkit.data.TokenDataset;

/**
 * One step of our AdamW on the fixture batch equals one {@code torch.optim.AdamW} step in transformers:
 * same gradient norm before the step and same loss after it, within 1e-4 relative, with the linear layers on
 * libtorch's kernels (oneDNN under this module's malloc settings) and on OpenBLAS outside autograd.
 */
class TorchAdamWParityTest {

    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({"llama3, LIBTORCH", "qwen2, LIBTORCH", "gpt2, LIBTORCH", "llama3_lora, LIBTORCH",
        "llama3, OPENBLAS", "qwen2, OPENBLAS", "gpt2, OPENBLAS", "llama3_lora, OPENBLAS"})
    void oneStepMatchesTorchAdamW(String name, TrainingGemm gemm) throws Exception {
        JsonNode ref = Fixtures.reference(name);
        int[][] batch = Fixtures.inputIds(ref);
        LanguageModel.Loader loader = name.endsWith("_lora")
                ? LanguageModel.from(Fixtures.hfTiny().resolve("llama3")).adapter(Fixtures.hfTiny().resolve(name))
                : LanguageModel.from(Fixtures.hfTiny().resolve(name));
        try (LanguageModel m = loader.load()) {
            m.block().trainingGemm(gemm);
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
            assertThat(m.block().trainsOnOpenBlas()).isEqualTo(gemm == TrainingGemm.OPENBLAS);
        }
    }
}
