package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import org.junit.jupiter.api.Test;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.ModelConfig;
import org.llmkit.data.TokenDataset;

/** Memory strategies refuse what they cannot do, before any work, naming the option and its range. */
class ZeroBadInputTest {
    private static final TokenDataset DATA = Corpus.sequences(8, 8, 1);

    @Test
    void stageOutsideZeroToThreeIsRefused() {
        try (LanguageModel m = Corpus.tinyModel(1)) {
            assertThatThrownBy(() -> FineTuner.of(m).zeroStage(4)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("zeroStage must be 0, 1, 2 or 3, was 4");
            assertThatThrownBy(() -> FineTuner.of(m).zeroStage(-1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("was -1");
        }
    }

    @Test
    void offloadParametersNeedsStageThree() {
        try (LanguageModel m = Corpus.tinyModel(1)) {
            assertThatThrownBy(() -> FineTuner.of(m).devices(2).zeroStage(2).offloadParameters().train(DATA))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("offloadParameters()").hasMessageContaining("zeroStage(3)")
                    .hasMessageContaining("zeroStage is 2");
        }
    }

    @Test
    void moreRanksThanParametersToShardIsRefused() {
        ModelConfig tiny = ModelConfig.builder("llama").vocabSize(8).hiddenSize(4).intermediateSize(4).numLayers(1)
                .numHeads(1).numKvHeads(1).maxPositionEmbeddings(16).build();
        long psi = tiny.parameterCount();
        try (LanguageModel m = LanguageModel.create(tiny, 1)) {
            int ranks = (int) psi + 1;
            assertThatThrownBy(() -> FineTuner.of(m).devices(ranks).zeroStage(1)
                    .train(TokenDataset.of(new int[][] {{1, 2, 3}}, 8)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("devices(" + ranks + ")").hasMessageContaining(psi + " trainable parameters");
        }
    }

    @Test
    void devicesTheEngineDoesNotHaveAreRefused() {
        try (LanguageModel m = Corpus.tinyModel(1)) {
            assertThatThrownBy(() -> FineTuner.of(m).devices(0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("devices must be >= 1");
            assertThatThrownBy(() -> FineTuner.of(m).devices(Device.cpu(), Device.gpu(7)).train(DATA))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gpu(7)")
                    .hasMessageContaining("GPU(s)");
        }
    }

    @Test
    void theFineTunersEstimateUsesItsOwnSettings() {
        try (LanguageModel m = Corpus.tinyModel(1)) {
            MemoryEstimate.Result fromTuner = FineTuner.of(m).fp16().devices(4).zeroStage(2).offloadOptimizer()
                    .batchSize(8).activationCheckpointing().memoryEstimate(16).estimate();
            MemoryEstimate.Result direct = MemoryEstimate.of(m.config()).fp16().devices(4).zeroStage(2)
                    .offloadOptimizer().microBatch(2, 16).activationCheckpointing().estimate();
            assertThat(fromTuner).isEqualTo(direct);
            assertThat(fromTuner.toTable()).contains("2Ψ/4").contains("offloaded");
        }
    }
}
